"""runcore.containerd.Client against an in-process fake containerd (no daemon needed)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from datetime import datetime, timedelta, timezone

import pytest

grpc = pytest.importorskip("grpc")

from runcore import errors  # noqa: E402
from runcore.containerd import leases as leases_mod  # noqa: E402
from runcore.containerd.client import Client  # noqa: E402
from runcore._pb.containerd.services.content.v1 import content_pb2, content_pb2_grpc  # noqa: E402
from runcore._pb.containerd.services.images.v1 import images_pb2_grpc  # noqa: E402
from runcore._pb.containerd.services.leases.v1 import leases_pb2, leases_pb2_grpc  # noqa: E402
from runcore._pb.containerd.services.namespaces.v1 import namespace_pb2, namespace_pb2_grpc  # noqa: E402
from runcore._pb.containerd.services.tasks.v1 import tasks_pb2, tasks_pb2_grpc  # noqa: E402
from runcore._pb.containerd.services.version.v1 import version_pb2, version_pb2_grpc  # noqa: E402
from google.protobuf import empty_pb2  # noqa: E402


class Recorder:
    def __init__(self):
        self.calls = []  # (method, metadata dict, time_remaining)

    def note(self, method, context):
        self.calls.append((method, dict(context.invocation_metadata()), context.time_remaining()))


class Version(version_pb2_grpc.VersionServicer):
    def __init__(self, rec):
        self.rec = rec

    def Version(self, request, context):
        self.rec.note("Version", context)
        return version_pb2.VersionResponse(version="1.7.99", revision="fake")


class Images(images_pb2_grpc.ImagesServicer):
    def __init__(self, rec):
        self.rec = rec

    def Get(self, request, context):
        self.rec.note("Images/Get", context)
        if request.name == "exists":
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "busy")
        if request.name == "boom":
            context.abort(grpc.StatusCode.INTERNAL, "internal trouble")
        if request.name == "dup":
            context.abort(grpc.StatusCode.ALREADY_EXISTS, 'image "dup": already exists')
        context.abort(grpc.StatusCode.NOT_FOUND, f'image "{request.name}": not found')


class Leases(leases_pb2_grpc.LeasesServicer):
    def __init__(self, rec):
        self.rec = rec
        self.live = {}

    def Create(self, request, context):
        self.rec.note("Leases/Create", context)
        self.live[request.id] = dict(request.labels)
        return leases_pb2.CreateResponse(
            lease=leases_pb2.Lease(id=request.id, labels=request.labels)
        )

    def Delete(self, request, context):
        self.rec.note("Leases/Delete", context)
        self.live.pop(request.id, None)
        return empty_pb2.Empty()


class Namespaces(namespace_pb2_grpc.NamespacesServicer):
    labels = {}

    def Get(self, request, context):
        if request.name not in self.labels:
            context.abort(grpc.StatusCode.NOT_FOUND, f"namespace {request.name}: not found")
        return namespace_pb2.GetNamespaceResponse(
            namespace=namespace_pb2.Namespace(name=request.name, labels=self.labels[request.name])
        )


class Tasks(tasks_pb2_grpc.TasksServicer):
    def __init__(self, rec):
        self.rec = rec

    def Wait(self, request, context):
        self.rec.note("Tasks/Wait", context)
        return tasks_pb2.WaitResponse(exit_status=7)


class Content(content_pb2_grpc.ContentServicer):
    """Just enough of containerd's Write protocol."""

    def __init__(self, rec):
        self.rec = rec
        self.blobs = {}
        self.aborted = []
        self.fail_after = None  # bytes after which a WRITE fails

    def Write(self, request_iterator, context):
        self.rec.note("Content/Write", context)
        data = b""
        for req in request_iterator:
            if req.action == content_pb2.STAT:
                if req.expected and req.expected in self.blobs:
                    context.abort(
                        grpc.StatusCode.ALREADY_EXISTS, f"content {req.expected}: already exists"
                    )
                yield content_pb2.WriteContentResponse(action=req.action, offset=0, total=req.total)
            elif req.action == content_pb2.WRITE:
                if req.offset != len(data):
                    context.abort(
                        grpc.StatusCode.OUT_OF_RANGE,
                        f"write @{req.offset} must occur at current offset {len(data)}",
                    )
                data += req.data
                if self.fail_after is not None and len(data) > self.fail_after:
                    context.abort(grpc.StatusCode.INTERNAL, "disk full")
                yield content_pb2.WriteContentResponse(action=req.action, offset=len(data))
            else:
                digest = "sha256:" + hashlib.sha256(data).hexdigest()
                if req.expected and req.expected != digest:
                    context.abort(grpc.StatusCode.FAILED_PRECONDITION, "unexpected commit digest")
                self.blobs[digest] = (data, dict(req.labels))
                yield content_pb2.WriteContentResponse(
                    action=req.action, offset=len(data), digest=digest
                )
                return

    def Read(self, request, context):
        data, _ = self.blobs.get(request.digest, (None, None))
        if data is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"content digest {request.digest}: not found")
        for i in range(0, len(data), 65536):
            yield content_pb2.ReadContentResponse(offset=i, data=data[i : i + 65536])

    def Abort(self, request, context):
        self.aborted.append(request.ref)
        return empty_pb2.Empty()


