"""``runcore rm``: a container's task, FIFOs, snapshot and record go, hooks are told."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from runcore.errors import ContainerdError, FailedPrecondition, NotFound
from runcore.record import TaskInfo
from runcore.task import fifos
from runcore.task.cleanup import delete_record_and_snapshot, destroy_task
from runcore.task.hooks import call_deleted_hooks
from runcore.task.status import PAUSED, PAUSING, RUNNING, get_task


def delete_task(
    client: Any, container_id: str, process: Any, record: Any = None, keep_record: bool = True
) -> Optional[int]:
    """Kill (SIGKILL, all processes) unless stopped, wait, delete the task and its FIFO dirs
    (the task's, and those ``exec -d`` noted in the record's labels).

    Returns the exit status containerd reported, if any.
    """
    fifo_dir = fifos.fifo_dir_of([process.stdin, process.stdout, process.stderr], container_id)
    try:
        response = destroy_task(client, container_id, kill_all=True)
    except ContainerdError:
        if get_task(client, container_id) is not None:
            raise
        response = None  # the shim died meanwhile and containerd dropped the task
    if fifo_dir is not None:
        fifos.remove_fifo_dir(fifo_dir, container_id)
    if record is not None:
        noted = exec_fifo_dirs(record)
        for exec_id, directory in noted.items():
            fifos.remove_fifo_dir(directory, exec_io_name(container_id, exec_id))
        if noted and keep_record:
            forget_exec_fifo_dirs(client, container_id, list(noted))
    return response.exit_status if response is not None else None


#: Label under which ``exec -d`` notes the FIFO directory of exec process ``<exec id>``.
EXEC_FIFO_LABEL = "runcore.io/exec-fifo-dir."


def exec_fifo_dirs(record: Any) -> Dict[str, str]:
    """exec id → FIFO directory of the ``exec -d`` processes noted in the record."""
    return {
        key[len(EXEC_FIFO_LABEL) :]: value
        for key, value in record.labels.items()
        if key.startswith(EXEC_FIFO_LABEL) and value
    }


def note_exec_fifo_dir(client: Any, container_id: str, exec_id: str, directory: str) -> None:
    """Remember a detached exec's FIFO directory in the record, for its removal later."""
    key = EXEC_FIFO_LABEL + exec_id
    client.containers.Update(
        container=client.pb.containers.Container(id=container_id, labels={key: directory}),
        update_mask=client.pb.field_mask.FieldMask(paths=[f"labels.{key}"]),
    )


def forget_exec_fifo_dirs(client: Any, container_id: str, exec_ids: List[str]) -> None:
    """Drop the labels of removed exec FIFO directories."""
    try:
        client.containers.Update(
            container=client.pb.containers.Container(id=container_id),
            update_mask=client.pb.field_mask.FieldMask(
                paths=[f"labels.{EXEC_FIFO_LABEL}{e}" for e in exec_ids]
            ),
        )
    except ContainerdError:
        pass


def exec_io_name(container_id: str, exec_id: str) -> str:
    """The name part of an exec process's FIFOs: ``<id>-<exec id>-stdin`` …"""
    return f"{container_id}-{exec_id}"


def _remove_leftovers(client: Any, container_id: str, force: bool) -> bool:
    """``rm -f`` of an id without a record: remove what a killed run left (True if any)."""
    from runcore.task import orphans

    found = orphans.find(client, container_id)
    if not found:
        return False
    if not force:
        raise NotFound(
            f'container "{container_id}": not found',
            hint=f"a killed run left {', '.join(found[0].describe())}; "
            f"'runcore rm -f {container_id}' removes it",
        )
    for item in found:
        for problem in orphans.remove(client, item):
            from runcore.errors import warn

            warn(problem)
    return True


def remove_container(
    client: Any, container_id: str, force: bool = False, plugins: Any = None, ctx: Any = None
) -> None:
    """Delete ``container_id``: its task (killed first with ``force``), FIFOs, snapshot, record.

    A running (or paused) task without ``force`` is refused with
    ``cannot delete running task <id>: failed precondition``. ``runcore_task_deleted``
    hooks run afterwards (they must be idempotent).
    """
    try:
        record = client.containers.Get(id=container_id).container
    except NotFound:
        if _remove_leftovers(client, container_id, force):
            return
        raise NotFound(f'container "{container_id}": not found') from None
    process = get_task(client, container_id)
    pid = 0
    exit_status: Optional[int] = None
    if process is not None:
        pid = process.pid
        if process.status in (RUNNING, PAUSED, PAUSING) and not force:
            raise FailedPrecondition(
                f"cannot delete running task {container_id}: failed precondition",
                hint="use 'runcore rm -f' to kill it",
            )
        exit_status = delete_task(client, container_id, process, record, keep_record=False)
    delete_record_and_snapshot(client, record)
    call_deleted_hooks(
        plugins,
        TaskInfo(container_id=container_id, pid=pid, exit_status=exit_status, record=record),
        ctx,
    )


__all__ = [
    "EXEC_FIFO_LABEL",
    "delete_task",
    "exec_fifo_dirs",
    "exec_io_name",
    "forget_exec_fifo_dirs",
    "note_exec_fifo_dir",
    "remove_container",
]
