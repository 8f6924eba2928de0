"""ttrpc over NRI's connection multiplexer, on one unix socket (the *trunk*).

Written here rather than taken from a library because no Python ttrpc implementation
exists; the protocol is small and fully described by its public specification:

* The trunk carries chunks ``conn id (u32 BE) | length (u32 BE) | bytes``; each logical
  connection is a byte stream (a ttrpc message may span chunks, a chunk may end inside a
  header). containerd hands every chunk whole to a 4096-byte buffered reader, so this
  side never sends chunks larger than :data:`MAX_CHUNK`.
* On each logical connection ttrpc frames are ``length (u32) | stream id (u32) | type
  (u8) | flags (u8) | data``, data being a protobuf ``Request`` or ``Response``. Unary
  calls only: the client uses odd, increasing stream ids; the answer comes on the same id.
* Connection 1 carries the plugin's service (containerd is the client), connection 2
  the runtime's service (this side is the client).

:class:`Trunk` runs one reader thread; requests from containerd are answered from
their own threads, so a slow handler never stalls the reader (containerd may send
``Configure`` before it answers ``RegisterPlugin``).
"""

from __future__ import annotations

import socket
import struct
import threading
from typing import Callable, Dict, List, Optional, Tuple

#: Logical connection that carries the plugin's service (runtime → plugin requests).
PLUGIN_CONN = 1
#: Logical connection that carries the runtime's service (plugin → runtime requests).
RUNTIME_CONN = 2
#: Largest chunk containerd's demultiplexer accepts (its reader buffers 4096 bytes).
MAX_CHUNK = 4096
#: Largest ttrpc message (ttrpc's own limit).
MAX_MESSAGE = 4 << 20

TYPE_REQUEST = 0x01
TYPE_RESPONSE = 0x02

_MUX = struct.Struct(">II")
_FRAME = struct.Struct(">IIBB")

# gRPC status codes used here.
OK = 0
DEADLINE_EXCEEDED = 4
FAILED_PRECONDITION = 9
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
INVALID_ARGUMENT = 3


class TtrpcError(Exception):
    """A call failed: a non-OK status from the other side, or the trunk closed."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"rpc error: code = {code} desc = {message}")
        self.code = code
        self.message = message


def encode_frame(stream_id: int, msg_type: int, data: bytes, flags: int = 0) -> bytes:
    """One ttrpc frame: header plus ``data``."""
    return _FRAME.pack(len(data), stream_id, msg_type, flags) + data


def mux_chunks(conn_id: int, data: bytes, limit: int = MAX_CHUNK) -> List[bytes]:
    """``data`` for logical connection ``conn_id`` as trunk chunks of at most ``limit`` bytes."""
    out = []
    for start in range(0, len(data), limit):
        piece = data[start : start + limit]
        out.append(_MUX.pack(conn_id, len(piece)) + piece)
    return out or [_MUX.pack(conn_id, 0)]


class FrameReader:
    """Reassembles ttrpc frames from the byte stream of one logical connection."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> List[Tuple[int, int, int, bytes]]:
        """Add bytes; return every complete ``(stream id, type, flags, data)``.

        :raises TtrpcError: a frame announces more than :data:`MAX_MESSAGE` bytes.
        """
        self._buf += data
        frames = []
        while len(self._buf) >= _FRAME.size:
            length, stream_id, msg_type, flags = _FRAME.unpack_from(self._buf)
            if length > MAX_MESSAGE:
                raise TtrpcError(8, f"message length {length} exceeds maximum {MAX_MESSAGE}")
            end = _FRAME.size + length
            if len(self._buf) < end:
                break
            frames.append((stream_id, msg_type, flags, bytes(self._buf[_FRAME.size : end])))
            del self._buf[:end]
        return frames


def _pb() -> object:
    from runcore_nri._pb.ttrpc import ttrpc_pb2

    return ttrpc_pb2


Handler = Callable[[str, str, bytes, float], Tuple[bytes, int, str]]
"""``handler(service, method, payload, timeout_s) -> (payload, code, message)``."""


