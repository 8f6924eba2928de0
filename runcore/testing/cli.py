"""runcore's CLI as a subprocess, as a user runs it.

:func:`run_runcore` runs a command that needs no daemon (help, plugins, ``spec``) with
none of the user's runcore settings; text output. The integration tests' ``rc`` fixture
is a :class:`RuncoreCli` for the test's daemon, namespace and FIFO directory::

    r = rc("run", "--rm", "--fifo-dir", rc.fifo_dir, image, "c1", "true")
    assert r.returncode == 0, stderr_text(r)

Its processes get :func:`cli_env`: this environment without ``CONTAINERD_*`` (so the
daemon's ``--address`` is the only one that counts) and with the system directories on
``PATH``; output is bytes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, Iterator, List, Optional

from runcore.testing.daemon import Daemon, _clean_env
from runcore.testing.harness import isolated_environ

#: Seconds a CLI call may take (generous: the machines running the tests are loaded).
TIMEOUT = 90

#: A container process that says ``ready``, loops, and exits 42 on SIGINT.
SLEEPER = [
    "sh",
    "-c",
    "trap 'echo got INT; exit 42' INT; echo ready; while true; do sleep 0.2; done",
]


def cli_env() -> Dict[str, str]:
    """The environment for a runcore (or ctr) subprocess."""
    return _clean_env()


def run_process(
    argv: List[str], *, input: Optional[bytes] = None, timeout: float = TIMEOUT, **kw: Any
) -> subprocess.CompletedProcess:
    """``subprocess.run`` in :func:`cli_env`: stdin empty unless ``input`` (or ``stdin``)
    is given, stdout and stderr captured unless either is given."""
    if input is None:
        kw.setdefault("stdin", subprocess.DEVNULL)
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    kw.setdefault("env", cli_env())
    return subprocess.run(argv, input=input, timeout=timeout, **kw)


def run_runcore(
    *args: str,
    env: Optional[Dict[str, str]] = None,
    pythonpath: Optional[str] = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    """``python -m runcore ARGS`` without a daemon, as a user without runcore settings runs
    it: :func:`~runcore.testing.harness.isolated_environ` plus ``env``, ``pythonpath`` (a
    directory of plugin distributions a test wrote) first on ``PYTHONPATH``; text output."""
    environ = isolated_environ(env)
    if pythonpath:
        environ["PYTHONPATH"] = pythonpath + os.pathsep + environ.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "runcore", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def stderr_text(r: subprocess.CompletedProcess) -> str:
    """A finished process's stderr as text."""
    return r.stderr.decode(errors="replace") if isinstance(r.stderr, bytes) else r.stderr


def one_line_error(r: subprocess.CompletedProcess) -> str:
    """Assert stderr is exactly one ``runcore: ...`` line, without a traceback; return it."""
    err = stderr_text(r)
    assert err.startswith("runcore: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.strip()


class RuncoreCli:
    """``python -m runcore --address <daemon> --namespace <namespace> ARGS``."""

    def __init__(self, daemon: Daemon, namespace: str, fifo_dir: str) -> None:
        self.daemon = daemon
        self.namespace = namespace
        self.fifo_dir = fifo_dir

    def argv(self, *args: str) -> List[str]:
        """The command line of ``runcore ARGS``."""
        return self.daemon.runcore_argv(*args, namespace=self.namespace)

    def __call__(
        self, *args: str, input: Optional[bytes] = None, timeout: float = TIMEOUT, **kw: Any
    ) -> subprocess.CompletedProcess:
        """Run ``runcore ARGS`` to its end (see :func:`run_process`)."""
        return run_process(self.argv(*args), input=input, timeout=timeout, **kw)

    def popen(self, *args: str, **kw: Any) -> subprocess.Popen:
        """Start ``runcore ARGS`` in :func:`cli_env`; ``kw`` as for ``subprocess.Popen``."""
        kw.setdefault("env", cli_env())
        return subprocess.Popen(self.argv(*args), **kw)

    @contextlib.contextmanager
    def start(self, *args: str, **kw: Any) -> Iterator[subprocess.Popen]:
        """:meth:`popen` for a ``with`` block, which kills the process (SIGKILL) and waits
        for it if it still runs when the block ends."""
        p = self.popen(*args, **kw)
        try:
            yield p
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    def run(self, *args: str, **kw: Any) -> subprocess.CompletedProcess:
        """``runcore run --fifo-dir <the test's FIFO directory> ARGS``."""
        return self("run", "--fifo-dir", self.fifo_dir, *args, **kw)

    def ctr(self, *args: str, check: bool = True, **kw: Any) -> subprocess.CompletedProcess:
        """The oracle ``ctr ARGS`` in the same namespace (text output)."""
        return self.daemon.ctr(*args, namespace=self.namespace, check=check, **kw)

    def containers(self) -> List[str]:
        """The ids of the namespace's containers, as ctr lists them."""
        return self.daemon.lines("containers", "ls", "-q", namespace=self.namespace)

    def tasks(self) -> List[str]:
        """The ids of the namespace's tasks, as ctr lists them."""
        return self.daemon.lines("tasks", "ls", "-q", namespace=self.namespace)

    def detached(self, image: str, cid: str, *cmd: str) -> None:
        """``runcore run -d`` of ``cmd`` (:data:`SLEEPER` when empty); wait until it runs."""
        r = self.run("-d", image, cid, *(cmd or SLEEPER))
        assert r.returncode == 0, r.stderr
        self.wait_status(cid, "running")

    def status(self, cid: str) -> Optional[str]:
        """The task status ``runcore ls`` shows for ``cid`` (``None``: no task, or no such
        container)."""
        for row in json.loads(self("ls", "--json").stdout):
            if row["id"] == cid:
                status: Optional[str] = row["status"]
                return status
        return None

    def wait_status(self, cid: str, want: str, timeout: float = 30) -> None:
        """Wait until ``cid``'s status is ``want``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.status(cid) != want:
            assert time.monotonic() < deadline, f"{cid} not {want}: {self.status(cid)}"
            time.sleep(0.1)

    def rm(self, *ids: str) -> None:
        """``runcore rm -f IDS``, which must succeed."""
        r = self("rm", "-f", *ids)
        assert r.returncode == 0, r.stderr
