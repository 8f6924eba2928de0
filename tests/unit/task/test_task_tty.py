"""Raw mode (ctr's: cfmakeraw + OPOST), window size, the TTY check, signal sets."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import termios
from types import SimpleNamespace

import pytest

from runcore.errors import UsageError
from runcore.task import signals as sigs
from runcore.task import tty


def test_make_raw_keeps_opost() -> None:
    attrs = [
        termios.ICRNL | termios.IXON,
        termios.OPOST | termios.ONLCR,
        termios.CS7 | termios.PARENB,
        termios.ECHO | termios.ICANON | termios.ISIG,
        termios.B38400,
        termios.B38400,
        [b"\x00"] * 32,
    ]
    iflag, oflag, cflag, lflag, _, _, cc = tty.make_raw(attrs)
    assert not iflag & (termios.ICRNL | termios.IXON)
    assert oflag & termios.OPOST and oflag & termios.ONLCR
    assert cflag & termios.CSIZE == termios.CS8 and not cflag & termios.PARENB
    assert not lflag & (termios.ECHO | termios.ICANON | termios.ISIG)
    assert cc[termios.VMIN] == 1 and cc[termios.VTIME] == 0


def test_raw_terminal_restores() -> None:
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        with tty.RawTerminal(slave):
            during = termios.tcgetattr(slave)
            assert not during[3] & termios.ICANON
            assert during[1] & termios.OPOST
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_window_size() -> None:
    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 132, 0, 0))
        assert tty.window_size(slave) == (132, 40)
    finally:
        os.close(master)
        os.close(slave)


def test_require_terminal() -> None:
    r, w = os.pipe()
    try:
        with pytest.raises(UsageError, match="^the input device is not a TTY$"):
            tty.require_terminal(fd=r)
        tty.require_terminal(SimpleNamespace(opt=lambda name: False), fd=r)  # no --tty
        with pytest.raises(UsageError):
            tty.require_terminal(SimpleNamespace(opt=lambda name: True), fd=r)
    finally:
        os.close(r)
        os.close(w)


def test_forwardable_signals() -> None:
    fwd = sigs.forwardable()
    for s in (
        signal.SIGTERM,
        signal.SIGINT,
        signal.SIGHUP,
        signal.SIGUSR1,
        signal.SIGQUIT,
        signal.SIGCONT,
        signal.SIGTSTP,
        signal.SIGRTMIN,
    ):
        assert s in fwd
    for s in (
        signal.SIGCHLD,
        signal.SIGPIPE,
        signal.SIGURG,
        signal.SIGWINCH,
        signal.SIGKILL,
        signal.SIGSTOP,
        signal.SIGSEGV,
    ):
        assert s not in fwd
    assert sigs.is_fatal(signal.SIGTERM) and not sigs.is_fatal(signal.SIGCONT)


def test_catcher_queues_and_restores() -> None:
    from queue import SimpleQueue

    q: SimpleQueue = SimpleQueue()
    before = signal.getsignal(signal.SIGUSR2)
    with sigs.SignalCatcher(q, [signal.SIGUSR2]):
        os.kill(os.getpid(), signal.SIGUSR2)
        assert q.get(timeout=5) == ("signal", signal.SIGUSR2)
    assert signal.getsignal(signal.SIGUSR2) == before
