"""Unit tests of the task-command helpers: signals, reconnecting, detach keys, output
loss, inspect paths, one-line containerd errors, the SIGINT report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any, List

import pytest

from runcore.errors import AlreadyExists, ContainerdError, Unavailable, UsageError
from runcore.task import reconnect
from runcore.task.signals import parse_signal


@pytest.mark.parametrize(
    "text,number",
    [
        ("SIGTERM", 15),
        ("TERM", 15),
        ("term", 15),
        ("sigkill", 9),
        ("9", 9),
        ("255", 255),
        ("RTMIN+1", int(signal.SIGRTMIN) + 1),
    ],
)
def test_parse_signal_accepts_what_ctr_accepts(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize("text", ["", "0", "256", "NOPE", "SIG", "-1", "9x"])
def test_parse_signal_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid signal"):
        parse_signal(text)


def test_retrying_rides_out_unavailable() -> None:
    calls: List[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Unavailable("lost the connection to containerd")
        return "ok"

    assert reconnect.retrying(SimpleNamespace(), flaky, "x", window=5) == "ok"
    assert len(calls) == 3


def test_retrying_gives_up_after_the_window_with_one_line() -> None:
    def down() -> None:
        raise Unavailable("lost the connection to containerd")

    started = time.monotonic()
    with pytest.raises(reconnect.DaemonLost) as info:
        reconnect.retrying(SimpleNamespace(), down, "the wait for the task", window=0.5)
    assert time.monotonic() - started < 3
    assert str(info.value) == (
        "lost the connection to containerd during the wait for the "
        "task and it did not come back within 0.5s"
    )


def test_retrying_does_not_hide_other_errors() -> None:
    def fails() -> None:
        raise ContainerdError("boom")

    with pytest.raises(ContainerdError, match="boom"):
        reconnect.retrying(SimpleNamespace(), fails, "x", window=5)


def test_resilient_create_that_reached_containerd_counts_as_done() -> None:
    from runcore.containerd import pb

    state = {"n": 0}

    class Tasks:
        def Create(self, request: Any = None, **kw: Any) -> Any:
            state["n"] += 1
            if state["n"] == 1:
                raise Unavailable("lost the connection to containerd")
            raise AlreadyExists("task c1: already exists")

        def Get(self, **kw: Any) -> Any:
            return pb.tasks.GetResponse(process=pb.task.Process(pid=77, status=1))

    client = SimpleNamespace(tasks=Tasks(), pb=pb)
    wrapped = reconnect.resilient(client, 5)
    assert wrapped.tasks.Create(pb.tasks.CreateTaskRequest(container_id="c1")).pid == 77


def _start_client(statuses: List[Any], first_start_lost: bool = True) -> Any:
    """A tasks service whose first Start answer is lost; Get answers from ``statuses``
    (an exception is raised, a number is the process status)."""
    from runcore.containerd import pb

    calls: List[str] = []

    class Tasks:
        def Start(self, **kw: Any) -> Any:
            calls.append("Start")
            if first_start_lost and calls.count("Start") == 1:
                raise Unavailable("lost the connection to containerd")
            return pb.tasks.StartResponse(pid=42)

        def Get(self, **kw: Any) -> Any:
            calls.append("Get")
            answer = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            if isinstance(answer, Exception):
                raise answer
            return pb.tasks.GetResponse(process=pb.task.Process(pid=42, status=answer))

    return SimpleNamespace(tasks=Tasks(), pb=pb, calls=calls)


def test_a_start_that_got_through_is_never_sent_again() -> None:
    """containerd 1.7's shim counts a repeated Start of a running exec as a second
    process and panics when the init exits: the lost answer is looked up instead."""
    client = _start_client([Unavailable("lost the connection to containerd"), 2])
    wrapped = reconnect.resilient(client, 5)
    assert wrapped.tasks.Start(container_id="c1", exec_id="e1").pid == 42
    assert client.calls.count("Start") == 1
    assert client.calls == ["Start", "Get", "Get"]


def test_a_start_that_did_not_get_through_is_sent_again(monkeypatch) -> None:
    monkeypatch.setattr(reconnect, "CREATED_PAUSE", 0.01)
    client = _start_client([reconnect.CREATED])
    wrapped = reconnect.resilient(client, 5)
    assert wrapped.tasks.Start(container_id="c1", exec_id="e1").pid == 42
    assert client.calls.count("Start") == 2
    # looked at again (a Start still under way in the shim) before it was repeated
    assert client.calls.count("Get") == 1 + reconnect.CREATED_RECHECKS


def test_detach_keys_are_cut_out_of_the_input() -> None:
    from runcore.task.attach import parse_detach_keys
    from runcore.task.copier import Copier
    from runcore.task.fifos import FifoSet

    keys = parse_detach_keys("ctrl-p,ctrl-q")
    assert keys == b"\x10\x11"
    c = Copier(FifoSet("/nonexistent", "x"), detach_keys=keys)
    assert c._scan_detach(b"ab\x10c") == (b"ab\x10c", False)
    assert c._scan_detach(b"x\x10") == (b"x", False)
    assert c._scan_detach(b"\x11rest") == (b"", True)
    with pytest.raises(UsageError):
        parse_detach_keys("ctrl-")


def test_output_lost_is_reported_on_the_other_stream(tmp_path) -> None:
    from runcore.task.copier import Copier
    from runcore.task.fifos import FifoSet

    r, w = os.pipe()
    c = Copier(FifoSet("/nonexistent", "x"), stdout_fd=1, stderr_fd=w)
    c.output_lost = (1, OSError(28, "No space left on device"))
    c.report_output_lost()
    os.close(w)
    assert os.read(r, 1000) == (
        b"runcore: output of the container lost: cannot write to stdout: No space left on device\n"
    )
    os.close(r)


def test_inspect_paths() -> None:
    from runcore.task.inspect import select

    data = {"task": {"pid": 5, "exit_status": None}, "spec": {"process": {"args": ["a", "b"]}}}
    assert select(data, ".task.pid") == 5
    assert select(data, "{{.Task.Pid}}") == 5
    assert select(data, ".spec.process.args[1]") == "b"
    assert select(data, ".spec.nope") is None
    with pytest.raises(UsageError):
        select(data, "task")


class _RpcError(Exception):
    def __init__(self, code: Any, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> Any:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.mark.parametrize(
    "code,details,kind,text",
    [
        ("UNKNOWN", "Stream removed", Unavailable, "lost the connection to containerd"),
        ("UNAVAILABLE", "Socket closed", Unavailable, "lost the connection to containerd"),
        (
            "UNKNOWN",
            "ttrpc: closed: unknown",
            Unavailable,
            "containerd lost its connection to the task's shim",
        ),
        (
            "UNKNOWN",
            "Stream removed (RST_STREAM frame received, error code 2)",
            ContainerdError,
            "containerd rejected the request (it is too large or malformed)",
        ),
        (
            "UNKNOWN",
            "failed to create shim task: 1 error occurred:\n\t* failed to start binary "
            "process: fork/exec /x: no such file or directory\n\n: unknown",
            ContainerdError,
            "failed to create shim task: failed to start binary process: fork/exec /x: no such "
            "file or directory: unknown",
        ),
    ],
)
def test_containerd_errors_are_one_plain_line(code, details, kind, text) -> None:
    import grpc

    from runcore.containerd._rpc import map_error

    err = map_error(_RpcError(getattr(grpc.StatusCode, code), details))
    assert isinstance(err, kind)
    assert str(err) == text


def test_start_hint_only_where_containerd_may_be_down() -> None:
    from runcore.containerd.client import _unavailable

    assert "is containerd running?" in str(_unavailable("/x", "no such socket"))
    assert "is containerd running?" in str(_unavailable("/x", "connection refused"))
    assert "is containerd running?" not in str(_unavailable("/x", "permission denied"))


SLOW_LS = r"""
import sys, time
from runcore.cli import common
common.GlobalOptions.client = lambda self: time.sleep(60)
print("ready", flush=True)
from runcore.cli.main import main
main(sys.argv[1:])
"""


def test_sigint_reports_one_line_without_a_blank_line() -> None:
    p = subprocess.Popen(
        [sys.executable, "-c", SLOW_LS, "ls"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert p.stdout is not None
    assert p.stdout.readline() == b"ready\n"
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert (p.returncode, err) == (130, b"runcore: aborted\n")
