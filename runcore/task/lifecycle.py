"""The task's lifetime: create, start, forward signals, wait, delete – and clean up.

:func:`run_task` follows ``ctr run`` after the container exists (reference §4.3), with
these deliberate improvements (see ``docs/ctr-differences.md``):

* every failure after the container exists – ``Tasks/Create`` or ``Tasks/Start``
  failing, a ``runcore_task_created`` hook raising, ``Tasks/Wait`` failing, SIGINT or
  SIGTERM before the task started, ``KeyboardInterrupt`` – kills (SIGKILL) and deletes
  the task; with ``--rm`` the record and its snapshot go too. Without ``--rm`` exactly
  the container record stays;
* stdin always reaches end of file in the container (``Tasks/CloseIO`` is sent even
  when runcore's stdin ended before the task existed);
* a missing command exits 127, a command that cannot be executed 126 (as docker);
* ``--tty`` restores the terminal on every exit path, also on SIGTERM/SIGHUP.

:func:`remove_container` is ``runcore rm``.
"""
from __future__ import annotations

import re
import signal
import threading
import time
from contextlib import contextmanager
from queue import Empty, SimpleQueue
from typing import Any, Dict, Iterator, List, Optional, Tuple

from runcore.errors import (
    ContainerdError,
    FailedPrecondition,
    NotFound,
    RuncoreError,
    UsageError,
    warn,
)
from runcore.record import TaskInfo
from runcore.runtime_options import RUNC_OPTIONS_URL
from runcore.task import io as taskio
from runcore.task import signals as sigs
from runcore.task import tty as ttymod

LEGACY_OPTIONS_URL = "containerd.linux.runc.CreateOptions"

#: How long cleanup waits for a killed task to report its exit.
KILL_WAIT = 15.0
#: Output draining gives up after this long without a byte while nothing is blocked
#: writing to runcore's stdout/stderr (e.g. a process outside the container's PID
#: namespace still holds the task's stdout).
DRAIN_IDLE = 10.0

# task status values (containerd.v1.types.Status)
UNKNOWN, CREATED, RUNNING, STOPPED, PAUSED, PAUSING = range(6)
STATUS_NAMES = {UNKNOWN: "unknown", CREATED: "created", RUNNING: "running",
                STOPPED: "stopped", PAUSED: "paused", PAUSING: "pausing"}


class CommandError(RuncoreError):
    """The container's command could not be executed (exit 127 or 126)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Interrupted(RuncoreError):
    """runcore got a terminating signal before the task started."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {sigs.name(signum)} before the task started")
        self.signum = signum
        self.exit_code = 128 + signum


_EXEC_RE = re.compile(r'exec: "(?:[^"\\]|\\.)*": .*')
_NOT_FOUND = ("executable file not found", "no such file or directory")
_CANNOT_EXEC = ("permission denied", "is a directory")


def command_error(exc: ContainerdError) -> Optional[CommandError]:
    """The 127/126 error hidden in a ``Tasks/Create``/``Start`` failure, if it is one.

    containerd says e.g. ``failed to create shim task: OCI runtime create failed: runc
    create failed: unable to start container process: exec: "nosuch": executable file
    not found in $PATH: unknown``; the part from ``exec:`` on (without the trailing
    gRPC code) becomes the message.
    """
    text = str(exc)
    match = _EXEC_RE.search(text)
    if not match:
        return None
    detail = match.group(0)
    for suffix in (": unknown", ": not found", ": failed precondition"):
        if detail.endswith(suffix):
            detail = detail[: -len(suffix)]
            break
    lowered = detail.lower()
    if any(s in lowered for s in _NOT_FOUND):
        return CommandError(detail, 127)
    if any(s in lowered for s in _CANNOT_EXEC):
        return CommandError(detail, 126)
    return None


def is_runc_runtime(name: str) -> bool:
    """Whether ``name`` gets ``containerd.runc.v1.Options`` task options (as ctr decides)."""
    parts = name.split(".")
    return len(parts) >= 3 and parts[:3] == ["io", "containerd", "runc"]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# containerd.linux.runc.CreateOptions (legacy; no generated module): name -> (number, kind)
