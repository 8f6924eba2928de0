"""A task's or exec process's lifetime: create, start, forward signals, wait, delete – and clean up.

:class:`TaskRun` follows ``ctr run`` after the container exists (reference §4.3) and is
also ``runcore start`` (the same steps for a container made earlier);
:class:`ExecRun` is ``runcore exec`` (``ctr tasks exec``). Deliberate improvements (see
``docs/ctr-differences.md``):

* every failure after the container exists – ``Tasks/Create`` or ``Tasks/Start``
  failing, a ``runcore_task_created`` hook raising, ``Tasks/Wait`` failing, SIGINT or
  SIGTERM before the task started, ``KeyboardInterrupt`` – kills (SIGKILL) and deletes
  the task; with ``--rm`` the record and its snapshot go too. Without ``--rm`` exactly
  the container record stays; an exec process is deleted on every path;
* stdin always reaches end of file in the container (``Tasks/CloseIO`` is sent even
  when runcore's stdin ended before the task existed);
* a missing command exits 127, a command that cannot be executed 126 (as docker);
* ``--tty`` restores the terminal on every exit path, also on SIGTERM/SIGHUP;
* a containerd restart while the task runs is ridden out (:mod:`runcore.task.reconnect`):
  the wait is re-established and the run ends normally;
* a write error on runcore's own stdout/stderr (``> /dev/full``) is reported on the other
  stream and the run exits :data:`runcore.task.copier.OUTPUT_LOST` unless the task failed.
"""

from __future__ import annotations

import signal
import threading
from queue import Empty, SimpleQueue
from typing import Any, Dict, List, Optional, Tuple

from runcore.context import CREATED_RECORD, PREPARED_MOUNTS
from runcore.errors import (
    ContainerdError,
    NotFound,
    RuncoreError,
    Unavailable,
    UsageError,
    warn,
)
from runcore.record import TaskInfo
from runcore.task import signals as sigs
from runcore.task import tty as ttymod
from runcore.task.cleanup import (
    delete_process,
    delete_record_and_snapshot,
    destroy_task,
    no_deadline,
)
from runcore.task.copier import OUTPUT_LOST, Copier, standard_fds
from runcore.task.errors import Interrupted, command_error
from runcore.task.hooks import call_deleted_hooks
from runcore.task.ioplan import IOPlan, plan_io
from runcore.task.options import task_options_any
from runcore.task.reconnect import DaemonLost, resilient, retrying

#: Output draining gives up after this long without a byte while nothing is blocked
#: writing to runcore's stdout/stderr (e.g. a process outside the container's PID
#: namespace still holds the task's stdout).
DRAIN_IDLE = 10.0

# --------------------------------------------------------------------------- run


