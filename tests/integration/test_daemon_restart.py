"""A containerd restart while runcore looks after a task (issue 18, defect 2).

Each test has its OWN private daemon (restarting the shared one would disturb other
tests): it is restarted in place – same config, so the same address, root and state –
with SIGTERM or SIGKILL, instantly or after a few seconds down. The shim survives, so
runcore must reconnect, re-establish ``Tasks/Wait`` and end normally: complete output,
the task's real exit status, ``--rm`` cleanup, nothing left (leak check of the private
daemon). When the daemon stays away longer than the reconnect window: one line, non-zero,
and ``runcore rm -f`` afterwards removes everything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from runcore.testing.daemon import (
    ORACLE,
    Daemon,
    assert_no_leaks,
    cleanup_namespace,
    missing_reason,
    start_daemon,
)
from runcore.testing.containerd import _selected_versions

pytestmark = pytest.mark.containerd

TIMEOUT = 120
COUNT = "for i in 1 2 3 4 5 6; do echo $i; sleep 1; done; exit 3"
NS = "restart"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINERD_")}
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    return env


@pytest.fixture(params=_selected_versions())
def daemon(request, containerd_versions, busybox_archive, fifo_dir) -> Iterator[Daemon]:
    """A private daemon with the test image imported; leak-checked and stopped after."""
    why = missing_reason(containerd_versions, request.param)
    if why:
        pytest.skip(why)
    d = start_daemon(containerd_versions[request.param], containerd_versions[ORACLE])
    try:
        d.ctr("images", "import", str(busybox_archive.path), namespace=NS)
        yield d
        if d.proc is None or d.proc.poll() is not None:
            d.spawn()
        d.ctr("images", "rm", "--sync", busybox_archive.name, namespace=NS, check=False)
        assert_no_leaks(d, NS, None, fifo_dirs=[fifo_dir])
    finally:
        problems = d.stop()
        assert not [p for p in problems if "still present" in p or "shim" in p], problems


def _runcore(d: Daemon, *args: str) -> List[str]:
    return d.runcore_argv(*args, namespace=NS)


def _start(d: Daemon, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        _runcore(d, *args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )


def _first_line(p: subprocess.Popen) -> bytes:
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line, p.stderr.read() if p.stderr else b""
    return line


@pytest.mark.parametrize(
    "sig,down",
    [(signal.SIGTERM, 0.0), (signal.SIGKILL, 0.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)],
    ids=["term-instant", "kill-instant", "term-3s", "kill-3s"],
)
def test_run_rm_survives_a_restart(daemon, busybox_archive, fifo_dir, sig, down) -> None:
    p = _start(
        daemon, "run", "--rm", "--fifo-dir", fifo_dir, busybox_archive.name, "r1", "sh", "-c", COUNT
    )
    first = _first_line(p)
    daemon.restart(sig, down)
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 3, err
    assert first + out == b"1\n2\n3\n4\n5\n6\n"
    assert err == b""
    assert daemon.lines("containers", "ls", "-q", namespace=NS) == []


def test_exec_survives_a_restart(daemon, busybox_archive, fifo_dir) -> None:
    r = subprocess.run(
        _runcore(
            daemon, "run", "-d", "--fifo-dir", fifo_dir, busybox_archive.name, "r2", "sleep", "1000"
        ),
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    ex = _start(daemon, "exec", "--fifo-dir", fifo_dir, "r2", "sh", "-c", COUNT)
    first = _first_line(ex)
    mark = daemon.log.stat().st_size
    daemon.restart(signal.SIGKILL, 2.0)
    out, err = ex.communicate(timeout=TIMEOUT)
    assert (ex.returncode, first + out, err) == (3, b"1\n2\n3\n4\n5\n6\n", b"")
    _init_exit_is_published(daemon, "r2", mark)
    r = subprocess.run(
        _runcore(daemon, "rm", "-f", "r2"), capture_output=True, env=_env(), timeout=TIMEOUT
    )
    assert r.returncode == 0, r.stderr


def _init_exit_is_published(d: Daemon, cid: str, mark: int) -> None:
    """Kill the init of ``cid``: the shim reports it STOPPED and does not panic (containerd
    1.7's runc shim panicked – ``makechan: size out of range`` in ``handleInitExit`` – once
    its count of running exec processes had gone negative)."""
    d.ctr("tasks", "kill", "-s", "KILL", cid, namespace=NS)
    deadline = time.monotonic() + 30
    status = ""
    while time.monotonic() < deadline:
        rows = [l.split() for l in d.lines("tasks", "ls", namespace=NS)[1:]]
        status = next((row[-1] for row in rows if row[0] == cid), "")
        if status == "STOPPED":
            break
        time.sleep(0.2)
    with open(d.log, "rb") as f:
        f.seek(mark)
        log = f.read().decode(errors="replace")
    assert "panic" not in log, [l for l in log.splitlines() if "panic" in l][:3]
    assert status == "STOPPED"


#: runcore whose first ``Tasks/Start`` of an exec process gets through but whose answer is
#: lost: it tells the test (a file), waits until containerd was restarted, then fails as a
#: lost connection does.
LOSE_START_ANSWER = r"""
import os, sys, time
from runcore.errors import Unavailable
from runcore.task import reconnect
signal_file = os.environ["RC_TEST_SIGNAL"]
original = reconnect._Service.__init__
class LosingStart:
    def __init__(self, service):
        self._service, self._lost = service, False
    def __getattr__(self, name):
        return getattr(self._service, name)
    def Start(self, *args, **kwargs):
        answer = self._service.Start(*args, **kwargs)
        if kwargs.get("exec_id") and not self._lost:
            self._lost = True
            open(signal_file, "w").close()
            deadline = time.monotonic() + 60
            while os.path.exists(signal_file) and time.monotonic() < deadline:
                time.sleep(0.05)
            raise Unavailable("lost the connection to containerd")
        return answer
