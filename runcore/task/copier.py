"""Copy threads between runcore's own stdio and a task's FIFO set.

The copy is lossless: the readers of the stdout/stderr FIFOs are opened before
``Tasks/Create`` together with a "keeper" write end, so a read never sees a premature
end of file; the keeper is closed once the task exists (the shim then holds its own
write end), and end of file means the shim closed its end after the last byte.

Stdin, unlike ctr (containerd/containerd#4489), always reaches end of file: when
runcore's stdin ends – before or after the task was created – our write end is closed
and ``Tasks/CloseIO{stdin: true}`` is sent as soon as the task exists.
"""

from __future__ import annotations

import errno
import os
import select
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from runcore.errors import UsageError
from runcore.task.fifos import FifoSet

#: Bytes per read from a FIFO (the shim writes in 32 KiB chunks).
CHUNK = 1 << 16
#: runcore's exit status when the task succeeded but its output could not be written
#: to runcore's own stdout/stderr (``EX_IOERR`` of sysexits.h).
OUTPUT_LOST = 74


class _Wake:
    """A pipe that becomes readable (forever) once :meth:`fire` is called."""

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        self.fired = threading.Event()

    def fire(self) -> None:
        if not self.fired.is_set():
            self.fired.set()
            try:
                os.write(self.w, b"x")
            except OSError:
                pass

    def close(self) -> None:
        for fd in (self.r, self.w):
            try:
                os.close(fd)
            except OSError:
                pass


def _wait_fd(fd: int, events: int, wake: _Wake) -> bool:
    """Block until ``fd`` has ``events`` (True) or ``wake`` fired (False)."""
    poller = select.poll()
    poller.register(fd, events | select.POLLHUP | select.POLLERR)
    poller.register(wake.r, select.POLLIN)
    while True:
        try:
            ready = poller.poll()
        except InterruptedError:  # pragma: no cover - PEP 475 retries already
            continue
        fds = {f for f, _ in ready}
        if wake.r in fds:
            return False
        if fd in fds:
            return True


def _write_all(fd: int, data: bytes, wake: _Wake, failure: Optional[List[OSError]] = None) -> bool:
    """Write all of ``data``; False when ``fd`` is broken or ``wake`` fired.

    The error of a broken ``fd`` is appended to ``failure``.
    """
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            if not _wait_fd(fd, select.POLLOUT, wake):
                return False
            continue
        except InterruptedError:  # pragma: no cover
            continue
        except OSError as exc:
            if failure is not None:
                failure.append(exc)
            return False
        view = view[n:]
    return True


def standard_fds() -> Tuple[Optional[int], Optional[int], Optional[int]]:
    """runcore's stdin, stdout, stderr descriptors; None for one that was closed when
    runcore started (its number may since belong to a socket or file of runcore's own,
    so it must be neither read nor written)."""
    import sys

    return tuple(  # type: ignore[return-value]
        None if stream is None else fd
        for fd, stream in enumerate((sys.__stdin__, sys.__stdout__, sys.__stderr__))
    )


