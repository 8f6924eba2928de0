"""Fixtures of runcore-nri's tests.

* The shared fixtures of runcore's suite (private daemons, namespaces, leak check).
* ``cri_daemon``: a private containerd **with CRI and NRI enabled** (its own, not the
  shared test daemon, which runs without CRI), the busybox test image and a pause
  image (busybox ``sleep``) imported into ``k8s.io``. containerd 1.6 has no NRI plugin
  socket, so its parameter is skipped with that reason.
* ``serve``: a factory starting ``runcore nri serve`` against it with a given runcore
  configuration and the third-party test plugin on ``PYTHONPATH``; stopped with SIGTERM
  at the end of the test (it must exit 0).
* ``pods``: host-network pods through CRI, removed at the end; afterwards nothing may be
  left in ``k8s.io`` but the images.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

HERE = pathlib.Path(__file__).resolve().parent
_TESTS = str(HERE.parents[2] / "tests")
for _p in (_TESTS, str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from support.fixtures import *  # noqa: E402,F401,F403
from support.fixtures import _binaries, _selected_versions, _unavailable  # noqa: E402
from support.daemon import CRI_SANDBOX_IMAGE, ORACLE, missing_reason, start_daemon  # noqa: E402

THIRD_PARTY = HERE / "thirdparty"
IMAGE = "docker.io/library/rcbox:latest"
NO_NRI_16 = (
    "containerd 1.6 has no NRI plugin socket (its NRI is v0.1: binaries run per "
    "container); runcore nri serve needs containerd 1.7"
)

_CRI_DAEMONS: Dict[str, Any] = {}


def _start_cri_daemon(tmp_root: pathlib.Path) -> Any:
    from support.busybox_image import build_busybox_oci_archive

    from cri import build_pause_archive

    bins = _binaries()
    daemon = start_daemon(bins["1.7"], bins[ORACLE], cri_nri=True)
    try:
        box = build_busybox_oci_archive(tmp_root / "rcbox.tar")
        pause = build_pause_archive(box.path, tmp_root / "rcpause.tar", CRI_SANDBOX_IMAGE)
        for archive in (box.path, pause):
            daemon.ctr("images", "import", str(archive), namespace="k8s.io")
        deadline = time.monotonic() + 30
        while not os.path.exists(daemon.nri_socket):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no NRI socket at {daemon.nri_socket}:\n{daemon.log_tail()}")
            time.sleep(0.1)
    except BaseException:
        daemon.stop()
        raise
    return daemon


@pytest.fixture(scope="session", params=_selected_versions(), ids=lambda v: f"cri-{v}")
def cri_daemon(request, tmp_path_factory):
    """A private containerd 1.7 with CRI and NRI (session-wide)."""
    version = request.param
    if version == "1.6":
        pytest.skip(NO_NRI_16)
    why = missing_reason(_binaries(), version)
    if why:
        _unavailable(why)
    if version not in _CRI_DAEMONS:
        _CRI_DAEMONS[version] = _start_cri_daemon(tmp_path_factory.mktemp("cri-images"))
        request.addfinalizer(lambda: _stop(version))
    return _CRI_DAEMONS[version]


def _stop(version: str) -> None:
    daemon = _CRI_DAEMONS.pop(version, None)
    if daemon is not None:
        problems = daemon.stop()
        if problems:
            sys.stderr.write("\nCRI containerd teardown: " + "; ".join(problems) + "\n")


@pytest.fixture
def cri_client(cri_daemon):
    from cri import CRI

    client = CRI(cri_daemon.address)
    yield client
    client.close()


@pytest.fixture
def pods(cri_daemon, cri_client):
    """Pods of this test; removed afterwards, then nothing may be left in k8s.io."""
    from cri import Pods

    made = Pods(cri_client, IMAGE)
    yield made
    problems = made.cleanup()
    left = cri_daemon.lines("containers", "ls", "-q", namespace="k8s.io")
    assert not problems, problems
    assert left == [], f"containers left in k8s.io: {left}"
    assert cri_client.pods() == []


class Serve:
    """A running ``runcore nri serve`` and the log lines it wrote."""

    def __init__(self, proc: subprocess.Popen, log_format: str) -> None:
        self.proc = proc
        self.log_format = log_format
        self.lines: List[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._cond:
                self.lines.append(raw.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def records(self) -> List[Dict[str, Any]]:
        """The JSON log records so far (``--log-format json``)."""
        import json

        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"msg": "(not json)", "line": line})
        return out

    def wait_for(
        self, predicate: Callable[[str], bool], timeout: float = 60, start: int = 0
    ) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[start:]:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        "serve never logged the expected line; log:\n" + "\n".join(self.lines)
                    )
                self._cond.wait(min(left, 0.5))

    def decisions(self, container: Optional[str] = None) -> List[Dict[str, Any]]:
        return [
            r
            for r in self.records()
            if r.get("msg") == "container"
            and (container is None or r.get("container") == container)
        ]

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._reader.join(5)


@pytest.fixture
def serve(cri_daemon, tmp_path):
    """``serve(config_toml="", args=(), log_format="json")`` starts ``runcore nri serve``."""
    started: List[Serve] = []

    def start(
        config_toml: str = "",
        args: Any = (),
        log_format: str = "json",
        env: Optional[Dict[str, str]] = None,
        global_args: Any = (),
    ) -> Serve:
        config = tmp_path / f"runcore-{len(started)}.toml"
        config.write_text(config_toml)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("RUNCORE_")}
        environ.update(
            {
                "RUNCORE_CONFIG": str(config),
                "PYTHONPATH": os.pathsep.join([str(THIRD_PARTY), os.environ.get("PYTHONPATH", "")]),
            }
        )
        environ.update(env or {})
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "runcore",
                "--address",
                cri_daemon.address,
                *global_args,
                "nri",
                "serve",
                "--socket",
                cri_daemon.nri_socket,
                "--log-format",
                log_format,
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=environ,
        )
        handle = Serve(proc, log_format)
        started.append(handle)
        handle.wait_for(lambda line: '"synchronized"' in line or "info: synchronized" in line)
        time.sleep(0.3)  # containerd adds the plugin to its list after our answer arrives
        return handle

    yield start
    codes = [handle.stop() for handle in started]
    assert all(code == 0 for code in codes), (codes, [h.lines[-5:] for h in started])
    for handle in started:
        if handle.log_format == "json":  # every line is one JSON object with the basics
            for record in handle.records():
                assert {"time", "level", "msg"} <= set(record), record
