"""``--tty``: the terminal checks, raw mode and the window size.

Raw mode is ctr's (containerd/console ``SetRaw``): ``cfmakeraw`` but with output
post-processing (``OPOST``) kept on, so ``\\n`` still becomes ``\\r\\n`` on screen.
The previous settings are restored on every exit path (:class:`RawTerminal` is a
context manager and its ``restore`` is idempotent).
"""

from __future__ import annotations

import os
import struct
import termios
from typing import Any, List, Optional, Tuple

from runcore.errors import UsageError

NOT_A_TTY = "the input device is not a TTY"


def is_terminal(fd: int = 0) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def require_terminal(ctx: Any = None, fd: int = 0) -> None:
    """Raise :class:`UsageError` ("the input device is not a TTY") unless ``--tty`` can work.

    Meant for a ``runcore_configure`` step (before anything is created) when ``ctx`` has
    ``tty`` set; with ``ctx=None`` the check is unconditional.
    """
    if ctx is not None and not ctx.opt("tty"):
        return
    if not is_terminal(fd):
        raise UsageError(NOT_A_TTY)


def make_raw(attrs: List[Any]) -> List[Any]:
    """``attrs`` (``termios.tcgetattr`` list) in ctr's raw mode: cfmakeraw + OPOST."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = attrs
    iflag &= ~(
        termios.IGNBRK
        | termios.BRKINT
        | termios.PARMRK
        | termios.ISTRIP
        | termios.INLCR
        | termios.IGNCR
        | termios.ICRNL
        | termios.IXON
    )
    oflag |= termios.OPOST  # cfmakeraw clears it, console.SetRaw sets it again
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB)
    cflag |= termios.CS8
    cc = list(cc)
    cc[termios.VMIN] = 1
    cc[termios.VTIME] = 0
    return [iflag, oflag, cflag, lflag, ispeed, ospeed, cc]


class RawTerminal:
    """Puts ``fd`` in raw mode on :meth:`enter`; :meth:`restore` puts the old mode back."""

    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self._saved: Optional[List[Any]] = None

    def enter(self) -> None:
        try:
            self._saved = termios.tcgetattr(self.fd)
        except termios.error:
            raise UsageError(NOT_A_TTY) from None
        termios.tcsetattr(self.fd, termios.TCSANOW, make_raw(self._saved))

    def restore(self) -> None:
        saved, self._saved = self._saved, None
        if saved is not None:
            try:
                termios.tcsetattr(self.fd, termios.TCSANOW, saved)
            except termios.error:
                pass

    def __enter__(self) -> "RawTerminal":
        self.enter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.restore()


def window_size(fd: int = 0) -> Optional[Tuple[int, int]]:
    """``(width, height)`` of the terminal on ``fd``, or None."""
    import fcntl

    for candidate in (fd, 1, 2):
        try:
            packed = fcntl.ioctl(candidate, termios.TIOCGWINSZ, b"\0" * 8)
        except OSError:
            continue
        rows, cols, _x, _y = struct.unpack("HHHH", packed)
        return cols, rows
    return None
