"""Errors of a task's process: a command that cannot be executed (127/126), an interrupt.

containerd reports a missing or non-executable command only as text inside a
``Tasks/Create``/``Tasks/Start``/``Tasks/Exec`` error; :func:`command_error` finds it and
gives it docker's exit status.
"""

from __future__ import annotations

import re
from typing import Optional

from runcore.errors import ContainerdError, RuncoreError
from runcore.task import signals as sigs


class CommandError(RuncoreError):
    """The container's command could not be executed (exit 127 or 126)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Interrupted(RuncoreError):
    """runcore got a terminating signal before the task started."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {sigs.name(signum)} before the task started")
        self.signum = signum
        self.exit_code = 128 + signum


_EXEC_RE = re.compile(r'exec: "(?:[^"\\]|\\.)*": .*')
_NOT_FOUND = ("executable file not found", "no such file or directory")
_CANNOT_EXEC = ("permission denied", "is a directory")


def command_error(exc: ContainerdError) -> Optional[CommandError]:
    """The 127/126 error hidden in a ``Tasks/Create``/``Start`` failure, if it is one.

    containerd says e.g. ``failed to create shim task: OCI runtime create failed: runc
    create failed: unable to start container process: exec: "nosuch": executable file
    not found in $PATH: unknown``; the part from ``exec:`` on (without the trailing
    gRPC code) becomes the message.
    """
    text = str(exc)
    match = _EXEC_RE.search(text)
    if not match:
        return None
    detail = match.group(0)
    for suffix in (": unknown", ": not found", ": failed precondition"):
        if detail.endswith(suffix):
            detail = detail[: -len(suffix)]
            break
    lowered = detail.lower()
    if any(s in lowered for s in _NOT_FOUND):
        return CommandError(detail, 127)
    if any(s in lowered for s in _CANNOT_EXEC):
        return CommandError(detail, 126)
    return None


__all__ = ["CommandError", "Interrupted", "command_error"]
