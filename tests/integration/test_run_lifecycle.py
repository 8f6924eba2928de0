"""``runcore run`` end to end: IO, exit codes, signals, tty, cleanup, detach, ``rm``/``ls``.

Every test runs the CLI as a subprocess against a private containerd (1.7 and 1.6)
in a fresh namespace; the ``namespace`` fixture's leak check then proves that nothing
(container, task, snapshot, lease, FIFO directory, mount) was left behind. Runs use
the per-test ``fifo_dir`` unless a test is about the default FIFO root.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import termios
import time

import pytest

from runcore.testing.cli import TIMEOUT, run_process, stderr_text
from runcore.testing.terminal import Terminal

pytestmark = pytest.mark.containerd

#: Runs the CLI with a hook that sends SIGTERM to runcore itself right after
#: Tasks/Create, i.e. before Tasks/Start (argv after ``-c CODE`` is runcore's).
SIGTERM_BEFORE_START = r"""
import os, signal, sys
from runcore.task import lifecycle
original = lifecycle.TaskRun._check_interrupted
def patched(self):
    if self.task_exists and not getattr(self, "_sent", False):
        self._sent = True
        os.kill(os.getpid(), signal.SIGTERM)
    return original(self)
lifecycle.TaskRun._check_interrupted = patched
from runcore.cli.main import main
main(sys.argv[1:])
"""


# --------------------------------------------------------------------------- IO


def test_stdout_and_stderr_are_separate(rc, image) -> None:
    r = rc.run("--rm", image, "io1", "sh", "-c", "echo out; echo err >&2; echo out2")
    assert r.returncode == 0, stderr_text(r)
    assert r.stdout == b"out\nout2\n"
    assert r.stderr == b"err\n"


def test_stdin_pipe_reaches_eof(rc, image) -> None:
    r = rc.run("--rm", image, "in1", "cat", input=b"x\n")
    assert (r.returncode, r.stdout) == (0, b"x\n"), stderr_text(r)


def test_empty_stdin_reaches_eof(rc, image) -> None:
    r = rc.run("--rm", image, "in2", "cat", stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout) == (0, b""), stderr_text(r)


def test_large_stdin_round_trip(rc, image) -> None:
    data = os.urandom(300 * 1024)
    r = rc.run("--rm", image, "in3", "md5sum", input=data)
    assert r.returncode == 0, stderr_text(r)
    assert r.stdout.split()[0].decode() == hashlib.md5(data).hexdigest()


def test_one_mib_of_output_arrives_whole(rc, image) -> None:
    line = b"0123456789abcdef" * 4 + b"\n"  # 65 bytes
    count = (1 << 20) // len(line) + 1
    script = f"i=0; while [ $i -lt {count} ]; do echo {line[:-1].decode()}; i=$((i+1)); done"
    r = rc.run("--rm", image, "big1", "sh", "-c", script)
    assert r.returncode == 0, stderr_text(r)
    assert len(r.stdout) == count * len(line) >= 1 << 20
    assert r.stdout == line * count


def test_one_mib_binary_output_with_exit(rc, image) -> None:
    r = rc.run(
        "--rm",
        image,
        "big2",
        "sh",
        "-c",
        "head -c 1048576 /dev/urandom > /tmp/d; md5sum /tmp/d >&2; cat /tmp/d; exit 7",
    )
    assert r.returncode == 7, stderr_text(r)
    assert len(r.stdout) == 1 << 20
    assert stderr_text(r).split()[0] == hashlib.md5(r.stdout).hexdigest()


# --------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize("code", [0, 3, 255])
def test_exit_codes(rc, image, code: int) -> None:
    r = rc.run("--rm", image, f"exit{code}", "sh", "-c", f"exit {code}")
    assert r.returncode == code, stderr_text(r)
    assert r.stderr == b""


def test_exit_137_from_a_killed_child(rc, image) -> None:
    r = rc.run("--rm", image, "k1", "sh", "-c", 'sh -c "kill -9 \\$\\$"; exit $?')
    assert r.returncode == 137, stderr_text(r)


def test_exit_137_when_killed_from_outside(rc, image) -> None:
    args = ("--rm", "--fifo-dir", rc.fifo_dir, image, "k2", "sh", "-c", "echo ready; exec sleep 60")
    with rc.start("run", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert p.stdout.readline() == b"ready\n"
        rc.ctr("tasks", "kill", "-s", "SIGKILL", "k2")
        assert p.wait(TIMEOUT) == 137


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 42), (signal.SIGUSR1, 5)])
def test_signals_to_runcore_reach_the_container(rc, image, sig: signal.Signals, code: int) -> None:
    name = sig.name[3:]
    script = (
        f'trap "echo got {name}; exit {code}" {name}; echo ready; while true; do sleep 0.1; done'
    )
    args = ("--rm", "--fifo-dir", rc.fifo_dir, image, f"sig-{name.lower()}", "sh", "-c", script)
    with rc.start("run", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert p.stdout.readline() == b"ready\n"
        p.send_signal(sig)
        assert p.wait(TIMEOUT) == code
        assert p.stdout.read() == f"got {name}\n".encode()


# --------------------------------------------------------------------------- tty


def test_tty_raw_mode_and_restore(rc, image) -> None:
    script = 'trap "echo INT; exit 9" INT; echo READY; read x; echo got:$x; sleep 30'
    args = ("--rm", "-t", "--fifo-dir", rc.fifo_dir, image, "tty1", "sh", "-c", script)
    with Terminal() as term:
        before = term.attrs()
        with rc.start("run", *args, **term.stdio()) as p:
            term.read_until(b"READY")
            during = term.attrs()
            for chunk in (b"abc\r", b"\x03"):
                term.write(chunk)
                time.sleep(0.3)
            assert p.wait(TIMEOUT) == 9, term.read_rest()
        out = term.read_rest()
        assert b"got:abc" in out and b"INT" in out
        assert not during[3] & (termios.ICANON | termios.ECHO | termios.ISIG)  # raw
        assert during[1] & termios.OPOST  # output processing kept, as ctr
        assert term.attrs() == before


def test_tty_window_size_is_sent(rc, image) -> None:
    args = (
        "--rm",
        "-t",
        "--fifo-dir",
        rc.fifo_dir,
        image,
        "tty2",
        "sh",
        "-c",
        "sleep 1; stty size",
    )
    with Terminal(rows=33, cols=111) as term, rc.start("run", *args, **term.stdio()) as p:
        assert p.wait(TIMEOUT) == 0
        assert b"33 111" in term.read_rest()


@pytest.mark.parametrize("rm", [True, False])
def test_tty_without_terminal(rc, image, rm: bool) -> None:
    args = ["--rm"] if rm else []
    r = rc.run(*args, "-t", image, "tty3", "true", input=b"")
    assert r.returncode == 1
    assert stderr_text(r) == "runcore: the input device is not a TTY\n"
    assert rc.containers() == []


# --------------------------------------------------------------------------- failures


def test_missing_command_exits_127_and_rm_leaves_nothing(rc, image) -> None:
    r = rc.run("--rm", image, "miss1", "nosuch")
    assert r.returncode == 127, stderr_text(r)
    assert stderr_text(r) == 'runcore: exec: "nosuch": executable file not found in $PATH\n'
    assert rc.containers() == []


def test_not_executable_exits_126(rc, image) -> None:
    r = rc.run("--rm", image, "noexec1", "/etc/passwd")
    assert r.returncode == 126, stderr_text(r)
    assert stderr_text(r).startswith('runcore: exec: "/etc/passwd": permission denied')
    assert rc.containers() == []


def test_failure_without_rm_leaves_one_inspectable_container(rc, image) -> None:
    r = rc.run(image, "keep1", "nosuch")
    assert r.returncode == 127
    assert rc.containers() == ["keep1"] and rc.tasks() == []
    again = rc.run(image, "keep1", "true")
    assert again.returncode == 1
    assert "already exists" in stderr_text(again)
    r = rc("rm", "keep1")
    assert r.returncode == 0, stderr_text(r)
    assert rc.containers() == []


def test_pid_file_failure_cleans_up_with_rm(rc, image, tmp_path) -> None:
    r = rc.run(
        "--rm", "--pid-file", str(tmp_path / "missing" / "pid"), image, "pidf1", "sleep", "30"
    )
    assert r.returncode == 1
    assert "pid" in stderr_text(r) and len(stderr_text(r).splitlines()) == 1
    assert rc.containers() == [] and rc.tasks() == []


def test_pid_file_failure_without_rm_deletes_the_task(rc, image, tmp_path) -> None:
    r = rc.run("--pid-file", str(tmp_path / "missing" / "pid"), image, "pidf2", "sleep", "30")
    assert r.returncode == 1
    assert rc.tasks() == [] and rc.containers() == ["pidf2"]
    assert rc("rm", "pidf2").returncode == 0


def test_sigterm_before_start_cleans_up(rc, image) -> None:
    argv = [sys.executable, "-c", SIGTERM_BEFORE_START] + rc.argv(
        "run", "--rm", "--fifo-dir", rc.fifo_dir, image, "early1", "sleep", "30"
    )[3:]
    r = run_process(argv)
    assert r.returncode == 128 + signal.SIGTERM, stderr_text(r)
    assert stderr_text(r) == "runcore: interrupted by SIGTERM before the task started\n"
    assert rc.containers() == [] and rc.tasks() == []


# --------------------------------------------------------------------------- detach, rm, ls


def _argv0(pid: int) -> bytes:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0")[0]


def test_detach_pid_file_ls_and_rm_force(rc, image, tmp_path) -> None:
    pid_file = tmp_path / "pid"
    r = rc.run("-d", "--pid-file", str(pid_file), image, "det1", "sleep", "300", timeout=30)
    assert (r.returncode, r.stdout) == (0, b""), stderr_text(r)
    pid = int(pid_file.read_text())
    assert pid_file.read_text() == str(pid)  # no newline
    # the pid is the container's process; right after `run -d` returns, runc's init may
    # still be exec'ing it (its command line is "runc init" until then)
    deadline = time.monotonic() + 10
    while _argv0(pid) != b"sleep" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _argv0(pid) == b"sleep"
    assert os.listdir(rc.fifo_dir)  # the FIFO directory stays while the task runs

    r = rc("ls")
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["CONTAINER", "IMAGE", "RUNTIME", "PID", "STATUS"]
    assert lines[1].split() == ["det1", image, "io.containerd.runc.v2", str(pid), "running"]
    assert rc("ls", "-q").stdout == b"det1\n"
    info = json.loads(rc("ls", "--json").stdout)
    assert info[0]["id"] == "det1" and info[0]["status"] == "running" and info[0]["pid"] == pid

    r = rc("rm", "det1")
    assert r.returncode == 1
    assert stderr_text(r).startswith(
        "runcore: cannot delete running task det1: failed precondition"
    )
    assert rc.containers() == ["det1"]

    r = rc("rm", "-f", "det1")
    assert r.returncode == 0, stderr_text(r)
    assert rc.containers() == [] and rc.tasks() == []
    assert os.listdir(rc.fifo_dir) == []


def test_rm_of_a_stopped_detached_task(rc, image) -> None:
    r = rc.run("-d", image, "det2", "true")
    assert r.returncode == 0, stderr_text(r)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = json.loads(rc("ls", "--json").stdout)[0]["status"]
        if status == "stopped":
            break
        time.sleep(0.2)
    assert rc("ls").stdout.decode().splitlines()[1].split()[-2:] == ["stopped", "(0)"]
    r = rc("rm", "det2")
    assert r.returncode == 0, stderr_text(r)
    assert rc.containers() == [] and os.listdir(rc.fifo_dir) == []


def test_rm_unknown(rc) -> None:
    r = rc("rm", "nope")
    assert (r.returncode, stderr_text(r)) == (1, 'runcore: container "nope": not found\n')


def test_detach_with_default_fifo_root_and_rm(rc, image) -> None:
    r = rc("run", "-d", image, "det3", "sleep", "300", stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 0, stderr_text(r)
    r = rc("rm", "-f", "det3")
    assert r.returncode == 0, stderr_text(r)
    # the leak check verifies /run/containerd/fifo got no new directory


# --------------------------------------------------------------------------- IO modes


def test_null_io(rc, image) -> None:
    r = rc.run("--rm", "--null-io", image, "null1", "sh", "-c", "echo hidden; echo e >&2; exit 4")
    assert (r.returncode, r.stdout, r.stderr) == (4, b"", b"")
    assert os.listdir(rc.fifo_dir) == []


def test_log_uri_file(rc, image, tmp_path) -> None:
    log = tmp_path / "logs" / "c.log"
    r = rc.run(
        "--rm",
        "--log-uri",
        f"file://{log}",
        image,
        "log1",
        "sh",
        "-c",
        "echo to-out; echo to-err >&2",
    )
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b""), stderr_text(r)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and log.exists() and log.read_bytes().count(b"\n") < 2:
        time.sleep(0.1)
    lines = log.read_bytes().splitlines()
    # Both streams are appended to the file by the shim. The shims of 1.6.20 and 1.7.24
    # sometimes drop one of two lines written right before the process exits (measured:
    # ctr 1.7.24 lost a line in 3 of 30 runs, in 2 of 30 on 1.6.20), so only what did
    # arrive is checked exactly.
    assert lines and set(lines) <= {b"to-err", b"to-out"} and len(lines) == len(set(lines))


def test_log_uri_invalid(rc, image) -> None:
    r = rc.run("--rm", "--log-uri", "%zz", image, "log2", "true")
    assert r.returncode == 1
    assert stderr_text(r) == 'runcore: parse "%zz": invalid URL escape "%zz"\n'
    assert rc.containers() == []


def test_global_timeout_during_wait_cleans_up(rc, image) -> None:
    r = rc("--timeout", "2s", "run", "--rm", "--fifo-dir", rc.fifo_dir, image, "to1", "sleep", "30")
    assert r.returncode == 1
    # the client's deadline, or the daemon's copy of it expiring first (containerd then
    # reports it as an unknown error: "context deadline exceeded: unknown")
    assert stderr_text(r) in (
        "runcore: context deadline exceeded\n",
        "runcore: context deadline exceeded: unknown\n",
    )
    assert rc.containers() == [] and rc.tasks() == []


def test_ls_without_task(rc, image) -> None:
    r = rc("create", image, "ls1", "true")
    assert r.returncode == 0, stderr_text(r)
    lines = rc("ls").stdout.decode().splitlines()
    assert lines[1].split() == ["ls1", image, "io.containerd.runc.v2", "-", "-"]  # no pid
    assert json.loads(rc("ls", "--json").stdout)[0]["status"] is None
    assert rc("rm", "ls1").returncode == 0


def test_tty_resize_on_sigwinch(rc, image) -> None:
    script = "echo READY; sleep 2; stty size"
    args = ("--rm", "-t", "--fifo-dir", rc.fifo_dir, image, "tty4", "sh", "-c", script)
    with Terminal(rows=20, cols=70) as term, rc.start("run", *args, **term.stdio()) as p:
        term.read_until(b"READY")
        term.set_size(50, 120)
        p.send_signal(signal.SIGWINCH)
        assert p.wait(TIMEOUT) == 0
        assert b"50 120" in term.read_rest()


def test_closed_stdin_and_stdout(rc, image) -> None:
    """runcore started with fd 0 (and fd 1) closed: empty input, output discarded."""

    def close_fds(*fds: int):
        return lambda: [os.close(fd) for fd in fds]

    argv = rc.argv(
        "run",
        "--rm",
        "--fifo-dir",
        rc.fifo_dir,
        image,
        "closed1",
        "sh",
        "-c",
        "cat; echo done; echo err >&2; exit 2",
    )
    r = run_process(argv, preexec_fn=close_fds(0))
    assert (r.returncode, r.stdout, r.stderr) == (2, b"done\n", b"err\n")
    r = run_process(argv, stderr=subprocess.PIPE, preexec_fn=close_fds(0, 1))
    assert (r.returncode, r.stderr) == (2, b"err\n")


def test_tty_sigterm_is_forwarded_and_terminal_restored(rc, image) -> None:
    script = 'trap "echo TERM; exit 4" TERM; echo READY; while true; do sleep 0.1; done'
    args = ("--rm", "-t", "--fifo-dir", rc.fifo_dir, image, "tty5", "sh", "-c", script)
    with Terminal() as term:
        before = term.attrs()
        with rc.start("run", *args, **term.stdio()) as p:
            term.read_until(b"READY")
            assert term.attrs() != before
            p.send_signal(signal.SIGTERM)
            assert p.wait(TIMEOUT) == 4
            assert b"TERM" in term.read_rest()
            assert term.attrs() == before
