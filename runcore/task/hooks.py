"""Calling the task hooks (``runcore_task_deleted`` …) for every command that ends a task."""

from __future__ import annotations

from typing import Any

from runcore.errors import warn
from runcore.record import TaskInfo


def call_deleted_hooks(plugins: Any, task: TaskInfo, ctx: Any) -> None:
    """``runcore_task_deleted`` on every plugin; failures become warnings."""
    if plugins is None:
        return
    plugins.call_each(
        "runcore_task_deleted", on_error=lambda failure: warn(str(failure)), task=task, ctx=ctx
    )


__all__ = ["call_deleted_hooks"]
