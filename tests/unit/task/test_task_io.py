"""FIFO sets and the copy threads, with the shim's side played by the test."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time

import pytest

from runcore.errors import UsageError
from runcore.task.copier import Copier
from runcore.task.fifos import FifoSet, fifo_dir_of, remove_fifo_dir
from runcore.task.ioplan import plan_io


def _mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_fifo_set_layout(tmp_path) -> None:
    root = tmp_path / "fifo" / "deeper"
    fifos = FifoSet.create(str(root), "ctr1")
    assert _mode(str(root)) == 0o700
    directory = os.path.dirname(fifos.stdout)
    assert os.path.dirname(directory) == str(root)
    assert os.path.basename(directory).isdigit()
    assert _mode(directory) == 0o700
    for name in ("stdin", "stdout", "stderr"):
        path = getattr(fifos, name)
        assert path == os.path.join(directory, f"ctr1-{name}")
        assert stat.S_ISFIFO(os.lstat(path).st_mode)
        assert _mode(path) == 0o700
    fifos.remove()
    assert not os.path.exists(directory)
    assert os.path.isdir(str(root))


def test_each_run_gets_its_own_directory(tmp_path) -> None:
    a = FifoSet.create(str(tmp_path), "x")
    b = FifoSet.create(str(tmp_path), "x")
    assert a.directory != b.directory
    a.remove()
    b.remove()
    assert os.listdir(tmp_path) == []


def test_tty_plan_has_no_stderr(tmp_path) -> None:
    plan = plan_io("c", tty=True, null_io=True, log_uri="file:///x", fifo_root=str(tmp_path))
    assert plan.terminal and plan.stdin and plan.stdout and plan.stderr == ""
    assert sorted(os.listdir(plan.fifos.directory)) == ["c-stdin", "c-stdout"]
    plan.fifos.remove()


def test_default_plan_and_ownership(tmp_path) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    plan = plan_io("c", fifo_root=str(tmp_path), uid=1234, gid=5678)
    for path in (plan.fifos.directory, plan.stdin, plan.stdout, plan.stderr):
        st = os.lstat(path)
        assert (st.st_uid, st.st_gid) == (1234, 5678)
    plan.fifos.remove()


def test_unusable_root(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError):
        FifoSet.create(str(blocker / "sub"), "c")


def test_remove_fifo_dir_only_removes_fifos(tmp_path) -> None:
    d = tmp_path / "123"
    d.mkdir()
    os.mkfifo(d / "c-stdout")
    (d / "c-stderr").write_text("a regular file is not ours")
    assert not remove_fifo_dir(str(d), "c")
    assert sorted(os.listdir(d)) == ["c-stderr"]
    (d / "c-stderr").unlink()
    assert remove_fifo_dir(str(d), "c")
    assert remove_fifo_dir(str(d), "c")  # already gone


def test_fifo_dir_of() -> None:
    assert fifo_dir_of(["", "/run/f/12/c-stdout", "/run/f/12/c-stderr"], "c") == "/run/f/12"
    assert fifo_dir_of(["", "file:///x", "file:///x"], "c") is None
    assert fifo_dir_of(["", "/var/log/other", ""], "c") is None


class Shim:
    """What the runc shim does with a FIFO set: open its ends during Tasks/Create."""

    def __init__(self, fifos: FifoSet) -> None:
        self.fifos = fifos
        self.out_w = os.open(fifos.stdout, os.O_WRONLY)
        self.out_r = os.open(fifos.stdout, os.O_RDONLY | os.O_NONBLOCK)
        self.err_w = os.open(fifos.stderr, os.O_WRONLY) if fifos.stderr else None
        self.in_r = os.open(fifos.stdin, os.O_RDONLY | os.O_NONBLOCK) if fifos.stdin else None
        if self.in_r is not None:
            os.set_blocking(self.in_r, True)

    def read_stdin(self) -> bytes:
        data = b""
        while True:
            chunk = os.read(self.in_r, 65536)
            if not chunk:
                return data
            data += chunk

    def close(self) -> None:
        for fd in (self.out_w, self.out_r, self.err_w, self.in_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass


def _pipe_reader(fd: int, sink: list) -> threading.Thread:
    def run() -> None:
        while True:
            data = os.read(fd, 65536)
            if not data:
                return
            sink.append(data)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_lossless_output_and_separate_streams(tmp_path) -> None:
    fifos = FifoSet.create(str(tmp_path), "c")
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe()
    os.close(in_w)
    got_out: list = []
    got_err: list = []
    readers = [_pipe_reader(out_r, got_out), _pipe_reader(err_r, got_err)]
    copier = Copier(fifos, stdin_fd=in_r, stdout_fd=out_w, stderr_fd=err_w)
    copier.open()
    copier.start()
    shim = Shim(fifos)  # would block if our readers were not open yet
    copier.task_created()
    payload = os.urandom(1 << 20)
    os.write(shim.err_w, b"to stderr\n")
    view = memoryview(payload)
    while view:
        n = os.write(shim.out_w, view[:65536])
        view = view[n:]
    os.close(shim.out_w)
    os.close(shim.err_w)
    shim.out_w = shim.err_w = None
    assert copier.wait_output(idle=10)
    copier.close()
    shim.close()
    os.close(out_w)
    os.close(err_w)
    for t in readers:
        t.join(5)
    assert hashlib.sha256(b"".join(got_out)).digest() == hashlib.sha256(payload).digest()
    assert b"".join(got_err) == b"to stderr\n"
    fifos.remove()


def test_no_premature_eof_before_shim_opens(tmp_path) -> None:
    fifos = FifoSet.create(str(tmp_path), "c")
    out_r, out_w = os.pipe()
    copier = Copier(fifos, stdin_fd=-1, stdout_fd=out_w, stderr_fd=out_w)
    copier.open()
    copier.start()
    time.sleep(0.2)
    assert not copier.wait_output(idle=0.2)  # still waiting: nobody wrote yet
    shim = Shim(fifos)
    copier.task_created()
    os.write(shim.out_w, b"late")
    shim.close()
    assert copier.wait_output(idle=5)
    copier.close()
    os.close(out_w)
    assert os.read(out_r, 100) == b"late"
    fifos.remove()


@pytest.mark.parametrize("eof_before_create", [True, False])
def test_stdin_eof_closes_and_calls_closeio(tmp_path, eof_before_create: bool) -> None:
    fifos = FifoSet.create(str(tmp_path), "c", stderr=False)
    in_r, in_w = os.pipe()
    sink_r, sink_w = os.pipe()
    closed = threading.Event()
    copier = Copier(fifos, stdin_fd=in_r, stdout_fd=sink_w, close_stdin=closed.set)
    copier.open()
    copier.start()
    os.write(in_w, b"hello\n")
    if eof_before_create:
        os.close(in_w)
        assert copier.stdin_eof.wait(5)
        time.sleep(0.1)
        assert not closed.is_set()  # not before the task exists
    shim = Shim(fifos)
    copier.task_created()
    if not eof_before_create:
        time.sleep(0.1)
        assert not closed.is_set()
        os.close(in_w)
    assert closed.wait(5)
    # our write end is closed: the shim's reader gets all input, then end of file
    assert shim.read_stdin() == b"hello\n"
    os.close(shim.out_w)
    shim.out_w = None
    copier.wait_output(idle=5)
    copier.close()
    shim.close()
    for fd in (in_r, sink_r, sink_w):
        os.close(fd)
    fifos.remove()


def test_closed_stdin_is_end_of_input(tmp_path) -> None:
    fifos = FifoSet.create(str(tmp_path), "c", stdout=False, stderr=False)
    r = 987  # a descriptor number nothing has open
    with pytest.raises(OSError):
        os.fstat(r)
    closed = threading.Event()
    copier = Copier(fifos, stdin_fd=r, close_stdin=closed.set)
    copier.open()
    copier.start()
    shim = Shim.__new__(Shim)
    shim.in_r = os.open(fifos.stdin, os.O_RDONLY | os.O_NONBLOCK)
    copier.task_created()
    assert closed.wait(5)
    os.close(shim.in_r)
    copier.close()
    fifos.remove()


def test_close_stops_threads_blocked_on_input(tmp_path) -> None:
    fifos = FifoSet.create(str(tmp_path), "c")
    in_r, in_w = os.pipe()
    copier = Copier(fifos, stdin_fd=in_r, stdout_fd=1, stderr_fd=2)
    copier.open()
    copier.start()
    start = time.monotonic()
    copier.close(timeout=2)
    assert time.monotonic() - start < 2
    assert all(not t.is_alive() for t in copier._threads)
    fifos.remove()
    os.close(in_r)
    os.close(in_w)


def test_output_without_destination_is_drained(tmp_path) -> None:
    fifos = FifoSet.create(str(tmp_path), "c", stdin=False)
    copier = Copier(fifos, stdin_fd=None, stdout_fd=None, stderr_fd=None)
    copier.open()
    copier.start()
    shim = Shim(fifos)
    copier.task_created()
    os.write(shim.out_w, b"x" * 60000)
    os.write(shim.err_w, b"y")
    shim.close()
    assert copier.wait_output(idle=5)
    copier.close()
    fifos.remove()
