"""Catching the signals runcore receives while it runs a task.

Handlers only put ``("signal", signum)`` into a :class:`queue.SimpleQueue` (whose
``put`` is reentrant, so a handler interrupting the main thread inside ``get`` is
safe); the main loop of :mod:`runcore.task.lifecycle` forwards them with
``Tasks/Kill``. The handlers are installed before ``Tasks/Create`` so that SIGINT or
SIGTERM arriving before the task started still lets runcore clean up.
"""

from __future__ import annotations

import signal
import threading
from queue import SimpleQueue
from typing import Any, Dict, FrozenSet, Iterable

#: Never forwarded (ctr ignores SIGURG; child exits, broken pipes and window changes
#: concern runcore itself).
NOT_FORWARDED: FrozenSet[int] = frozenset(
    {signal.SIGCHLD, signal.SIGPIPE, signal.SIGURG, signal.SIGWINCH}
)
#: Cannot be caught, or are faults of runcore itself.
NEVER_CAUGHT: FrozenSet[int] = frozenset(
    {signal.SIGKILL, signal.SIGSTOP, signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL}
)
#: Signals whose default action does not end a process (ignore, stop, continue).
_NOT_FATAL = {
    "SIGCHLD",
    "SIGCONT",
    "SIGURG",
    "SIGWINCH",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
}
NON_FATAL: FrozenSet[int] = frozenset(
    getattr(signal, name) for name in _NOT_FATAL if hasattr(signal, name)
)


def forwardable() -> FrozenSet[int]:
    """Every signal runcore catches and forwards to a foreground task."""
    return frozenset(int(s) for s in signal.valid_signals()) - NOT_FORWARDED - NEVER_CAUGHT


def is_fatal(signum: int) -> bool:
    """Whether ``signum``'s default action would have ended runcore (SIGINT, SIGTERM, ...)."""
    return signum not in NON_FATAL


def name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class SignalCatcher:
    """Installs queueing handlers for ``signals`` (main thread only) and restores them."""

    def __init__(self, events: "SimpleQueue[Any]", signals: Iterable[int]) -> None:
        self.events = events
        self.signals = sorted(set(signals))
        self._previous: Dict[int, Any] = {}

    @property
    def active(self) -> bool:
        return bool(self._previous)

    def _handler(self, signum: int, _frame: Any) -> None:
        self.events.put(("signal", signum))

    def install(self) -> bool:
        """Install the handlers; False (nothing done) when not on the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for signum in self.signals:
            try:
                self._previous[signum] = signal.signal(signum, self._handler)
            except (OSError, ValueError, RuntimeError):
                continue
        return True

    def add(self, signum: int) -> None:
        if threading.current_thread() is not threading.main_thread() or signum in self._previous:
            return
        try:
            self._previous[signum] = signal.signal(signum, self._handler)
        except (OSError, ValueError, RuntimeError):
            pass

    def restore(self) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            try:
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass

    def __enter__(self) -> "SignalCatcher":
        self.install()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.restore()


def _signal_names() -> Dict[str, int]:
    names: Dict[str, int] = {}
    for sig in signal.Signals:
        if sig.name.startswith("SIG") and not sig.name.startswith("SIG_"):
            names[sig.name[3:]] = int(sig)
    low = getattr(signal, "SIGRTMIN", None)
    high = getattr(signal, "SIGRTMAX", None)
    if low is not None and high is not None:
        for i in range(1, int(high) - int(low)):
            names.setdefault(f"RTMIN+{i}", int(low) + i)
            names.setdefault(f"RTMAX-{i}", int(high) - i)
    return names


def parse_signal(text: str) -> int:
    """A signal given as a number (1–255) or a name with or without ``SIG``, any case.

    As ctr (moby's ``signal.ParseSignal``); raises ``ValueError("invalid signal: X")``.
    """
    raw = text.strip()
    if raw.isdigit():
        number = int(raw)
        if 1 <= number <= 255:
            return number
        raise ValueError(f"invalid signal: {text}")
    name_ = raw.upper()
    if name_.startswith("SIG"):
        name_ = name_[3:]
    number_ = _signal_names().get(name_)
    if number_ is None:
        raise ValueError(f"invalid signal: {text}")
    return number_
