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

"""
from __future__ import annotations

import signal
import threading
from queue import Empty, SimpleQueue
from typing import Any, Dict, List, Optional, Tuple

from runcore.errors import ContainerdError, NotFound, RuncoreError, UsageError
from runcore.record import TaskInfo
from runcore.task import signals as sigs
from runcore.task import tty as ttymod
from runcore.task.cleanup import delete_record_and_snapshot, destroy_task, no_deadline, warn
from runcore.task.copier import Copier, standard_fds
from runcore.task.errors import Interrupted, command_error
from runcore.task.hooks import call_deleted_hooks
from runcore.task.ioplan import IOPlan, plan_io
from runcore.task.options import task_options_any

#: Output draining gives up after this long without a byte while nothing is blocked
#: writing to runcore's stdout/stderr (e.g. a process outside the container's PID
#: namespace still holds the task's stdout).
DRAIN_IDLE = 10.0

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
        self.plan: Optional[IOPlan] = None
        self.copier: Optional[Copier] = None
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
        self.plan = plan_io(
            self.cid, tty=self.tty, null_io=bool(self.ctx.opt("null_io")),
            log_uri=self.ctx.opt("log_uri") or "", fifo_root=self.ctx.opt("fifo_dir") or "",
            uid=options.get("io_uid"), gid=options.get("io_gid"))
        if self.plan.fifos is not None:
            stdin_fd, stdout_fd, stderr_fd = standard_fds()
            self.copier = Copier(self.plan.fifos, stdin_fd=stdin_fd, stdout_fd=stdout_fd,
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
            self.client.tasks.Kill(container_id=self.cid, signal=signum)
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
                        warn(f"cannot delete task {self.cid}: {err}")
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
            warn(f"cleanup after failure: {err}")


def run_task(ctx: Any) -> int:
    """Create and start the task of ``ctx``'s container; return runcore's exit code.

    Foreground: the container's exit status (0–255; 128+N for a signal). ``--detach``:
    0 right after ``Tasks/Start``.
    """
    return TaskRun(ctx).run()


__all__ = ["DRAIN_IDLE", "TaskRun", "run_task"]
