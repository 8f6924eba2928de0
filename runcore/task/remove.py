"""``runcore rm``: a container's task, FIFOs, snapshot and record go, hooks are told."""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

from runcore.errors import ContainerdError, FailedPrecondition, NotFound
from runcore.record import TaskInfo
from runcore.task import fifos
from runcore.task.cleanup import delete_record_and_snapshot, destroy_task
from runcore.task.hooks import call_deleted_hooks
from runcore.task.status import PAUSED, PAUSING, RUNNING, get_task


def delete_task(client: Any, container_id: str, process: Any) -> Optional[int]:
    """Kill (SIGKILL, all processes) unless stopped, wait, delete the task and its FIFO dir.

    Returns the exit status containerd reported, if any.
    """
    fifo_dir = fifos.fifo_dir_of([process.stdin, process.stdout, process.stderr], container_id)
    exec_dirs = exec_fifo_dirs(client, container_id)
    response = destroy_task(client, container_id, kill_all=True)
    if fifo_dir is not None:
        fifos.remove_fifo_dir(fifo_dir, container_id)
    for directory, name in exec_dirs:
        fifos.remove_fifo_dir(directory, name)
    return response.exit_status if response is not None else None


def exec_fifo_dirs(client: Any, container_id: str) -> List[Tuple[str, str]]:
    """(directory, stream name prefix) of the FIFO sets of the task's exec processes
    (``exec -d`` leaves them until the task is deleted)."""
    from runcore.containerd import pb

    found: List[Tuple[str, str]] = []
    try:
        processes = client.tasks.ListPids(container_id=container_id).processes
    except ContainerdError:
        return found
    for p in processes:
        if not p.HasField("info") or not p.info.type_url.endswith("ProcessDetails"):
            continue
        details = pb.runc_options.ProcessDetails()
        details.ParseFromString(bytes(p.info.value))
        try:
            proc = client.tasks.Get(container_id=container_id, exec_id=details.exec_id).process
        except ContainerdError:
            continue
        name = exec_io_name(container_id, details.exec_id)
        directory = fifos.fifo_dir_of([proc.stdin, proc.stdout, proc.stderr], name)
        if directory is not None:
            found.append((directory, name))
    return found


def exec_io_name(container_id: str, exec_id: str) -> str:
    """The name part of an exec process's FIFOs: ``<id>-<exec id>-stdin`` …"""
    return f"{container_id}-{exec_id}"


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
        if process.status in (RUNNING, PAUSED, PAUSING) and not force:
            raise FailedPrecondition(
                f"cannot delete running task {container_id}: failed precondition",
                hint="use 'runcore rm -f' to kill it")
        exit_status = delete_task(client, container_id, process)
    delete_record_and_snapshot(client, record)
    call_deleted_hooks(plugins, TaskInfo(container_id=container_id, pid=pid,
                                         exit_status=exit_status, record=record), ctx)


__all__ = ["delete_task", "exec_fifo_dirs", "exec_io_name", "remove_container"]
