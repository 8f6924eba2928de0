"""The task's IO: ``--log-uri`` parsing, FIFO sets and the copy threads.

What ``Tasks/Create`` gets (reference §9):

* default – a FIFO set ``<fifo root>/<random>/<id>-stdin|stdout|stderr``; runcore copies
  its stdin into the stdin FIFO and the stdout/stderr FIFOs to its stdout/stderr;
* ``--tty`` – stdin and stdout FIFOs only, ``terminal=true``;
* ``--null-io`` – all three paths empty (the shim uses /dev/null);
* ``--log-uri U`` – ``stdin=""``, ``stdout=stderr=`` U as Go's ``url.Parse(U).String()``
  prints it (the shim interprets the scheme).

The copy is lossless: the readers of the stdout/stderr FIFOs are opened before
``Tasks/Create`` together with a "keeper" write end, so a read never sees a premature
end of file; the keeper is closed once the task exists (the shim then holds its own
write end), and end of file means the shim closed its end after the last byte.

Stdin, unlike ctr (containerd/containerd#4489), always reaches end of file: when
runcore's stdin ends – before or after the task was created – our write end is closed
and ``Tasks/CloseIO{stdin: true}`` is sent as soon as the task exists.
"""
from __future__ import annotations

import os
import random
import select
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from runcore.errors import UsageError
from runcore.gocompat import go_quote  # noqa: F401  (re-exported)
from runcore.gocompat.url import GoURL, URLParseError, parse_url  # noqa: F401  (Go url.Parse, moved)

DEFAULT_FIFO_ROOT = "/run/containerd/fifo"
#: Bytes per read from a FIFO (the shim writes in 32 KiB chunks).
CHUNK = 1 << 16

def parse_log_uri(value: str) -> GoURL:
    """The ``--log-uri`` value parsed as ctr does; :class:`UsageError` with Go's text."""
    try:
        return parse_url(value)
    except URLParseError as exc:
        raise UsageError(str(exc)) from None


# --------------------------------------------------------------------------- IO plan


@dataclass
class IOPlan:
    """What ``Tasks/Create`` gets, and how runcore connects to it."""

    stdin: str = ""
    stdout: str = ""
    stderr: str = ""
    terminal: bool = False
    fifos: Optional["FifoSet"] = None  # the FIFO set runcore copies through, if any


def plan_io(container_id: str, *, tty: bool = False, null_io: bool = False,
            log_uri: str = "", fifo_root: str = "", uid: Optional[int] = None,
            gid: Optional[int] = None) -> IOPlan:
    """Choose the task IO like ctr (tty, then null-io, then log-uri, then FIFOs).

    Creates the FIFO set when one is needed (the caller removes it with
    ``plan.fifos.remove()``).
    """
    if tty:
        fifos = FifoSet.create(fifo_root or DEFAULT_FIFO_ROOT, container_id,
                               stdin=True, stdout=True, stderr=False, uid=uid, gid=gid)
        return IOPlan(fifos.stdin, fifos.stdout, "", True, fifos)
    if null_io:
        return IOPlan()
    if log_uri:
        uri = str(parse_log_uri(log_uri))
        return IOPlan("", uri, uri, False)
    fifos = FifoSet.create(fifo_root or DEFAULT_FIFO_ROOT, container_id, uid=uid, gid=gid)
    return IOPlan(fifos.stdin, fifos.stdout, fifos.stderr, False, fifos)


# --------------------------------------------------------------------------- FIFO sets

STREAMS = ("stdin", "stdout", "stderr")


def fifo_paths(directory: str, container_id: str) -> List[str]:
    return [os.path.join(directory, f"{container_id}-{name}") for name in STREAMS]


