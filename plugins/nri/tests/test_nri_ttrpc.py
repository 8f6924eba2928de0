"""ttrpc framing and NRI's multiplexer, against the published test vector and a fake runtime."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from runcore_nri import ttrpc
from runcore_nri._pb.nri.v1alpha1 import api_pb2
from runcore_nri._pb.ttrpc import ttrpc_pb2
from runcore_nri.service import register_request


def test_register_plugin_matches_the_reference_vector():
    payload = register_request("probe", "50")
    assert payload.hex() == "0a0570726f626512023530"
    request = ttrpc_pb2.Request(
        service="nri.pkg.api.v1alpha1.Runtime", method="RegisterPlugin", payload=payload
    )
    data = request.SerializeToString()
    assert len(data) == 59
    assert data[:2] == bytes.fromhex("0a1c") and data[-13:-11] == bytes.fromhex("1a0b")
    frame = ttrpc.encode_frame(1, ttrpc.TYPE_REQUEST, data)
    assert frame[:10].hex() == "0000003b000000010100"
    (chunk,) = ttrpc.mux_chunks(ttrpc.RUNTIME_CONN, frame)
    assert chunk[:8].hex() == "0000000200000045"


def test_configure_response_and_error_status_vectors():
    assert api_pb2.ConfigureResponse(events=0x28).SerializeToString().hex() == "1028"
    response = ttrpc_pb2.Response(status=ttrpc_pb2.Status(code=9, message="probe refuses"))
    assert response.SerializeToString().hex() == "0a110809120d" + b"probe refuses".hex()


def test_large_messages_are_split_into_4096_byte_chunks():
    frame = ttrpc.encode_frame(3, ttrpc.TYPE_RESPONSE, b"x" * 10_000)
    chunks = ttrpc.mux_chunks(ttrpc.PLUGIN_CONN, frame)
    assert [struct.unpack(">II", c[:8]) for c in chunks] == [(1, 4096), (1, 4096), (1, 1818)]
    assert b"".join(c[8:] for c in chunks) == frame


def test_frame_reader_reassembles_across_arbitrary_boundaries():
    frames = [ttrpc.encode_frame(i, ttrpc.TYPE_REQUEST, bytes([i]) * i) for i in (1, 3, 5, 7)]
    stream = b"".join(frames)
    for step in (1, 3, 9, 64):
        reader = ttrpc.FrameReader()
        got = []
        for start in range(0, len(stream), step):
            got += reader.feed(stream[start : start + step])
        assert [(s, t, data) for s, t, _f, data in got] == [
            (i, 1, bytes([i]) * i) for i in (1, 3, 5, 7)
        ]


def test_oversized_frame_is_a_protocol_error():
    reader = ttrpc.FrameReader()
    with pytest.raises(ttrpc.TtrpcError):
        reader.feed(struct.pack(">IIBB", ttrpc.MAX_MESSAGE + 1, 1, 1, 0))


class FakeRuntime:
    """The runtime's end of a trunk: reads mux chunks, answers RegisterPlugin, then calls
    Configure on the plugin *before* sending the RegisterPlugin reply (as containerd may)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.readers = {1: ttrpc.FrameReader(), 2: ttrpc.FrameReader()}
        self.chunk_sizes = []

    def read_frame(self, conn_wanted):
        while True:
            header = self.sock.recv(8, socket.MSG_WAITALL)
            conn, length = struct.unpack(">II", header)
            self.chunk_sizes.append(length)
            data = self.sock.recv(length, socket.MSG_WAITALL) if length else b""
            frames = self.readers[conn].feed(data)
            if frames:
                assert conn == conn_wanted
                return frames[0]

    def send(self, conn, frame, chunk=7):
        for piece in ttrpc.mux_chunks(conn, frame, limit=chunk):
            self.sock.sendall(piece)


def test_trunk_registers_while_serving_configure_first():
    ours, theirs = socket.socketpair()
    seen = []

    def handler(service, method, payload, timeout):
        seen.append((service, method, timeout))
        return api_pb2.ConfigureResponse(events=8).SerializeToString(), ttrpc.OK, ""

    trunk = ttrpc.Trunk(ours, handler)
    trunk.start()
    runtime = FakeRuntime(theirs)
    result = {}
    caller = threading.Thread(
        target=lambda: result.setdefault(
            "r",
            trunk.call(
                "nri.pkg.api.v1alpha1.Runtime", "RegisterPlugin", register_request("t", "10"), 5
            ),
        )
    )
    caller.start()
    stream, kind, _flags, body = runtime.read_frame(2)
    assert (stream, kind) == (1, ttrpc.TYPE_REQUEST)
    assert ttrpc_pb2.Request.FromString(body).method == "RegisterPlugin"
    configure = ttrpc_pb2.Request(
        service="nri.pkg.api.v1alpha1.Plugin",
        method="Configure",
        payload=api_pb2.ConfigureRequest(runtime_name="fake").SerializeToString(),
        timeout_nano=2_000_000_000,
    )
    runtime.send(1, ttrpc.encode_frame(1, ttrpc.TYPE_REQUEST, configure.SerializeToString()))
    stream, kind, _flags, body = runtime.read_frame(1)
    assert (stream, kind) == (1, ttrpc.TYPE_RESPONSE)
    answer = ttrpc_pb2.Response.FromString(body)
    assert not answer.HasField("status")
    assert api_pb2.ConfigureResponse.FromString(answer.payload).events == 8
    assert seen == [("nri.pkg.api.v1alpha1.Plugin", "Configure", 2.0)]
    runtime.send(2, ttrpc.encode_frame(1, ttrpc.TYPE_RESPONSE, b""))  # Go's empty success
    caller.join(5)
    assert result == {"r": b""}
    theirs.close()
    assert trunk.closed.wait(5)
    assert trunk.close_reason == "connection closed by the runtime"


def test_trunk_error_status_and_handler_errors():
    ours, theirs = socket.socketpair()
    trunk = ttrpc.Trunk(ours, lambda *a: (b"", ttrpc.FAILED_PRECONDITION, "runcore: no"))
    trunk.start()
    runtime = FakeRuntime(theirs)
    runtime.send(
        1,
        ttrpc.encode_frame(
            5, ttrpc.TYPE_REQUEST, ttrpc_pb2.Request(service="s", method="m").SerializeToString()
        ),
    )
    _stream, _kind, _flags, body = runtime.read_frame(1)
    status = ttrpc_pb2.Response.FromString(body).status
    assert (status.code, status.message) == (9, "runcore: no")
    errors = []

    def call():
        try:
            trunk.call("s", "m", b"", 5)
        except ttrpc.TtrpcError as exc:
            errors.append(exc)

    failing = threading.Thread(target=call)
    failing.start()
    runtime.read_frame(2)
    runtime.send(
        2,
        ttrpc.encode_frame(
            1,
            ttrpc.TYPE_RESPONSE,
            ttrpc_pb2.Response(status=ttrpc_pb2.Status(code=3, message="bad")).SerializeToString(),
        ),
    )
    failing.join(5)
    assert [(e.code, e.message) for e in errors] == [(3, "bad")]
    trunk.close()
    with pytest.raises(ttrpc.TtrpcError):
        trunk.call("s", "m", b"", 1)