def init(self, owner, name, service):
    original(self, owner, name, LosingStart(service) if name == "tasks" else service)
reconnect._Service.__init__ = init
from runcore.cli.main import main
main(sys.argv[1:])
"""


def test_exec_whose_start_answer_was_lost(daemon, busybox_archive, fifo_dir, tmp_path) -> None:
    """containerd restarts after it started an exec process but before runcore had the
    answer: runcore looks the process up instead of sending ``Tasks/Start`` again (a second
    Start of a running exec made containerd 1.7.24's shim panic when the init exited)."""
    r = subprocess.run(
        _runcore(
            daemon, "run", "-d", "--fifo-dir", fifo_dir, busybox_archive.name, "r7", "sleep", "1000"
        ),
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    flag = tmp_path / "started"
    argv = _runcore(daemon, "exec", "--fifo-dir", fifo_dir, "r7", "sh", "-c", COUNT)
    ex = subprocess.Popen(
        [argv[0], "-c", LOSE_START_ANSWER, *argv[3:]],
        env={**_env(), "RC_TEST_SIGNAL": str(flag)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + TIMEOUT
    while not flag.exists():
        assert ex.poll() is None and time.monotonic() < deadline, ex.communicate()
        time.sleep(0.05)
    mark = daemon.log.stat().st_size
    daemon.restart(signal.SIGKILL, 1.0)
    flag.unlink()
    out, err = ex.communicate(timeout=TIMEOUT)
    assert (ex.returncode, out, err) == (3, b"1\n2\n3\n4\n5\n6\n", b"")
    _init_exit_is_published(daemon, "r7", mark)
    r = subprocess.run(
        _runcore(daemon, "rm", "r7"), capture_output=True, env=_env(), timeout=TIMEOUT
    )
    assert r.returncode == 0, r.stderr


def test_wait_survives_a_restart(daemon, busybox_archive, fifo_dir) -> None:
    r = subprocess.run(
        _runcore(
            daemon,
            "run",
            "-d",
            "--fifo-dir",
            fifo_dir,
            busybox_archive.name,
            "r6",
            "sh",
            "-c",
            "sleep 6; exit 5",
        ),
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    waiter = _start(daemon, "wait", "r6")
    time.sleep(2)
    daemon.restart(signal.SIGKILL, 2.0)
    out, err = waiter.communicate(timeout=TIMEOUT)
    assert (waiter.returncode, out, err) == (5, b"5\n", b"")
    r = subprocess.run(
        _runcore(daemon, "rm", "r6"), capture_output=True, env=_env(), timeout=TIMEOUT
    )
    assert r.returncode == 0, r.stderr


def test_daemon_that_stays_away(daemon, busybox_archive, fifo_dir) -> None:
    p = _start(
        daemon,
        "--connect-timeout",
        "2s",
        "run",
        "--rm",
        "--fifo-dir",
        fifo_dir,
        busybox_archive.name,
        "r3",
        "sh",
        "-c",
        COUNT,
    )
    _first_line(p)
    waiter = _start(daemon, "--connect-timeout", "2s", "wait", "r3")
    time.sleep(3)
    daemon.kill_process(signal.SIGKILL)
    started = time.monotonic()
    out, err = p.communicate(timeout=TIMEOUT)
    w_out, w_err = waiter.communicate(timeout=TIMEOUT)
    assert waiter.returncode == 1 and w_out == b""
    # (a slow start-up may meet the daemon gone already: then it cannot connect)
    assert (
        w_err.startswith(b"runcore: lost the connection to containerd")
        or w_err.startswith(b"runcore: cannot connect")
    ) and w_err.count(b"\n") == 1, w_err
    assert time.monotonic() - started < 60
    assert p.returncode != 0
    text = err.decode()
    assert text.startswith("runcore: ") and text.count("\n") == 1, text
    assert "did not come back within 2s" in text and "runcore rm -f r3" in text
    daemon.spawn()
    r = subprocess.run(
        _runcore(daemon, "rm", "-f", "r3"), capture_output=True, env=_env(), timeout=TIMEOUT
    )
    assert r.returncode == 0, r.stderr
    assert os.listdir(fifo_dir) == []


#: runcore with a pause between Tasks/Create and Tasks/Start: it tells the test (a file)
#: and waits until the test has restarted containerd.
PAUSE_BEFORE_START = r"""
import os, sys, time
from runcore.task import lifecycle
signal_file = os.environ["RC_TEST_SIGNAL"]
original = lifecycle.TaskRun._created
def created(self):
    original(self)
    open(signal_file, "w").close()
    deadline = time.monotonic() + 60
    while os.path.exists(signal_file) and time.monotonic() < deadline:
        time.sleep(0.05)
lifecycle.TaskRun._created = created
from runcore.cli.main import main
main(sys.argv[1:])
"""


def test_run_detached_mid_start(daemon, busybox_archive, fifo_dir, tmp_path) -> None:
    """containerd restarts between Tasks/Create and Tasks/Start of ``run -d``: the start
    goes through once it is back."""
    flag = tmp_path / "created"
    argv = _runcore(
        daemon,
        "run",
        "-d",
        "--fifo-dir",
        fifo_dir,
        busybox_archive.name,
        "r4",
        "sh",
        "-c",
        "sleep 30",
    )
    p = subprocess.Popen(
        [argv[0], "-c", PAUSE_BEFORE_START, *argv[3:]],
        env={**_env(), "RC_TEST_SIGNAL": str(flag)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + TIMEOUT
    while not flag.exists():
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()
        time.sleep(0.05)
    daemon.restart(signal.SIGKILL, 1.0)
    flag.unlink()
    out, err = p.communicate(timeout=TIMEOUT)
    assert (p.returncode, err) == (0, b"")
    status = subprocess.run(
        _runcore(daemon, "inspect", "-f", ".task.status", "r4"),
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
    )
    assert status.stdout == b"running\n", status.stderr
    r = subprocess.run(
        _runcore(daemon, "rm", "-f", "r4"), capture_output=True, env=_env(), timeout=TIMEOUT
    )
    assert r.returncode == 0, r.stderr


def test_attach_survives_a_restart(daemon, busybox_archive, fifo_dir) -> None:
    r = subprocess.run(
        _runcore(
            daemon,
            "run",
            "-d",
            "--fifo-dir",
            fifo_dir,
            busybox_archive.name,
            "r5",
            "sh",
            "-c",
            "sleep 2; " + COUNT,
        ),
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    p = _start(daemon, "attach", "r5")
    first = _first_line(p)
    daemon.restart(signal.SIGTERM, 2.0)
    out, err = p.communicate(timeout=TIMEOUT)
    assert (p.returncode, err) == (3, b"")
    assert (first + out).endswith(b"4\n5\n6\n")
    r = subprocess.run(
        _runcore(daemon, "rm", "r5"), capture_output=True, env=_env(), timeout=TIMEOUT
    )
    assert r.returncode == 0, r.stderr


# ----------------------------------------------------------------------------- image import

#: Namespaces of the import tests: runcore's and the oracle's (``ctr images import``).
NS_IMPORT, NS_IMPORT_CTR = "restart-import", "restart-import-ctr"
#: The big archive: uncompressed random layers, so that an import takes seconds.
BIG_NAME, BIG_LAYERS, BIG_LAYER_MIB = "test.local/restart/big:latest", 4, 40


def _write_big_archive(path: Path) -> Path:
    """An OCI layout tar of :data:`BIG_LAYERS` uncompressed layers of random bytes."""
    blobs: Dict[str, bytes] = {}
    layers = []
    for i in range(BIG_LAYERS):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = os.urandom(BIG_LAYER_MIB << 20)
            info = tarfile.TarInfo(f"data{i}.bin")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
        layers.append(_blob(blobs, buf.getvalue(), "application/vnd.oci.image.layer.v1.tar"))
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    config = {
        "architecture": arch,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]},
        "config": {"Cmd": ["/bin/true"]},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": _blob(
            blobs, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"
        ),
        "layers": layers,
    }
    entry = _blob(
        blobs, json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json"
    )
    entry["annotations"] = {
        "io.containerd.image.name": BIG_NAME,
        "org.opencontainers.image.ref.name": "latest",
    }
    index = json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode()
    with tarfile.open(path, "w") as tar:
        members = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
        members += [(f"blobs/sha256/{d.split(':', 1)[1]}", b) for d, b in blobs.items()]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return path


def _blob(blobs: Dict[str, bytes], data: bytes, media_type: str) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory) -> Path:
    return _write_big_archive(tmp_path_factory.mktemp("big") / "big.tar")


@pytest.fixture
def import_namespaces(daemon) -> Iterator[Daemon]:
    """The daemon, with the two import namespaces removed (everything in them) after."""
    try:
        yield daemon
    finally:
        if daemon.proc is None or daemon.proc.poll() is not None:
            daemon.spawn()
        for ns in (NS_IMPORT, NS_IMPORT_CTR):
            cleanup_namespace(daemon, ns)


def _content(d: Daemon, ns: str) -> List[Tuple[str, str, Dict[str, str]]]:
    rows = []
    for line in d.lines("content", "ls", namespace=ns)[1:]:
        fields = [f for f in line.split("\t") if f]
        labels = {} if fields[-1] == "-" else dict(kv.split("=", 1) for kv in fields[-1].split(","))
        rows.append((fields[0], fields[1], labels))
    return sorted(rows)


def _stored(d: Daemon, ns: str) -> dict:
    """What an import left in ``ns``: image records, content (with labels), snapshots,
    leases and ingests (after a synchronous garbage collection)."""
    d.force_gc(ns)
    return {
        "images": sorted(l.split() for l in d.lines("images", "ls", namespace=ns)[1:]),
        "content": _content(d, ns),
        "snapshots": sorted(d.snapshots(ns, "overlayfs")),
        "leases": d.lines("leases", "ls", "-q", namespace=ns),
        "ingests": d.lines("content", "active", namespace=ns)[1:],
    }


def _import(d: Daemon, path: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        d.runcore_argv(*flags, "images", "import", str(path), namespace=NS_IMPORT),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )


def _ingesting(d: Daemon) -> bool:
    return any(
        l.startswith("tar-blobs/") for l in d.lines("content", "active", namespace=NS_IMPORT)
    )


def _unpacking(d: Daemon) -> bool:
    return any(
        key.startswith("extract-") and kind == "Active"
        for key, _, kind in d.snapshots(NS_IMPORT, "overlayfs")
    )


def _when(phase: str, d: Daemon, p: subprocess.Popen) -> None:
    """Return once the import ``p`` is in ``phase`` (storing layers or unpacking them)."""
    seen = _ingesting if phase == "content" else _unpacking
    deadline = time.monotonic() + TIMEOUT
    while not seen(d):
        assert p.poll() is None, ("the import ended before the test saw it", p.communicate())
        assert time.monotonic() < deadline, f"no {phase} phase seen"
        time.sleep(0.02)


def _rerun_matches_ctr(d: Daemon, path: Path) -> None:
    """A rerun completes, and everything is as ``ctr images import`` stores it."""
    r = subprocess.run(
        d.runcore_argv("images", "import", str(path), namespace=NS_IMPORT),
        capture_output=True,
        env=_env(),
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert (r.returncode, r.stderr) == (0, b""), r.stderr
    assert r.stdout.startswith(f"unpacking {BIG_NAME} (sha256:".encode())
    assert r.stdout.endswith(b")...done\n")
    d.ctr_own("images", "import", str(path), namespace=NS_IMPORT_CTR)
    ours, theirs = _stored(d, NS_IMPORT), _stored(d, NS_IMPORT_CTR)
    assert ours == theirs
    assert ours["leases"] == ours["ingests"] == []
    assert [row[0] for row in ours["images"]] == [BIG_NAME]
    assert len(ours["snapshots"]) == BIG_LAYERS
    assert_no_leaks(d, NS_IMPORT)


@pytest.mark.parametrize(
    "phase,down",
    [("content", 0.0), ("content", 3.0), ("unpack", 0.0), ("unpack", 3.0)],
    ids=["content-instant", "content-3s", "unpack-instant", "unpack-3s"],
)
def test_import_survives_a_restart(import_namespaces, big_archive, phase, down) -> None:
    """containerd is SIGKILLed while an import stores layers or unpacks them: the import
    waits for it and completes (a regular file is read again from the start)."""
    d = import_namespaces
    p = _import(d, big_archive)
    _when(phase, d, p)
    d.restart(signal.SIGKILL, down)
    out, err = p.communicate(timeout=TIMEOUT)
    assert (p.returncode, err) == (0, b""), err
    assert out.endswith(b")...done\n"), out
    assert _stored(d, NS_IMPORT)["leases"] == []
    _rerun_matches_ctr(d, big_archive)


def test_import_from_stdin_across_a_restart(import_namespaces, big_archive) -> None:
    """stdin cannot be read again: one line asking for a rerun, which completes."""
    d = import_namespaces
    with open(big_archive, "rb") as source:
        p = subprocess.Popen(
            d.runcore_argv("images", "import", "-", namespace=NS_IMPORT),
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        _when("content", d, p)
        d.restart(signal.SIGKILL, 1.0)
        out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 1 and out == b""
    assert err == (
        b"runcore: lost the connection to containerd while importing stdin; "
        b"run the import again once containerd is back\n"
    )
    _rerun_matches_ctr(d, big_archive)


def test_import_when_containerd_stays_away(import_namespaces, big_archive) -> None:
    d = import_namespaces
    p = _import(d, big_archive, "--connect-timeout", "2s")
    _when("content", d, p)
    d.kill_process(signal.SIGKILL)
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 1, err
    text = err.decode()
    assert text.startswith("runcore: lost the connection to containerd during the import of ")
    assert text.endswith("did not come back within 2s\n") and text.count("\n") == 1, text
    d.spawn()
    # the lease of the import that gave up is left to the rerun, which removes it
    _rerun_matches_ctr(d, big_archive)


@pytest.mark.parametrize("phase", ["content", "unpack"])
def test_import_rerun_after_the_client_was_killed(import_namespaces, big_archive, phase) -> None:
    """runcore SIGKILLed mid-import leaves its lease, an ingest or an extraction
    snapshot; the rerun completes and removes them."""
    d = import_namespaces
    p = _import(d, big_archive)
    _when(phase, d, p)
    p.kill()
    p.communicate(timeout=TIMEOUT)
    assert d.lines("leases", "ls", "-q", namespace=NS_IMPORT) != []
    _rerun_matches_ctr(d, big_archive)


class _CollectAfter(io.FileIO):
    """An archive file that runs ``action`` once reading passed ``position``."""

    def __init__(self, path: Path, position: int, action) -> None:
        super().__init__(path, "rb")
        self._position, self._action = position, action

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        if self._action is not None and self.tell() > self._position:
            action, self._action = self._action, None
            action()
        return data


def test_import_keeps_content_it_found_in_the_store(import_namespaces, busybox_archive) -> None:
    """The archive's index.json (stored without a known digest) is in the namespace
    already, held only by another lease that goes away mid-import: the import's own lease
    must hold it, or the collector takes it before the image record refers to it (a
    commit naming the digest made containerd answer AlreadyExists without leasing it)."""
    from runcore.containerd.client import Client
    from runcore.images import import_archive

    d = import_namespaces
    with tarfile.open(busybox_archive.path) as tar:
        member = tar.getmember("index.json")
        index = tar.extractfile(member).read()  # type: ignore[union-attr]
        after_index = member.offset_data + member.size + (64 << 10)
    client = Client.connect(d.address, NS_IMPORT)
    client.leases.Create(id="other-client")
    with client.holding_lease("other-client"):
        client.write_blob("other-index", index)

    def collect() -> None:
        d.ctr("leases", "rm", "--sync", "other-client", namespace=NS_IMPORT)

    source = _CollectAfter(busybox_archive.path, after_index, collect)
    try:
        written = import_archive(client, source, name="archive", out=io.StringIO())
    finally:
        source.close()
    assert [image.name for image in written] == [busybox_archive.name]
    assert d.lines("leases", "ls", "-q", namespace=NS_IMPORT) == []
    assert_no_leaks(d, NS_IMPORT)