@pytest.fixture
def fake():
    tmp = tempfile.mkdtemp(prefix="rcu-", dir="/tmp")
    path = os.path.join(tmp, "c.sock")
    rec = Recorder()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    services = {
        "version": Version(rec),
        "images": Images(rec),
        "leases": Leases(rec),
        "content": Content(rec),
        "tasks": Tasks(rec),
        "namespaces": Namespaces(),
    }
    version_pb2_grpc.add_VersionServicer_to_server(services["version"], server)
    images_pb2_grpc.add_ImagesServicer_to_server(services["images"], server)
    leases_pb2_grpc.add_LeasesServicer_to_server(services["leases"], server)
    content_pb2_grpc.add_ContentServicer_to_server(services["content"], server)
    tasks_pb2_grpc.add_TasksServicer_to_server(services["tasks"], server)
    namespace_pb2_grpc.add_NamespacesServicer_to_server(services["namespaces"], server)
    server.add_insecure_port("unix:" + path)
    server.start()
    yield path, rec, services
    server.stop(None)
    try:
        os.unlink(path)
    except OSError:
        pass
    os.rmdir(tmp)


def test_import_does_not_load_grpc():
    code = "import sys, runcore.containerd, runcore.images; print('grpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_namespace_header_and_default_deadline(fake):
    path, rec, _ = fake
    client = Client.connect("unix://" + path, "ns1")
    assert client.version.Version().version == "1.7.99"
    method, md, left = rec.calls[-1]
    assert md["containerd-namespace"] == "ns1"
    assert "containerd-lease" not in md
    assert 20 < left <= 31


def test_overall_timeout_bounds_calls_and_wait_has_none_of_its_own(fake):
    path, rec, _ = fake
    client = Client.connect(path, "ns1", timeout=5)
    client.version.Version()
    assert rec.calls[-1][2] <= 5
    assert client.tasks.Wait(container_id="c").exit_status == 7
    assert 3 < rec.calls[-1][2] <= 5
    unbounded = Client.connect(path, "ns1")
    unbounded.tasks.Wait(container_id="c")
    assert rec.calls[-1][2] is None or rec.calls[-1][2] > 1e6


def test_expired_overall_deadline(fake):
    path, _, _ = fake
    client = Client.connect(path, "ns1", timeout=0.05)
    time.sleep(0.1)
    with pytest.raises(errors.ContainerdError, match="deadline exceeded"):
        client.version.Version()


@pytest.mark.parametrize(
    "name, exc, text",
    [
        ("missing", errors.NotFound, 'image "missing": not found'),
        ("dup", errors.AlreadyExists, 'image "dup": already exists'),
        ("exists", errors.FailedPrecondition, "busy"),
        ("boom", errors.ContainerdError, "internal trouble"),
    ],
)
def test_error_mapping(fake, name, exc, text):
    path, _, _ = fake
    client = Client.connect(path, "ns1")
    with pytest.raises(exc) as info:
        client.images.Get(name=name)
    assert type(info.value) is exc
    assert str(info.value) == text


def test_lease_context(fake):
    path, rec, services = fake
    client = Client.connect(path, "ns1")
    with client.lease() as lease_id:
        client.version.Version()
        assert rec.calls[-1][1]["containerd-lease"] == lease_id
        with client.lease() as inner:  # nested: reuse
            assert inner == lease_id
        labels = services["leases"].live[lease_id]
    assert lease_id not in services["leases"].live
    nanos, _, suffix = lease_id.partition("-")
    assert nanos.isdigit() and int(nanos) < 1_000_000_000 and len(suffix) == 4
    expire = datetime.strptime(labels["containerd.io/gc.expire"], "%Y-%m-%dT%H:%M:%SZ")
    expire = expire.replace(tzinfo=timezone.utc)
    assert abs(expire - datetime.now(timezone.utc) - timedelta(hours=24)) < timedelta(minutes=1)
    client.version.Version()
    assert "containerd-lease" not in rec.calls[-1][1]


def test_lease_deleted_on_error(fake):
    path, _, services = fake
    client = Client.connect(path, "ns1")
    with pytest.raises(RuntimeError):
        with client.lease():
            raise RuntimeError("x")
    assert services["leases"].live == {}