_LEGACY_FIELDS = {
    "no_pivot_root": (1, "bool"), "open_tcp": (2, "bool"),
    "external_unix_sockets": (3, "bool"), "terminal": (4, "bool"), "file_locks": (5, "bool"),
    "cgroups_mode": (7, "str"), "no_new_keyring": (8, "bool"), "shim_cgroup": (9, "str"),
    "io_uid": (10, "int"), "io_gid": (11, "int"), "criu_work_path": (12, "str"),
    "criu_image_path": (13, "str"),
}


def legacy_create_options(**fields: Any) -> bytes:
    """Serialized ``containerd.linux.runc.CreateOptions`` (the subset ctr can set)."""
    out = bytearray()
    for name, value in sorted(fields.items(), key=lambda kv: _LEGACY_FIELDS.get(kv[0], (99,))[0]):
        if name not in _LEGACY_FIELDS:
            raise UsageError(f"task option {name!r} is not supported by runtime options "
                             f"{LEGACY_OPTIONS_URL}")
        number, kind = _LEGACY_FIELDS[name]
        if not value:
            continue
        if kind == "str":
            data = str(value).encode()
            out += _varint(number << 3 | 2) + _varint(len(data)) + data
        else:
            out += _varint(number << 3) + _varint(int(value))
    return bytes(out)


def task_options_any(client: Any, runtime_name: str, options: Dict[str, Any]) -> Any:
    """The ``Tasks/Create.options`` Any for ``options`` (a fresh message, as ctr)."""
    from runcore.runtime_options import runc_options

    if is_runc_runtime(runtime_name):
        try:
            value = runc_options(**options)
        except ValueError as exc:  # unknown field name
            raise UsageError(f"invalid task option: {exc}") from None
        return client.pb.any.Any(type_url=RUNC_OPTIONS_URL, value=value)
    return client.pb.any.Any(type_url=LEGACY_OPTIONS_URL, value=legacy_create_options(**options))


_warn = warn


@contextmanager
def no_deadline(client: Any) -> Iterator[None]:
    """Cleanup calls run even when the command's ``--timeout`` has expired."""
    with client.without_deadline():
        yield


def call_deleted_hooks(plugins: Any, task: TaskInfo, ctx: Any) -> None:
    """``runcore_task_deleted`` on every plugin; failures become warnings."""
    if plugins is None:
        return
    plugins.call_each("runcore_task_deleted", on_error=lambda failure: warn(str(failure)),
                      task=task, ctx=ctx)


def delete_record_and_snapshot(client: Any, record: Any) -> None:
    """``Snapshots/Remove`` (NotFound ignored) then ``Containers/Delete`` (NotFound ignored)."""
    if record.snapshot_key:
        snapshotter = record.snapshotter or client.default_snapshotter()
        try:
            client.snapshots.Remove(snapshotter=snapshotter, key=record.snapshot_key)
        except NotFound:
            pass
    try:
        client.containers.Delete(id=record.id)
    except NotFound:
        pass


def _get_task(client: Any, container_id: str) -> Optional[Any]:
    try:
        return client.tasks.Get(container_id=container_id).process
    except NotFound:
        return None


def destroy_task(client: Any, container_id: str, exited: Optional[threading.Event] = None,
                 kill_all: bool = False) -> Optional[Any]:
    """SIGKILL the task unless stopped, wait for it, ``Tasks/Delete``; None if no task.

    ``exited`` is set by a ``Tasks/Wait`` already in flight (else one is issued here).
    Returns the ``DeleteResponse``.
    """
    process = _get_task(client, container_id)
    if process is None:
        return None
    if process.status != STOPPED:
        try:
            client.tasks.Kill(container_id=container_id, signal=int(signal.SIGKILL),
                              all=kill_all)
        except NotFound:
            pass
        except ContainerdError as exc:
            _warn(f"kill task {container_id}: {exc}")
        if process.status in (PAUSED, PAUSING):
            try:
                client.tasks.Resume(container_id=container_id)
            except ContainerdError:
                pass
        if exited is None or not exited.wait(KILL_WAIT):
            try:
                client.tasks.Wait(container_id=container_id, timeout=KILL_WAIT)
            except NotFound:
                return None
            except ContainerdError as exc:
                _warn(f"wait for task {container_id}: {exc}")
    deadline = time.monotonic() + 5.0
    while True:
        try:
            return client.tasks.Delete(container_id=container_id)
        except NotFound:
            return None
        except FailedPrecondition:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


