"""``runcore rm``: a container's task, FIFOs, snapshot and record go, hooks are told."""
from __future__ import annotations

from typing import Any, Optional

from runcore.errors import FailedPrecondition, NotFound
from runcore.record import TaskInfo
from runcore.task import fifos
from runcore.task.cleanup import delete_record_and_snapshot, destroy_task
from runcore.task.hooks import call_deleted_hooks
from runcore.task.status import PAUSED, PAUSING, RUNNING, get_task


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
    process = get_task(client, container_id)
    pid = 0
    exit_status: Optional[int] = None
    if process is not None:
        pid = process.pid
        fifo_dir = fifos.fifo_dir_of([process.stdin, process.stdout, process.stderr],
                                      container_id)
        if process.status in (RUNNING, PAUSED, PAUSING) and not force:
            raise FailedPrecondition(
                f"cannot delete running task {container_id}: failed precondition",
                hint="use 'runcore rm -f' to kill it")
        response = destroy_task(client, container_id, kill_all=True)
        if response is not None:
            exit_status = response.exit_status
        if fifo_dir is not None:
            fifos.remove_fifo_dir(fifo_dir, container_id)
    delete_record_and_snapshot(client, record)
    call_deleted_hooks(plugins, TaskInfo(container_id=container_id, pid=pid,
                                         exit_status=exit_status, record=record), ctx)


__all__ = ["remove_container"]
