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


def retrying(client: Any, call: Callable[[], T], what: str, window: Optional[float] = None) -> T:
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
                    f"back within {limit:g}s"
                ) from None
            time.sleep(min(pause, max(0.0, deadline - now)))
            pause = min(pause * 2, LONGEST_PAUSE)


#: Calls that may simply be repeated: same request, same outcome.
_REPEATABLE = {
    "containers": {"Get", "List", "Delete", "Update"},
    "snapshots": {"Mounts", "Remove", "Stat", "List"},
    "tasks": {
        "Get",
        "List",
        "Wait",
        "Kill",
        "Delete",
        "DeleteProcess",
        "CloseIO",
        "ResizePty",
        "ListPids",
        "Pause",
        "Resume",
    },
    "leases": {"Delete", "List"},
}


class _Service:
    """A containerd service whose calls survive a daemon restart (see :class:`Resilient`)."""

    def __init__(self, owner: "Resilient", name: str, service: Any) -> None:
        self._owner = owner
        self._name = name
        self._service = service

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._service, method)
        if method in _REPEATABLE.get(self._name, ()):
            return lambda *a, **kw: retrying(
                self._owner, lambda: target(*a, **kw), f"{self._name}/{method}"
            )
        if self._name == "tasks" and method in ("Create", "Exec", "Start"):
            return lambda *a, **kw: self._once(method, target, *a, **kw)
        return target

    def _once(self, method: str, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Create/Exec/Start: sent again only when containerd certainly did not do it.

        When the answer is lost (containerd went away) the call may have reached the
        shim: the process is looked up (``Tasks/Get``, retried while containerd is away)
        and the call repeated only if it did not happen. Never repeat a ``Start`` that
        got through: containerd 1.7's runc shim counts a second ``Start`` of a running
        exec process as a second process with the same pid, handles its exit twice, and
        panics (``makechan: size out of range`` in ``handleInitExit``) when the init exits.
        """
        try:
            return target(*args, **kwargs)
        except ContainerdError as exc:
            if not is_connection_lost(exc):
                raise

        def settle() -> Any:
            done = self._done(method, args, kwargs)
            if done is not None:
                return done
            try:
                return target(*args, **kwargs)
            except ContainerdError as exc:
                if is_connection_lost(exc):
                    raise
                done = self._done(method, args, kwargs)
                if done is None:
                    raise
                return done

        return retrying(self._owner, settle, f"tasks/{method}")

    def _done(self, method: str, args: Any, kwargs: Any) -> Any:
        """The answer of ``method`` if containerd did it already, else None.

        Raises when containerd is (still) away, so that nothing is repeated blindly.
        """
        request = args[0] if args else None
        cid = kwargs.get("container_id") or getattr(request, "container_id", "")
        exec_id = kwargs.get("exec_id", "")

        def get() -> Any:
            scope = {"exec_id": exec_id} if exec_id else {}
            return self._service.Get(container_id=cid, **scope).process

        try:
            process = get()
            # a Start still running in the shim shows CREATED a moment longer
            for _ in range(CREATED_RECHECKS if method == "Start" else 0):
                if process.status != CREATED:
                    break
                time.sleep(CREATED_PAUSE)
                process = get()
        except ContainerdError as exc:
            if is_connection_lost(exc):
                raise
            return None
        pb = self._owner.pb
        if method == "Create":
            return pb.tasks.CreateTaskResponse(container_id=cid, pid=process.pid)
        if method == "Start":
            return pb.tasks.StartResponse(pid=process.pid) if process.status != CREATED else None
        return pb.empty.Empty()


#: ``Tasks/Get`` status of a process created but not started (containerd's task.Status).
CREATED = 1
#: How often, and how far apart, a CREATED process is looked at again before ``Start`` is
#: repeated.
CREATED_RECHECKS, CREATED_PAUSE = 3, 0.5


class Resilient:
    """The containerd client of a task command, riding out a daemon restart.

    Repeatable calls are retried while containerd is unreachable, for at most
    ``window`` seconds; everything else is the wrapped client's.
    """

    def __init__(self, client: Any, window: Optional[float] = None) -> None:
        self._client = client
        self.reconnect_window = window or DEFAULT_WINDOW
        self._services: dict = {}

    @property
    def wrapped(self) -> Any:
        return self._client

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if name in ("containers", "snapshots", "tasks", "leases"):
            service = self._services.get(name)
            if service is None:
                service = self._services[name] = _Service(self, name, value)
            return service
        return value


def resilient(client: Any, connect_timeout: float = 0.0) -> Any:
    """``client`` wrapped in :class:`Resilient` (once); the window is ``--connect-timeout``
    when given, else :data:`DEFAULT_WINDOW`."""
    if isinstance(client, Resilient):
        return client
    return Resilient(client, connect_timeout or None)


__all__ = [
    "DEFAULT_WINDOW",
    "DaemonLost",
    "Resilient",
    "is_connection_lost",
    "resilient",
    "retrying",
    "window_of",
]