# --------------------------------------------------------------------------- run


class TaskRun:
    """One foreground or detached task of ``runcore run`` (see :func:`run_task`)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.client = ctx.client()
        self.cid: str = ctx.container_id
        self.rm = bool(ctx.opt("rm"))
        self.detach = bool(ctx.opt("detach"))
        self.tty = bool(ctx.opt("tty"))
        self.events: "SimpleQueue[Tuple[Any, ...]]" = SimpleQueue()
        self.catcher: Optional[sigs.SignalCatcher] = None
        self.terminal: Optional[ttymod.RawTerminal] = None
        self.plan: Optional[taskio.IOPlan] = None
        self.copier: Optional[taskio.Copier] = None
        self.record: Any = None
        self.pid = 0
        self.task_exists = False
        self.started = False
        self.exited = threading.Event()
        self.exit_status: Optional[int] = None
        self.wait_thread: Optional[threading.Thread] = None
        self.forwarding = True

    # -- entry --------------------------------------------------------------------

    def run(self) -> int:
        try:
            return self._run()
        except BaseException as exc:
            self._abort(exc)
            raise
        finally:
            if self.terminal is not None:
                self.terminal.restore()
            if self.catcher is not None:
                self.catcher.restore()

    def _run(self) -> int:
        client, pb = self.client, self.client.pb
        if self.tty and not ttymod.is_terminal(0):
            # Should have been refused before the container was created; leave nothing.
            self._remove_container_now()
            raise UsageError(ttymod.NOT_A_TTY)
        wanted = set(sigs.forwardable())
        if self.tty:
            wanted.add(int(signal.SIGWINCH))
        self.catcher = sigs.SignalCatcher(self.events, wanted)
        self.catcher.install()

        self.record = client.containers.Get(id=self.cid).container
        options: Dict[str, Any] = {}
        self.ctx.plugins.call_each("runcore_task_options", options=options, ctx=self.ctx)
        rootfs: List[Any] = []
        if self.record.snapshot_key:
            snapshotter = self.record.snapshotter or client.default_snapshotter()
            rootfs = list(client.snapshots.Mounts(snapshotter=snapshotter,
                                                  key=self.record.snapshot_key).mounts)
        self.plan = taskio.plan_io(
            self.cid, tty=self.tty, null_io=bool(self.ctx.opt("null_io")),
            log_uri=self.ctx.opt("log_uri") or "", fifo_root=self.ctx.opt("fifo_dir") or "",
            uid=options.get("io_uid"), gid=options.get("io_gid"))
        if self.plan.fifos is not None:
            stdin_fd, stdout_fd, stderr_fd = taskio.standard_fds()
            self.copier = taskio.Copier(self.plan.fifos, stdin_fd=stdin_fd, stdout_fd=stdout_fd,
                                        stderr_fd=stderr_fd, close_stdin=self._close_stdin)
            self.copier.open()
            self.copier.start()
        if self.tty:
            self.terminal = ttymod.RawTerminal(0)
            self.terminal.enter()
        self._check_interrupted()

        request = pb.tasks.CreateTaskRequest(
            container_id=self.cid, rootfs=rootfs, stdin=self.plan.stdin,
            stdout=self.plan.stdout, stderr=self.plan.stderr, terminal=self.plan.terminal)
        if options:
            request.options.CopyFrom(task_options_any(client, self.record.runtime.name, options))
        try:
            response = client.tasks.Create(request)
        except ContainerdError as exc:
            raise command_error(exc) or exc from None
        self.task_exists = True
        self.pid = response.pid
        if self.copier is not None:
            self.copier.task_created()
        if not self.detach:
            self.wait_thread = threading.Thread(target=self._wait, daemon=True,
                                                name="runcore-wait")
            self.wait_thread.start()
        self.ctx.plugins.call_each("runcore_task_created",
                                   task=TaskInfo(container_id=self.cid, pid=self.pid),
                                   ctx=self.ctx)
        self._check_interrupted()
        try:
            client.tasks.Start(container_id=self.cid)
        except ContainerdError as exc:
            raise command_error(exc) or exc from None
        self.started = True
        if self.detach:
            self._detached()
            return 0
        if self.tty:
            self._resize()
        status = self._wait_loop()
        return self._finish(status)

    # -- helpers ------------------------------------------------------------------

    def _close_stdin(self) -> None:
        self.client.tasks.CloseIO(container_id=self.cid, stdin=True)

    def _wait(self) -> None:
        try:
            response = self.client.tasks.Wait(container_id=self.cid)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            self.events.put(("wait-error", exc))
        else:
            self.exit_status = response.exit_status
            self.exited.set()  # only a real exit: a failed Wait says nothing about the task
            self.events.put(("exit", response.exit_status))

    def _exit_waiter(self) -> Optional[threading.Event]:
        """The event that will report the task's exit, if a ``Tasks/Wait`` is still on it."""
        alive = self.wait_thread is not None and self.wait_thread.is_alive()
        return self.exited if alive or self.exited.is_set() else None

    def _check_interrupted(self) -> None:
        """Before the task started: a terminating signal aborts the run, other signals
        are dropped, and the wait thread's reports are kept for the main loop."""
        keep = []
        try:
            while True:
                try:
                    item = self.events.get_nowait()
                except Empty:
                    return
                if item[0] != "signal":
                    keep.append(item)
                elif sigs.is_fatal(item[1]) and not (self.tty and item[1] == signal.SIGINT):
                    raise Interrupted(item[1])
        finally:
            for item in keep:
                self.events.put(item)

    def _resize(self) -> None:
        size = ttymod.window_size(0)
        if size is None:
            return
        width, height = size
        try:
            self.client.tasks.ResizePty(container_id=self.cid, width=width, height=height)
        except ContainerdError as exc:
            _warn(f"resize pty: {exc}")

    def _forward(self, signum: int) -> None:
        if self.tty:
            if signum == signal.SIGWINCH:
                self._resize()
                return
            if signum == signal.SIGINT:
                return  # ^C reaches the container through the terminal as a byte
        if not self.forwarding or signum in sigs.NOT_FORWARDED:
            return
        try:
            self.client.tasks.Kill(container_id=self.cid, signal=signum)
        except NotFound:
            self.forwarding = False
        except ContainerdError as exc:
            _warn(f"forward signal {sigs.name(signum)}: {exc}")

    def _wait_loop(self) -> int:
        while True:
            try:
                item = self.events.get(timeout=0.5)
            except Empty:
                continue
            kind = item[0]
            if kind == "signal":
                self._forward(item[1])
            elif kind == "exit":
                return int(item[1])
            elif kind == "wait-error":
                exc = item[1]
                if isinstance(exc, RuncoreError):
                    raise exc
                raise RuncoreError(f"wait for task: {exc}")

    def _finish(self, status: int) -> int:
        """The task exited: drain output, delete it, clean up; the exit code."""
        client = self.client
        if self.copier is not None:
            self.copier.wait_output(idle=DRAIN_IDLE)
        with no_deadline(client):
            response = destroy_task(client, self.cid, self.exited)
            self.task_exists = False
            if self.copier is not None:
                self.copier.wait_output(idle=2.0)
                self.copier.close()
            if self.plan is not None and self.plan.fifos is not None:
                self.plan.fifos.remove()
            if self.rm:
                delete_record_and_snapshot(client, self.record)
        pid = response.pid if response is not None and response.pid else self.pid
        call_deleted_hooks(self.ctx.plugins, TaskInfo(
            container_id=self.cid, pid=pid, exit_status=status, record=self.record), self.ctx)
        return status if 0 <= status <= 255 else 255

    def _detached(self) -> None:
        """Leave the task running; our ends of the FIFOs close with runcore.

        The FIFO directory stays (as with ctr) so the task's IO paths stay valid; it is
        removed by ``runcore rm`` (or ``ctr tasks rm``) when the task is deleted.
        """
        if self.copier is not None:
            # Input already complete? Then the container gets its end of file now.
            if self.copier.stdin_eof.is_set():
                self.copier.stdin_closed.wait(5.0)
            self.copier.close(timeout=0.5)

    def _remove_container_now(self) -> None:
        try:
            record = self.client.containers.Get(id=self.cid).container
        except NotFound:
            return
        delete_record_and_snapshot(self.client, record)

    def _abort(self, exc: BaseException) -> None:
        """Undo after a failure: task killed and deleted; with --rm the container too."""
        client = self.client
        if self.terminal is not None:
            self.terminal.restore()
        try:
            with no_deadline(client):
                had_task = self.task_exists
                if self.task_exists:
                    try:
                        destroy_task(client, self.cid, self._exit_waiter())
                        self.task_exists = False
                    except ContainerdError as err:
                        _warn(f"cannot delete task {self.cid}: {err}")
                if self.copier is not None:
                    self.copier.close(timeout=0.5)
                if self.plan is not None and self.plan.fifos is not None and not self.task_exists:
                    self.plan.fifos.remove()
                if self.rm and not self.task_exists:
                    record = self.record
                    if record is None:
                        try:
                            record = client.containers.Get(id=self.cid).container
                        except NotFound:
                            record = None
                    if record is not None:
                        delete_record_and_snapshot(client, record)
                if had_task and not self.task_exists:
                    call_deleted_hooks(self.ctx.plugins, TaskInfo(
                        container_id=self.cid, pid=self.pid, exit_status=self.exit_status,
                        record=self.record), self.ctx)
        except BaseException as err:  # cleanup must not hide the original error
            _warn(f"cleanup after failure: {err}")


