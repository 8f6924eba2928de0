"""Task states as containerd reports them, and looking tasks up."""

from __future__ import annotations

from typing import Any, Dict, Optional

from runcore.errors import NotFound

# task status values (containerd.v1.types.Status)
UNKNOWN, CREATED, RUNNING, STOPPED, PAUSED, PAUSING = range(6)
STATUS_NAMES = {
    UNKNOWN: "unknown",
    CREATED: "created",
    RUNNING: "running",
    STOPPED: "stopped",
    PAUSED: "paused",
    PAUSING: "pausing",
}


def get_task(client: Any, container_id: str) -> Optional[Any]:
    """The task's ``Process`` (``Tasks/Get``), or None when the container has no task."""
    try:
        return client.tasks.Get(container_id=container_id).process
    except NotFound:
        return None


def task_status(client: Any) -> Dict[str, Any]:
    """container id → task ``Process`` for every task of the namespace."""
    # containerd fills ``id`` (the task id = container id) and leaves container_id empty
    return {p.container_id or p.id: p for p in client.tasks.List().tasks}


__all__ = [
    "CREATED",
    "PAUSED",
    "PAUSING",
    "RUNNING",
    "STATUS_NAMES",
    "STOPPED",
    "UNKNOWN",
    "get_task",
    "task_status",
]