class Trunk:
    """A connected NRI trunk: serves the plugin side, calls the runtime side.

    :param sock: a connected unix stream socket.
    :param handler: answers runtime requests; called from a fresh thread per request.
    """

    def __init__(self, sock: socket.socket, handler: Handler) -> None:
        self.sock = sock
        self.handler = handler
        self.closed = threading.Event()
        self.close_reason = ""
        self._write_lock = threading.Lock()
        self._calls_lock = threading.Lock()
        self._next_stream = 1
        self._pending: Dict[int, Tuple[threading.Event, List[object]]] = {}
        self._readers = {PLUGIN_CONN: FrameReader(), RUNTIME_CONN: FrameReader()}
        self._thread = threading.Thread(target=self._read_loop, name="nri-trunk", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # ------------------------------------------------------------------ writing
    def _send(self, conn_id: int, frame: bytes) -> None:
        with self._write_lock:
            for chunk in mux_chunks(conn_id, frame):
                self.sock.sendall(chunk)

    def call(self, service: str, method: str, payload: bytes, timeout: float) -> bytes:
        """A unary call to the runtime (connection 2); returns the response payload.

        :raises TtrpcError: error status, timeout or closed trunk.
        """
        pb = _pb()
        done = threading.Event()
        box: List[object] = []
        with self._calls_lock:
            stream_id = self._next_stream
            self._next_stream += 2
            self._pending[stream_id] = (done, box)
        request = pb.Request(
            service=service,
            method=method,
            payload=payload,  # type: ignore[attr-defined]
            timeout_nano=int(timeout * 1e9),
        )
        try:
            self._send(
                RUNTIME_CONN, encode_frame(stream_id, TYPE_REQUEST, request.SerializeToString())
            )
        except OSError as exc:
            self._pending.pop(stream_id, None)
            raise TtrpcError(UNAVAILABLE, f"trunk closed: {exc}") from None
        if not done.wait(timeout):
            self._pending.pop(stream_id, None)
            raise TtrpcError(DEADLINE_EXCEEDED, f"{method}: no answer within {timeout:g}s")
        result = box[0]
        if isinstance(result, TtrpcError):
            raise result
        response = pb.Response.FromString(result)  # type: ignore[attr-defined]
        if response.HasField("status") and response.status.code != OK:
            raise TtrpcError(response.status.code, response.status.message)
        return bytes(response.payload)

    def _answer(self, stream_id: int, payload: bytes, code: int, message: str) -> None:
        pb = _pb()
        response = pb.Response()  # type: ignore[attr-defined]
        if code != OK:
            response.status.code = code
            response.status.message = message
        elif payload:
            response.payload = payload
        try:
            self._send(
                PLUGIN_CONN, encode_frame(stream_id, TYPE_RESPONSE, response.SerializeToString())
            )
        except OSError:
            self.close("write failed")

    # ------------------------------------------------------------------ reading
    def _recv_exact(self, n: int) -> Optional[bytes]:
        buf = bytearray()
        while len(buf) < n:
            try:
                part = self.sock.recv(n - len(buf))
            except OSError:
                return None
            if not part:
                return None
            buf += part
        return bytes(buf)

    def _read_loop(self) -> None:
        try:
            while not self.closed.is_set():
                header = self._recv_exact(_MUX.size)
                if header is None:
                    self.close("connection closed by the runtime")
                    return
                conn_id, length = _MUX.unpack(header)
                data = self._recv_exact(length) if length else b""
                if data is None:
                    self.close("connection closed by the runtime")
                    return
                reader = self._readers.get(conn_id)
                if reader is None:
                    continue  # a connection this side never uses
                for stream_id, msg_type, _flags, body in reader.feed(data):
                    if conn_id == PLUGIN_CONN and msg_type == TYPE_REQUEST:
                        threading.Thread(
                            target=self._serve,
                            args=(stream_id, body),
                            name=f"nri-req-{stream_id}",
                            daemon=True,
                        ).start()
                    elif conn_id == RUNTIME_CONN and msg_type == TYPE_RESPONSE:
                        entry = self._pending.pop(stream_id, None)
                        if entry is not None:
                            entry[1].append(body)
                            entry[0].set()
        except TtrpcError as exc:
            self.close(exc.message)
        except Exception as exc:  # a protocol error closes the trunk; serve reconnects
            self.close(f"{type(exc).__name__}: {exc}")

    def _serve(self, stream_id: int, body: bytes) -> None:
        pb = _pb()
        try:
            request = pb.Request.FromString(body)  # type: ignore[attr-defined]
        except Exception as exc:
            self._answer(stream_id, b"", INVALID_ARGUMENT, f"unmarshal request error: {exc}")
            return
        timeout = request.timeout_nano / 1e9 if request.timeout_nano > 0 else 0.0
        try:
            payload, code, message = self.handler(
                request.service, request.method, bytes(request.payload), timeout
            )
        except Exception as exc:  # the handler reports errors itself; this is a bug guard
            payload, code, message = b"", INTERNAL, f"runcore: internal error: {exc}"
        self._answer(stream_id, payload, code, message)

    # ------------------------------------------------------------------ closing
    def close(self, reason: str = "closed") -> None:
        """Close the trunk (idempotent); pending calls fail with UNAVAILABLE."""
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for stream_id in list(self._pending):
            entry = self._pending.pop(stream_id, None)
            if entry is not None:
                entry[1].append(TtrpcError(UNAVAILABLE, f"trunk closed: {reason}"))
                entry[0].set()
