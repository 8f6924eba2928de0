"""Riding out a containerd restart while runcore looks after a task.

The shim – and so the task and its FIFOs – survives a restart of containerd; only
runcore's calls fail while the daemon is away. A task command therefore retries the
calls that are safe to repeat (``Tasks/Wait``, ``Tasks/Get``, ``Tasks/Kill``,
``Tasks/Delete``, ``Containers/Delete`` …) with a growing pause, for at most
:data:`DEFAULT_WINDOW` seconds (or ``--connect-timeout`` when given), and gives up with
one line that says what to run later. gRPC channels reconnect on their own, so a retry
is just the same call again.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional, TypeVar

from runcore.errors import ContainerdError, Unavailable

#: Seconds a task command waits for containerd to come back (documented in README).
DEFAULT_WINDOW = 30.0
#: First and longest pause between two attempts.
FIRST_PAUSE, LONGEST_PAUSE = 0.1, 1.0

T = TypeVar("T")


class DaemonLost(Unavailable):
    """containerd did not come back within the reconnect window."""


def is_connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means containerd went away (not that the call itself failed)."""
    return isinstance(exc, Unavailable) and not isinstance(exc, DaemonLost)


def window_of(client: Any) -> float:
    """The reconnect window for ``client`` (its ``reconnect_window`` attribute if set)."""
    value = getattr(client, "reconnect_window", None)
    return float(value) if value else DEFAULT_WINDOW


def retrying(client: Any, call: Callable[[], T], what: str,
             window: Optional[float] = None) -> T:
    """``call()``, repeated while containerd is unreachable, for at most the window.

    Raises :class:`DaemonLost` (one line naming ``what``) when the window is over.
    """
    limit = window_of(client) if window is None else window
    deadline: Optional[float] = None
    pause = FIRST_PAUSE
    while True:
        try:
            return call()
        except ContainerdError as exc:
            if not is_connection_lost(exc):
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + limit
            if now >= deadline:
                raise DaemonLost(
                    f"lost the connection to containerd during {what} and it did not come "
                    f"back within {limit:g}s") from None
            time.sleep(min(pause, max(0.0, deadline - now)))
            pause = min(pause * 2, LONGEST_PAUSE)


__all__ = ["DEFAULT_WINDOW", "DaemonLost", "is_connection_lost", "retrying", "window_of"]
