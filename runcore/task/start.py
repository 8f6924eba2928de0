"""``runcore start``: run the task of a container created earlier (``create``, ``ctr c create``).

Exactly what ``run`` does after ``Containers/Create`` (:class:`runcore.task.lifecycle.TaskRun`):
the plugins' task options and task hooks – computed from the stored record, so a
``create --cni`` container gets its network and a user-namespace container its FIFOs
owned by the mapped root –, IO, tty, signals, ``--rm`` and cleanup. As with ctr, the
terminal comes from the stored spec (``process.terminal``). A task that has stopped
(``run -d`` that exited, ``stop``) is deleted first, so a container can be started again.
"""

from __future__ import annotations

from typing import Any

from runcore.errors import AlreadyExists, UsageError
from runcore.record import TaskInfo
from runcore.task import tty as ttymod
from runcore.task.control import get_record
from runcore.task.exec_process import stored_spec
from runcore.task.hooks import call_deleted_hooks
from runcore.task.lifecycle import TaskRun
from runcore.task.remove import delete_task
from runcore.task.status import STATUS_NAMES, STOPPED, get_task


class StartRun(TaskRun):
    """:class:`TaskRun` for an existing container: never removes it for a usage error."""

    def _refuse_without_terminal(self) -> None:
        pass


def start_container(ctx: Any) -> int:
    """Start ``ctx.container_id``'s task; runcore's exit code (as ``run``)."""
    client = ctx.client()
    cid = ctx.container_id
    if ctx.opt("rm") and ctx.opt("detach"):
        raise UsageError("flags --detach and --rm cannot be specified together")
    record = get_record(client, cid)
    spec = stored_spec(record)
    terminal = bool((spec.get("process") or {}).get("terminal"))
    if ctx.opt("tty") and not terminal:
        raise UsageError(
            f'container "{cid}" was created without a terminal; '
            "recreate it with -t to start it with one"
        )
    if terminal and not ttymod.is_terminal(0):
        raise UsageError(f'{ttymod.NOT_A_TTY} (container "{cid}" was created with -t)')
    ctx.options["tty"] = terminal
    if ctx.opt("log_uri"):
        from runcore.task.logurl import parse_log_uri

        parse_log_uri(ctx.opt("log_uri"))
    process = get_task(client, cid)
    if process is not None:
        if process.status != STOPPED:
            state = STATUS_NAMES.get(process.status, "unknown")
            raise AlreadyExists(
                f'container "{cid}" already has a task ({state}, pid {process.pid})'
            )
        status = delete_task(client, cid, process, record)
        call_deleted_hooks(
            ctx.plugins,
            TaskInfo(container_id=cid, pid=process.pid, exit_status=status, record=record),
            ctx,
        )
    run = StartRun(ctx)
    run.record = record
    return run.run()


__all__ = ["StartRun", "start_container"]
