"""A pseudo-terminal for tests that run runcore as a user at a terminal does (``-t``,
detach keys, window size, raw mode)::

    with Terminal(rows=33, cols=111) as term, rc.start(..., **term.stdio()) as p:
        term.read_until(b"READY")
        term.write(b"abc\\r")
        assert p.wait(TIMEOUT) == 0
        assert b"got:abc" in term.read_rest()

Everything read is also kept in :attr:`Terminal.out`.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import termios
import time
from typing import Any, Dict, List, Optional

from runcore.testing.cli import TIMEOUT


class Terminal:
    """A pty pair: the process gets the slave side, the test reads and writes the master."""

    def __init__(self, rows: Optional[int] = None, cols: Optional[int] = None) -> None:
        self.master, self.slave = pty.openpty()
        self.out = b""
        if rows is not None and cols is not None:
            self.set_size(rows, cols)

    def stdio(self) -> Dict[str, Any]:
        """``subprocess.Popen`` keywords: the terminal as stdin, stdout and stderr, in a new
        session (so that it is the process's controlling terminal)."""
        return {
            "stdin": self.slave,
            "stdout": self.slave,
            "stderr": self.slave,
            "start_new_session": True,
        }

    def attrs(self) -> List[Any]:
        """The terminal's attributes (``termios.tcgetattr``)."""
        return termios.tcgetattr(self.slave)

    def set_size(self, rows: int, cols: int) -> None:
        """Set the window size (``TIOCSWINSZ``)."""
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def write(self, data: bytes) -> None:
        """Type ``data``."""
        os.write(self.master, data)

    def read_until(self, marker: bytes, timeout: float = TIMEOUT) -> bytes:
        """Read until ``marker`` has appeared or ``timeout`` has passed; all read so far."""
        deadline = time.monotonic() + timeout
        while marker not in self.out and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.2)[0]:
                self.out += os.read(self.master, 4096)
        return self.out

    def read_rest(self, quiet: float = 0.3) -> bytes:
        """Read until nothing came for ``quiet`` seconds; all read so far."""
        while select.select([self.master], [], [], quiet)[0]:
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO: no process holds the terminal any more
                break
            if not data:
                break
            self.out += data
        return self.out

    def close(self) -> None:
        """Close both sides."""
        os.close(self.master)
        os.close(self.slave)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