class TaskRun:
    """One foreground or detached task of ``runcore run`` / ``runcore start``."""

    #: "" for the task's init process; an exec id for :class:`ExecRun`.
    exec_id = ""
    #: Whether the shim opens the FIFOs only at ``Tasks/Start`` (exec processes) rather
    #: than at create: our keeper write ends must stay open until then.
    io_opened_at_start = False

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        globals_ = getattr(ctx, "globals", None)
        self.client = resilient(ctx.client(), getattr(globals_, "connect_timeout", 0.0) or 0.0)
        self.cid: str = ctx.container_id
        self.rm = bool(ctx.opt("rm"))
        self.detach = bool(ctx.opt("detach"))
        self.tty = bool(ctx.opt("tty"))
        self.events: "SimpleQueue[Tuple[Any, ...]]" = SimpleQueue()
        self.catcher: Optional[sigs.SignalCatcher] = None
        self.terminal: Optional[ttymod.RawTerminal] = None
        self.plan: Optional[IOPlan] = None
        self.copier: Optional[Copier] = None
        #: what the same command's ``create`` handed over (runcore.context's notes)
        self.stash = getattr(ctx, "stash", None)
        #: the container record (``Containers/Get`` when the same command did not create it)
        self.record: Any = self.stash.get(CREATED_RECORD, None) if self.stash is not None else None
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
        except DaemonLost as exc:
            self._abort(exc)
            raise DaemonLost(
                exc.message,
                hint=(
                    "the task may still be running; once containerd is back, "
                    f"'runcore rm -f {self.cid}' removes everything"
                ),
            ) from None
        except BaseException as exc:
            self._abort(exc)
            raise
        finally:
            if self.terminal is not None:
                self.terminal.restore()
            if self.catcher is not None:
                self.catcher.restore()

    def _run(self) -> int:
        if self.tty and not ttymod.is_terminal(0):
            # Should have been refused before the container was created; leave nothing.
            self._refuse_without_terminal()
            raise UsageError(ttymod.NOT_A_TTY)
        wanted = set(sigs.forwardable())
        if self.tty:
            wanted.add(int(signal.SIGWINCH))
        self.catcher = sigs.SignalCatcher(self.events, wanted)
        self.catcher.install()

        if self.record is None:
            self.record = self.client.containers.Get(id=self.cid).container
        options = self._prepare()
        self.plan = plan_io(
            self._io_name(),
            tty=self.tty,
            null_io=bool(self.ctx.opt("null_io")),
            log_uri=self.ctx.opt("log_uri") or "",
            fifo_root=self.ctx.opt("fifo_dir") or "",
            uid=options.get("io_uid"),
            gid=options.get("io_gid"),
        )
        if self.plan.fifos is not None:
            stdin_fd, stdout_fd, stderr_fd = standard_fds()
            self.copier = Copier(
                self.plan.fifos,
                stdin_fd=stdin_fd,
                stdout_fd=stdout_fd,
                stderr_fd=stderr_fd,
                close_stdin=self._close_stdin,
            )
            self.copier.open()
            self.copier.start()
        if self.tty:
            self.terminal = ttymod.RawTerminal(0)
            self.terminal.enter()
        self._check_interrupted()

        try:
            self.pid = self._create(options)
        except ContainerdError as exc:
            raise command_error(exc) or exc from None
        self.task_exists = True
        if self.copier is not None and not self.io_opened_at_start:
            self.copier.task_created()
        if not self.detach:
            self.wait_thread = threading.Thread(target=self._wait, daemon=True, name="runcore-wait")
            self.wait_thread.start()
        self._created()
        self._check_interrupted()
        try:
            self.client.tasks.Start(container_id=self.cid, **self._eid())
        except ContainerdError as exc:
            raise command_error(exc) or exc from None
        self.started = True
        if self.copier is not None and self.io_opened_at_start:
            self.copier.task_created()
        if self.detach:
            self._detached()
            return 0
        if self.tty:
            self._resize()
        status = self._wait_loop()
        return self._finish(status)

    # -- the steps that differ between a task and an exec process ------------------

    def _task_info(self, **extra: Any) -> TaskInfo:
        return TaskInfo(
            container_id=self.cid, pid=self.pid, record=self.record, exec_id=self.exec_id, **extra
        )

    def _io_name(self) -> str:
        return self.cid

    def _eid(self) -> Dict[str, str]:
        """``exec_id`` for calls about an exec process (nothing for the init process)."""
        return {"exec_id": self.exec_id} if self.exec_id else {}

    def _prepare(self) -> Dict[str, Any]:
        """The task options from the plugins (they see the stored record)."""
        options: Dict[str, Any] = {}
        self.ctx.plugins.call_each(
            "runcore_task_options", options=options, task=self._task_info(), ctx=self.ctx
        )
        return options

    def _create(self, options: Dict[str, Any]) -> int:
        client, pb = self.client, self.client.pb
        rootfs: List[Any] = []
        prepared = self.stash.get(PREPARED_MOUNTS, None) if self.stash is not None else None
        if prepared is not None and prepared[0] == self.record.snapshot_key:
            rootfs = list(prepared[1])  # what Snapshots/Prepare answered in this command
        elif self.record.snapshot_key:
            snapshotter = self.record.snapshotter or client.default_snapshotter()
            rootfs = list(
                client.snapshots.Mounts(
                    snapshotter=snapshotter, key=self.record.snapshot_key
                ).mounts
            )
        assert self.plan is not None
        request = pb.tasks.CreateTaskRequest(
            container_id=self.cid,
            rootfs=rootfs,
            stdin=self.plan.stdin,
            stdout=self.plan.stdout,
            stderr=self.plan.stderr,
            terminal=self.plan.terminal,
        )
        if options:
            request.options.CopyFrom(task_options_any(client, self.record.runtime.name, options))
        return int(client.tasks.Create(request).pid)

    def _created(self) -> None:
        self.ctx.plugins.call_each("runcore_task_created", task=self._task_info(), ctx=self.ctx)

    def _destroy(self, exited: Optional[threading.Event]) -> Optional[Any]:
        return destroy_task(self.client, self.cid, exited)

    def _after_delete(self, pid: int, status: Optional[int]) -> None:
        if self.rm:
            delete_record_and_snapshot(self.client, self.record)
        call_deleted_hooks(
            self.ctx.plugins,
            TaskInfo(container_id=self.cid, pid=pid, exit_status=status, record=self.record),
            self.ctx,
        )

    def _refuse_without_terminal(self) -> None:
        self._remove_container_now()

    # -- helpers ------------------------------------------------------------------

    def _close_stdin(self) -> None:
        self.client.tasks.CloseIO(container_id=self.cid, **self._eid(), stdin=True)

    def _wait(self) -> None:
        """``Tasks/Wait``, re-established when containerd restarts meanwhile."""
        try:
            response = retrying(
                self.client,
                lambda: self.client.tasks.Wait(container_id=self.cid, **self._eid()),
                "the wait for the task",
            )
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
            self.client.tasks.ResizePty(
                container_id=self.cid, **self._eid(), width=width, height=height
            )
        except ContainerdError as exc:
            warn(f"resize pty: {exc}")

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
            retrying(
                self.client,
                lambda: self.client.tasks.Kill(container_id=self.cid, **self._eid(), signal=signum),
                f"forwarding {sigs.name(signum)}",
            )
        except NotFound:
            self.forwarding = False
        except ContainerdError as exc:
            warn(f"forward signal {sigs.name(signum)}: {exc}")

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
            response = retrying(
                client, lambda: self._destroy(self.exited), "the removal of the task"
            )
            self.task_exists = False
            if self.copier is not None:
                self.copier.wait_output(idle=2.0)
                self.copier.close()
            if self.plan is not None and self.plan.fifos is not None:
                self.plan.fifos.remove()
            pid = response.pid if response is not None and response.pid else self.pid
            retrying(client, lambda: self._after_delete(pid, status), "the clean-up")
        code = status if 0 <= status <= 255 else 255
        if self.copier is not None and self.copier.output_lost is not None:
            self.copier.report_output_lost()
            return code or OUTPUT_LOST
        return code

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
        lost = isinstance(exc, Unavailable)  # containerd away: leave the task for rm -f
        try:
            with no_deadline(client):
                had_task = self.task_exists
                if self.task_exists and not lost:
                    try:
                        retrying(
                            client,
                            lambda: self._destroy(self._exit_waiter()),
                            "the removal of the task",
                        )
                        self.task_exists = False
                    except ContainerdError as err:
                        warn(f"cannot delete task {self.cid}: {err}")
                if self.copier is not None:
                    self.copier.close(timeout=0.5)
                if self.plan is not None and self.plan.fifos is not None and not self.task_exists:
                    self.plan.fifos.remove()
                if self.rm and not self.task_exists and not lost and self.exec_id == "":
                    record = self.record
                    if record is None:
                        try:
                            record = client.containers.Get(id=self.cid).container
                        except NotFound:
                            record = None
                    if record is not None:
                        delete_record_and_snapshot(client, record)
                if had_task and not self.task_exists and self.exec_id == "":
                    call_deleted_hooks(
                        self.ctx.plugins,
                        TaskInfo(
                            container_id=self.cid,
                            pid=self.pid,
                            exit_status=self.exit_status,
                            record=self.record,
                        ),
                        self.ctx,
                    )
        except BaseException as err:  # cleanup must not hide the original error
            warn(f"cleanup after failure: {err}")


