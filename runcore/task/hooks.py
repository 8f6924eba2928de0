"""Calling the task hooks (``runcore_task_deleted`` …) for every command that ends a task."""
from __future__ import annotations

from typing import Any

from runcore.record import TaskInfo
from runcore.task.cleanup import warn as _warn


def call_deleted_hooks(plugins: Any, task: TaskInfo, ctx: Any) -> None:
    """``runcore_task_deleted`` on every plugin; failures become warnings."""
    if plugins is None:
        return
    for rec, function, argnames in plugins.ordered_impls("runcore_task_deleted"):
        kwargs = {"task": task, "ctx": ctx}
        try:
            function(**{n: kwargs[n] for n in argnames})
        except Exception as exc:
            label = getattr(rec, "id", "plugin")
            _warn(f"{label}: task deleted hook failed: {exc}")


__all__ = ["call_deleted_hooks"]