def run_task(ctx: Any) -> int:
    """Create and start the task of ``ctx``'s container; return runcore's exit code.

    Foreground: the container's exit status (0–255; 128+N for a signal). ``--detach``:
    0 right after ``Tasks/Start``.
    """
    return TaskRun(ctx).run()


# --------------------------------------------------------------------------- rm


def remove_container(client: Any, container_id: str, force: bool = False,
                     plugins: Any = None, ctx: Any = None) -> None:
    """Delete ``container_id``: its task (killed first with ``force``), FIFOs, snapshot, record.

    A running (or paused) task without ``force`` is refused with
    ``cannot delete running task <id>: failed precondition``. ``runcore_task_deleted``
    hooks run afterwards (they must be idempotent).
    """
    try:
        record = client.containers.Get(id=container_id).container
    except NotFound:
        raise NotFound(f'container "{container_id}": not found') from None
    process = _get_task(client, container_id)
    pid = 0
    exit_status: Optional[int] = None
    if process is not None:
        pid = process.pid
        fifo_dir = taskio.fifo_dir_of([process.stdin, process.stdout, process.stderr],
                                      container_id)
        if process.status in (RUNNING, PAUSED, PAUSING) and not force:
            raise FailedPrecondition(
                f"cannot delete running task {container_id}: failed precondition",
                hint="use 'runcore rm -f' to kill it")
        response = destroy_task(client, container_id, kill_all=True)
        if response is not None:
            exit_status = response.exit_status
        if fifo_dir is not None:
            taskio.remove_fifo_dir(fifo_dir, container_id)
    delete_record_and_snapshot(client, record)
    call_deleted_hooks(plugins, TaskInfo(container_id=container_id, pid=pid,
                                         exit_status=exit_status, record=record), ctx)


def task_status(client: Any) -> Dict[str, Any]:
    """container id → task ``Process`` for every task of the namespace."""
    # containerd fills ``id`` (the task id = container id) and leaves container_id empty
    return {p.container_id or p.id: p for p in client.tasks.List().tasks}


__all__ = [
    "CommandError", "Interrupted", "TaskRun", "command_error", "destroy_task",
    "delete_record_and_snapshot", "is_runc_runtime", "legacy_create_options", "remove_container",
    "run_task", "task_options_any", "task_status", "STATUS_NAMES",
]