class ExecRun(TaskRun):
    """``runcore exec``: an extra process in a running task (``Tasks/Exec``).

    ``process`` is the OCI process (dict) already adjusted by the plugins. In the
    foreground the process is deleted (``Tasks/DeleteProcess``) on every path; with
    ``--detach`` it stays until the task is deleted, as with ctr.
    """

    io_opened_at_start = True

    def __init__(self, ctx: Any, exec_id: str, process: Dict[str, Any], record: Any) -> None:
        super().__init__(ctx)
        self.rm = False
        self.exec_id = exec_id
        self.process = process
        self.record = record

    def _io_name(self) -> str:
        from runcore.task.remove import exec_io_name

        return exec_io_name(self.cid, self.exec_id)

    def _prepare(self) -> Dict[str, Any]:
        options: Dict[str, Any] = {}
        # The FIFOs belong to the container's root (e.g. a userns container's mapped root).
        self.ctx.plugins.call_each(
            "runcore_task_options", options=options, task=self._task_info(), ctx=self.ctx
        )
        return {k: v for k, v in options.items() if k in ("io_uid", "io_gid")}

    def _create(self, options: Dict[str, Any]) -> int:
        from runcore.oci.jsonutil import encode_struct

        client = self.client
        assert self.plan is not None
        spec = client.pb.any.Any(
            type_url=PROCESS_TYPE_URL, value=encode_struct(self.process, "Process")
        )
        try:
            client.tasks.Exec(
                container_id=self.cid,
                **self._eid(),
                stdin=self.plan.stdin,
                stdout=self.plan.stdout,
                stderr=self.plan.stderr,
                terminal=self.plan.terminal,
                spec=spec,
            )
        except ContainerdError as exc:
            if "already exists" in str(exc):
                raise type(exc)(
                    f'exec id "{self.exec_id}" is already in use in container "{self.cid}"'
                ) from None
            raise
        return 0

    def _created(self) -> None:
        pass

    def _destroy(self, exited: Optional[threading.Event]) -> Optional[Any]:
        return delete_process(self.client, self.cid, self.exec_id, exited)

    def _after_delete(self, pid: int, status: Optional[int]) -> None:
        pass

    def _refuse_without_terminal(self) -> None:
        pass

    def _detached(self) -> None:
        """The exec process runs on: note its FIFO directory for ``stop``/``rm``."""
        super()._detached()
        if self.plan is not None and self.plan.fifos is not None:
            from runcore.task.remove import note_exec_fifo_dir

            note_exec_fifo_dir(self.client, self.cid, self.exec_id, self.plan.fifos.directory)


#: The type URL of an OCI process in ``Tasks/Exec`` (containerd's typeurl registration).
PROCESS_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process"


def run_task(ctx: Any) -> int:
    """Create and start the task of ``ctx``'s container; return runcore's exit code.

    Foreground: the container's exit status (0–255; 128+N for a signal). ``--detach``:
    0 right after ``Tasks/Start``.
    """
    return TaskRun(ctx).run()


__all__ = ["DRAIN_IDLE", "ExecRun", "PROCESS_TYPE_URL", "TaskRun", "run_task"]