def test_write_and_read_blob(fake):
    path, _, services = fake
    client = Client.connect(path, "ns1")
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    import io

    assert client.write_blob("ref1", io.BytesIO(data), digest, len(data), {"a": "b"}) == digest
    assert services["content"].blobs[digest][1] == {"a": "b"}
    assert client.read_blob(digest) == data
    # already present: not sent again, stream still consumed
    src = io.BytesIO(data)
    assert client.write_blob("ref2", src, digest, len(data)) == digest
    assert src.tell() == len(data)
    # unknown digest: computed
    assert client.write_blob("ref3", b"abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()


def test_write_blob_mismatch_and_short(fake):
    path, _, services = fake
    client = Client.connect(path, "ns1")
    with pytest.raises(errors.ImageError, match="digest mismatch"):
        client.write_blob("bad", b"abc", "sha256:" + "0" * 64, 3)
    with pytest.raises(errors.ImageError, match="truncated"):
        import io

        client.write_blob("short", io.BytesIO(b"ab"), None, 3)
    assert services["content"].aborted == ["bad", "short"]


def test_write_blob_sends_ahead_and_stops_on_an_error(fake, monkeypatch):
    """Content/Write is pipelined (WINDOW messages ahead of the answers): a blob of many
    chunks arrives whole and in order; an error on a middle chunk aborts the ingest."""
    import io

    from runcore.containerd import content

    path, _, services = fake
    client = Client.connect(path, "ns1")
    monkeypatch.setattr(content, "CHUNK", 1000)
    data = bytes(range(256)) * 40  # 10240 bytes: 11 chunks
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert client.write_blob("many", io.BytesIO(data), digest, len(data)) == digest
    assert services["content"].blobs[digest][0] == data
    services["content"].fail_after = 4500
    with pytest.raises(errors.ContainerdError, match="disk full"):
        client.write_blob("fails", io.BytesIO(data[::-1]), None, len(data))
    assert services["content"].aborted == ["fails"]


def test_default_snapshotter(fake):
    path, _, services = fake
    client = Client.connect(path, "ns1")
    assert client.default_snapshotter() == "overlayfs"
    services["namespaces"].labels["ns1"] = {"containerd.io/defaults/snapshotter": "native"}
    assert client.default_snapshotter() == "native"
    assert client.resolve_snapshotter("zfs") == "zfs"


def test_default_snapshotter_later_overlaps_and_maps_errors(fake):
    path, _, services = fake
    client = Client.connect(path, "ns1")
    services["namespaces"].labels.pop("ns1", None)
    later = client.default_snapshotter_later()  # NotFound namespace: the default
    assert later() == "overlayfs"
    services["namespaces"].labels["ns1"] = {"containerd.io/defaults/snapshotter": "native"}
    assert client.default_snapshotter_later()() == "native"


def test_future_results_and_errors(fake):
    path, _, _ = fake
    client = Client.connect(path, "ns1")
    assert client.version.Version.future().result().version == "1.7.99"
    pending = client.images.Get.future(name="nope")
    with pytest.raises(errors.NotFound, match='image "nope": not found'):
        pending.result()
    with pytest.raises(TypeError):
        client.content.Read.future(digest="sha256:00")


def test_services_are_bound_on_first_use(fake):
    path, _, _ = fake
    client = Client.connect(path, "ns1")
    assert "tasks" not in vars(client)
    assert client.tasks is client.tasks  # bound once
    assert client.tasks.name == "containerd.services.tasks.v1.Tasks"
    with pytest.raises(AttributeError):
        client.nosuchservice  # noqa: B018


def test_connect_errors(tmp_path):
    missing = tmp_path / "none.sock"
    with pytest.raises(errors.Unavailable) as info:
        Client.connect(str(missing), "default")
    msg = str(info.value)
    assert msg == (
        f"cannot connect to containerd at {missing}: no such socket "
        "(is containerd running? start it with 'containerd' or 'systemctl start containerd')"
    )
    assert "\n" not in msg
    plain = tmp_path / "file"
    plain.write_text("")
    with pytest.raises(errors.Unavailable, match="not a socket"):
        Client.connect(str(plain), "default")
    dead = tmp_path / "dead.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(dead))
    s.close()  # bound, never listening
    with pytest.raises(errors.Unavailable, match="connection refused"):
        Client.connect("unix://" + str(dead), "default")


def test_lease_helpers():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert leases_mod.expire_labels(timedelta(hours=24), now) == {
        "containerd.io/gc.expire": "2024-05-02T12:00:00Z"
    }
    assert leases_mod.expire_labels(None) == {}