@dataclass
class FifoSet:
    """``<root>/<random decimal>/<id>-stdin|stdout|stderr`` (absent streams are "")."""

    directory: str
    container_id: str
    stdin: str = ""
    stdout: str = ""
    stderr: str = ""

    @classmethod
    def create(cls, root: str, container_id: str, *, stdin: bool = True, stdout: bool = True,
               stderr: bool = True, uid: Optional[int] = None,
               gid: Optional[int] = None) -> "FifoSet":
        """``MkdirAll(root, 0700)``, a fresh random directory in it, and the FIFOs (0700)."""
        root = os.path.abspath(root)
        try:
            os.makedirs(root, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create FIFO directory {root}: {exc.strerror}") from None
        rng = random.SystemRandom()
        for _ in range(10000):
            directory = os.path.join(root, str(rng.getrandbits(32)))
            try:
                os.mkdir(directory, 0o700)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise UsageError(
                    f"cannot create FIFO directory in {root}: {exc.strerror}") from None
        else:  # pragma: no cover - astronomically unlikely
            raise UsageError(f"cannot create FIFO directory in {root}: too many collisions")
        fifos = cls(directory, container_id)
        try:
            wanted = {"stdin": stdin, "stdout": stdout, "stderr": stderr}
            for name, path in zip(STREAMS, fifo_paths(directory, container_id)):
                if not wanted[name]:
                    continue
                os.mkfifo(path, 0o700)
                os.chmod(path, 0o700)
                setattr(fifos, name, path)
            if uid is not None or gid is not None:
                owner = (-1 if uid is None else uid, -1 if gid is None else gid)
                os.chown(directory, *owner)
                for path in fifos.paths():
                    os.chown(path, *owner)
        except OSError as exc:
            fifos.remove()
            raise UsageError(f"cannot create FIFOs in {directory}: {exc.strerror}") from None
        return fifos

    def paths(self) -> List[str]:
        return [p for p in (self.stdin, self.stdout, self.stderr) if p]

    def remove(self) -> None:
        """Remove the FIFOs and the directory (missing ones are fine)."""
        remove_fifo_dir(self.directory, self.container_id)


def remove_fifo_dir(directory: str, container_id: str) -> bool:
    """Remove ``<directory>/<id>-std*`` FIFOs and then the directory if it is empty.

    Only FIFOs with those names are removed, so a wrong directory is never emptied.
    Returns whether the directory is gone.
    """
    for path in fifo_paths(directory, container_id):
        try:
            if stat.S_ISFIFO(os.lstat(path).st_mode):
                os.unlink(path)
        except OSError:
            pass
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def fifo_dir_of(paths: List[str], container_id: str) -> Optional[str]:
    """The FIFO directory a task's stdio paths point to, when they look like a FIFO set."""
    for path in paths:
        if not path or not os.path.isabs(path):
            continue
        base = os.path.basename(path)
        if base in (f"{container_id}-{name}" for name in STREAMS):
            return os.path.dirname(path)
    return None


# --------------------------------------------------------------------------- copying


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


def _write_all(fd: int, data: bytes, wake: _Wake) -> bool:
    """Write all of ``data``; False when ``fd`` is broken or ``wake`` fired."""
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
        except OSError:
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
        for fd, stream in enumerate((sys.__stdin__, sys.__stdout__, sys.__stderr__)))


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
            for path, dest in ((self.fifos.stdout, self.stdout_fd),
                               (self.fifos.stderr, self.stderr_fd)):
                if not path:
                    continue
                rfd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                self._fds.append(rfd)
                keeper = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                self._keepers.append(keeper)
                self._outputs.append(threading.Thread(
                    target=self._copy_out, args=(rfd, dest), daemon=True,
                    name=f"runcore-io-{os.path.basename(path)}"))
        except OSError as exc:
            self.close()
            raise UsageError(f"cannot open FIFOs in {self.fifos.directory}: {exc.strerror}") from None
        if self._stdin_w is not None:
            self._stdin_thread = threading.Thread(target=self._copy_in, daemon=True,
                                                  name="runcore-io-stdin")

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
                    broken = not _write_all(dest, data, self._wake)  # type: ignore[arg-type]
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
                if not _write_all(self._stdin_w, data, self._wake):
                    return
        self.stdin_eof.set()
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


__all__ = [
    "CHUNK", "DEFAULT_FIFO_ROOT", "Copier", "FifoSet", "GoURL", "IOPlan", "URLParseError",
    "fifo_dir_of", "fifo_paths", "go_quote", "parse_log_uri", "parse_url", "plan_io",
    "remove_fifo_dir", "standard_fds",
]