def _stdin_usable(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@dataclass
class Copier:
    """Copies runcore's stdio to and from a FIFO set, in daemon threads.

    Life cycle: :meth:`open` (before ``Tasks/Create``: opens our ends) →
    :meth:`start` → :meth:`task_created` (after a successful ``Tasks/Create``) →
    :meth:`wait_output` (drain after the task exited) → :meth:`close`.
    ``close_stdin`` is called once (from the stdin thread) after our stdin write end was
    closed because runcore's stdin ended; it should send ``Tasks/CloseIO``.
    """

    fifos: FifoSet
    stdin_fd: Optional[int] = 0
    stdout_fd: Optional[int] = 1
    stderr_fd: Optional[int] = 2
    close_stdin: Optional[Callable[[], None]] = None
    _fds: List[int] = field(default_factory=list)
    _keepers: List[int] = field(default_factory=list)
    _threads: List[threading.Thread] = field(default_factory=list)
    _outputs: List[threading.Thread] = field(default_factory=list)
    _stdin_thread: Optional[threading.Thread] = None
    _stdin_w: Optional[int] = None
    _wake: Optional[_Wake] = None
    _created: threading.Event = field(default_factory=threading.Event)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _activity: float = 0.0
    _writing: int = 0
    stdin_eof: threading.Event = field(default_factory=threading.Event)
    stdin_closed: threading.Event = field(default_factory=threading.Event)
    #: (destination fd, error) of the first failed write other than a closed pipe.
    output_lost: Optional[Tuple[int, OSError]] = None
    #: Input sequence that detaches (``attach``: Ctrl-P Ctrl-Q), and what to call then.
    detach_keys: bytes = b""
    on_detach: Optional[Callable[[], None]] = None
    #: Leave the task's stdin open when runcore's stdin ends (``attach``).
    keep_stdin_open: bool = False
    _matched: int = 0

    def _scan_detach(self, data: bytes) -> Tuple[bytes, bool]:
        """``data`` without a detach sequence; whether the sequence completed.

        Bytes of a partial match are held back until the match fails.
        """
        keys = self.detach_keys
        out = bytearray()
        for byte in data:
            if byte == keys[self._matched]:
                self._matched += 1
                if self._matched == len(keys):
                    self._matched = 0
                    return bytes(out), True
                continue
            if self._matched:
                out += keys[: self._matched]
                self._matched = 0
                if byte == keys[0]:
                    self._matched = 1
                    continue
            out.append(byte)
        return bytes(out), False

    def report_output_lost(self) -> None:
        """One line about the lost output, on the other standard stream (if it works)."""
        if self.output_lost is None:
            return
        dest, exc = self.output_lost
        names = {self.stdout_fd: "stdout", self.stderr_fd: "stderr"}
        name = names.get(dest, f"fd {dest}")
        other = self.stderr_fd if dest == self.stdout_fd else self.stdout_fd
        line = (
            f"runcore: output of the container lost: cannot write to {name}: "
            f"{exc.strerror or exc}\n"
        ).encode()
        for fd in (other, 2 if other != 2 and dest != 2 else None):
            if fd is None:
                continue
            try:
                os.write(fd, line)
                return
            except OSError:
                continue

    def open(self) -> None:
        """Open our FIFO ends (never blocks: readers get a keeper writer, stdin is O_RDWR)."""
        self._wake = _Wake()
        try:
            if self.fifos.stdin:
                # O_RDWR: opening never blocks, writes are buffered until the shim reads,
                # and we never get EPIPE; closing it is our "end of input".
                fd = os.open(self.fifos.stdin, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
                self._fds.append(fd)
                self._stdin_w = fd
            for path, dest in (
                (self.fifos.stdout, self.stdout_fd),
                (self.fifos.stderr, self.stderr_fd),
            ):
                if not path:
                    continue
                rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                self._fds.append(rfd)
                keeper = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                self._keepers.append(keeper)
                self._outputs.append(
                    threading.Thread(
                        target=self._copy_out,
                        args=(rfd, dest),
                        daemon=True,
                        name=f"runcore-io-{os.path.basename(path)}",
                    )
                )
        except OSError as exc:
            self.close()
            raise UsageError(
                f"cannot open FIFOs in {self.fifos.directory}: {exc.strerror}"
            ) from None
        if self._stdin_w is not None:
            self._stdin_thread = threading.Thread(
                target=self._copy_in, daemon=True, name="runcore-io-stdin"
            )

    def start(self) -> None:
        self._activity = time.monotonic()
        for thread in self._outputs:
            thread.start()
            self._threads.append(thread)
        if self._stdin_thread is not None:
            self._stdin_thread.start()
            self._threads.append(self._stdin_thread)

    def task_created(self) -> None:
        """The shim holds its ends now: drop the keepers; stdin may be closed from now on."""
        self._close_keepers()
        self._created.set()

    def _close_keepers(self) -> None:
        with self._lock:
            keepers, self._keepers = self._keepers, []
        for fd in keepers:
            try:
                os.close(fd)
            except OSError:
                pass

    # -- threads ------------------------------------------------------------------

    def _copy_out(self, rfd: int, dest: Optional[int]) -> None:
        assert self._wake is not None
        broken = dest is None  # nowhere to write: drain and discard
        while True:
            try:
                data = os.read(rfd, CHUNK)
            except BlockingIOError:
                if not _wait_fd(rfd, select.POLLIN, self._wake):
                    return
                continue
            except InterruptedError:  # pragma: no cover
                continue
            except OSError:
                return
            if not data:
                return  # every writer (the shim) closed: all output arrived
            self._activity = time.monotonic()
            if not broken:
                with self._lock:
                    self._writing += 1
                try:
                    failure: List[OSError] = []
                    broken = not _write_all(dest, data, self._wake, failure)  # type: ignore[arg-type]
                    if failure and failure[0].errno != errno.EPIPE and self.output_lost is None:
                        # a reader that went away (| head) is normal; a full disk is not
                        self.output_lost = (int(dest or 0), failure[0])
                finally:
                    with self._lock:
                        self._writing -= 1
                    self._activity = time.monotonic()
                if broken and self._wake.fired.is_set():
                    return

    def _copy_in(self) -> None:
        assert self._wake is not None and self._stdin_w is not None
        src = self.stdin_fd
        if src is not None and _stdin_usable(src):
            while True:
                if not _wait_fd(src, select.POLLIN, self._wake):
                    return
                try:
                    data = os.read(src, CHUNK)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:  # EIO (terminal hung up), EBADF: end of input
                    data = b""
                if not data:
                    break
                if self.detach_keys:
                    data, detached = self._scan_detach(data)
                    if data and not _write_all(self._stdin_w, data, self._wake):
                        return
                    if detached:
                        if self.on_detach is not None:
                            self.on_detach()
                        return
                    continue
                if not _write_all(self._stdin_w, data, self._wake):
                    return
        if not self.keep_stdin_open:
            self.stdin_eof.set()
        else:
            return  # attach: the task's stdin is not ours to close
        # Close our end only once the task exists: before that nobody else holds the
        # FIFO and the buffered input would be lost with it.
        while not self._created.wait(0.05):
            if self._cancel.is_set():
                return
        if self._cancel.is_set():
            return
        self._close_stdin_fd()
        self.stdin_closed.set()
        if self.close_stdin is not None:
            try:
                self.close_stdin()
            except Exception:  # the task may be gone already; nothing to do
                pass

    def _close_stdin_fd(self) -> None:
        with self._lock:
            fd, self._stdin_w = self._stdin_w, None
            if fd is not None and fd in self._fds:
                self._fds.remove(fd)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # -- ending -------------------------------------------------------------------

    def wait_output(self, idle: Optional[float] = None) -> bool:
        """Wait until stdout/stderr reached end of file; True when they did.

        With ``idle``, give up (False) once no byte arrived for ``idle`` seconds while
        no copy is blocked writing to runcore's own stdout/stderr (a slow reader of
        runcore's output never makes it give up).
        """
        began = time.monotonic()
        pending = [t for t in self._outputs if t.ident is not None]
        while pending:
            pending[0].join(0.1)
            pending = [t for t in pending if t.is_alive()]
            if not pending or idle is None:
                continue
            if self._writing == 0 and time.monotonic() - max(began, self._activity) > idle:
                return False
        return True

    def close(self, timeout: float = 2.0) -> None:
        """Stop the threads and close our ends (a stuck thread keeps its fds)."""
        self._cancel.set()
        if self._wake is not None:
            self._wake.fire()
        self._close_keepers()
        stuck = False
        for thread in self._threads:
            thread.join(timeout)
            stuck = stuck or thread.is_alive()
        if stuck:
            return
        with self._lock:
            fds, self._fds = self._fds, []
            self._stdin_w = None
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        if self._wake is not None:
            self._wake.close()
            self._wake = None


__all__ = ["CHUNK", "OUTPUT_LOST", "Copier", "standard_fds"]
