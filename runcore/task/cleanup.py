"""Ending a task and removing what a container leaves: kill, wait, delete, snapshot, record."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from runcore.errors import ContainerdError, FailedPrecondition, NotFound, warn
from runcore.task.status import CREATED, PAUSED, PAUSING, STOPPED, get_task

#: How long cleanup waits for a killed task to report its exit.
KILL_WAIT = 15.0


@contextmanager
def no_deadline(client: Any) -> Iterator[None]:
    """Cleanup calls run even when the command's ``--timeout`` has expired."""
    with client.without_deadline():
        yield


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


def destroy_task(
    client: Any, container_id: str, exited: Optional[threading.Event] = None, kill_all: bool = False
) -> Optional[Any]:
    """SIGKILL the task unless stopped, wait for it, ``Tasks/Delete``; None if no task.

    ``exited`` is set by a ``Tasks/Wait`` already in flight (else one is issued here);
    once it is set the task is known to be stopped and ``Tasks/Delete`` comes at once.
    Returns the ``DeleteResponse``.
    """
    process = None
    if exited is None or not exited.is_set():
        process = get_task(client, container_id)
        if process is None:
            return None
    if process is not None and process.status != STOPPED:
        try:
            client.tasks.Kill(container_id=container_id, signal=int(signal.SIGKILL), all=kill_all)
        except NotFound:
            pass
        except ContainerdError as exc:
            warn(f"kill task {container_id}: {exc}")
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
                warn(f"wait for task {container_id}: {exc}")
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


def delete_process(
    client: Any, container_id: str, exec_id: str, exited: Optional[threading.Event] = None
) -> Optional[Any]:
    """SIGKILL an exec process unless it exited, wait for it, ``Tasks/DeleteProcess``.

    None when the process (or its task) is gone already. Once ``exited`` is set the
    process is known to have exited and ``Tasks/DeleteProcess`` comes at once.
    """
    process = None
    if exited is None or not exited.is_set():
        try:
            process = client.tasks.Get(container_id=container_id, exec_id=exec_id).process
        except NotFound:
            return None
    if process is not None and process.status not in (STOPPED, CREATED):
        try:
            client.tasks.Kill(
                container_id=container_id, exec_id=exec_id, signal=int(signal.SIGKILL)
            )
        except (NotFound, FailedPrecondition):  # gone, or never started
            pass
        except ContainerdError as exc:
            warn(f"kill process {exec_id}: {exc}")
        if exited is None or not exited.wait(KILL_WAIT):
            try:
                client.tasks.Wait(container_id=container_id, exec_id=exec_id, timeout=KILL_WAIT)
            except NotFound:
                return None
            except ContainerdError as exc:
                warn(f"wait for process {exec_id}: {exc}")
    deadline = time.monotonic() + 5.0
    while True:
        try:
            return client.tasks.DeleteProcess(container_id=container_id, exec_id=exec_id)
        except NotFound:
            return None
        except FailedPrecondition:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


__all__ = [
    "KILL_WAIT",
    "delete_process",
    "delete_record_and_snapshot",
    "destroy_task",
    "no_deadline",
]
