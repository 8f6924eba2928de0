"""Acting on a running task: kill, stop, pause, resume, wait, ps (ctr's ``tasks`` verbs)."""

from __future__ import annotations

import signal
from typing import Any, List, Optional, Tuple

from runcore.errors import ContainerdError, FailedPrecondition, NotFound, UsageError
from runcore.record import TaskInfo
from runcore.task import signals as sigs
from runcore.task.hooks import call_deleted_hooks
from runcore.task.reconnect import retrying
from runcore.task.remove import delete_task
from runcore.task.status import PAUSED, PAUSING, STATUS_NAMES, STOPPED, get_task

#: The label ctr stores with the image's ``StopSignal`` (``containerd.GetStopSignal``).
STOP_SIGNAL_LABEL = "io.containerd.image.config.stop-signal"
#: ``runcore stop``'s default grace period, seconds.
DEFAULT_STOP_TIMEOUT = 10.0


def get_record(client: Any, container_id: str) -> Any:
    """The stored container; ``container "ID": not found`` as one line."""
    try:
        return client.containers.Get(id=container_id).container
    except NotFound:
        raise NotFound(f'container "{container_id}": not found') from None


def require_task(client: Any, container_id: str) -> Any:
    """The task's ``Process``; a container without one is refused as one line."""
    get_record(client, container_id)
    process = get_task(client, container_id)
    if process is None:
        raise NotFound(
            f'container "{container_id}" has no task (start it with '
            f"'runcore start {container_id}')"
        )
    return process


def require_running(client: Any, container_id: str) -> Any:
    """The task's ``Process`` unless it has stopped already."""
    process = require_task(client, container_id)
    if process.status == STOPPED:
        raise FailedPrecondition(
            f'task of container "{container_id}" has stopped (exit status {process.exit_status})'
        )
    return process


def stop_signal(record: Any) -> int:
    """The signal ``stop`` (and ``kill`` without ``-s``) sends: the image's, else SIGTERM."""
    value = dict(record.labels).get(STOP_SIGNAL_LABEL) or "SIGTERM"
    try:
        return sigs.parse_signal(value)
    except ValueError:
        raise UsageError(
            f'container "{record.id}": stop signal label {value!r} is not a signal'
        ) from None


def kill(
    client: Any,
    container_id: str,
    signal_text: Optional[str] = None,
    all_processes: bool = False,
    exec_id: str = "",
) -> None:
    """``Tasks/Kill``; without ``signal_text`` the container's stop signal (as ctr 1.7)."""
    if signal_text is not None:
        try:
            signum = sigs.parse_signal(signal_text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if all_processes and exec_id:
        raise UsageError("specify an exec-id or all; not both")
    record = get_record(client, container_id)
    if signal_text is None:
        signum = stop_signal(record)
    require_running(client, container_id)
    extra = {"exec_id": exec_id} if exec_id else {}
    try:
        client.tasks.Kill(container_id=container_id, signal=signum, all=all_processes, **extra)
    except NotFound as exc:
        if exec_id:
            raise NotFound(f'no exec process "{exec_id}" in container "{container_id}"') from None
        raise exc


def stop(
    client: Any,
    container_id: str,
    timeout: float = DEFAULT_STOP_TIMEOUT,
    plugins: Any = None,
    ctx: Any = None,
) -> Optional[int]:
    """Stop signal, up to ``timeout`` seconds, SIGKILL; then delete the task (FIFOs, hooks).

    The container record stays, so ``runcore start`` can run it again. Returns the task's
    exit status. A task that has stopped already is just deleted.
    """
    record = get_record(client, container_id)
    process = require_task(client, container_id)
    if process.status != STOPPED:
        signum = stop_signal(record)
        _signal_all(client, container_id, signum, process.status in (PAUSED, PAUSING))
        if not _wait_exit(client, container_id, timeout):
            _signal_all(client, container_id, int(signal.SIGKILL), False)
            _wait_exit(client, container_id, 30.0)
    exit_status = retrying(
        client,
        lambda: delete_task(client, container_id, process, record),
        "the removal of the task",
    )
    call_deleted_hooks(
        plugins,
        TaskInfo(
            container_id=container_id, pid=process.pid, exit_status=exit_status, record=record
        ),
        ctx,
    )
    return exit_status


def _signal_all(client: Any, container_id: str, signum: int, resume: bool) -> None:
    try:
        client.tasks.Kill(container_id=container_id, signal=signum, all=False)
    except NotFound:
        return
    if resume:
        try:
            client.tasks.Resume(container_id=container_id)
        except ContainerdError:
            pass


def _wait_exit(client: Any, container_id: str, seconds: float) -> bool:
    """Whether the task exits within ``seconds``."""
    if seconds <= 0:
        process = get_task(client, container_id)
        return process is None or process.status == STOPPED
    try:
        client.tasks.Wait(container_id=container_id, timeout=seconds)
    except NotFound:
        return True
    except ContainerdError as exc:
        if "deadline exceeded" in str(exc):
            return False
        raise
    return True


def pause(client: Any, container_id: str) -> None:
    """``Tasks/Pause`` (a paused or stopped task is refused as one line)."""
    process = require_running(client, container_id)
    if process.status in (PAUSED, PAUSING):
        raise FailedPrecondition(f'task of container "{container_id}" is already paused')
    client.tasks.Pause(container_id=container_id)


def resume(client: Any, container_id: str) -> None:
    """``Tasks/Resume`` (only a paused task)."""
    process = require_running(client, container_id)
    if process.status not in (PAUSED, PAUSING):
        raise FailedPrecondition(
            f'task of container "{container_id}" is not paused '
            f"({STATUS_NAMES.get(process.status, 'unknown')})"
        )
    client.tasks.Resume(container_id=container_id)


def wait(client: Any, container_id: str) -> int:
    """The task's exit status, waiting for it (re-established across a daemon restart)."""
    require_task(client, container_id)
    response = retrying(
        client, lambda: client.tasks.Wait(container_id=container_id), f"the wait for {container_id}"
    )
    return int(response.exit_status)


def pids(client: Any, container_id: str) -> List[Tuple[int, str]]:
    """(pid, info) of every process of the task (``Tasks/ListPids``, as ``ctr tasks ps``)."""
    require_task(client, container_id)
    response = client.tasks.ListPids(container_id=container_id)
    rows = []
    for p in response.processes:
        info = "-"
        if p.HasField("info") and p.info.value:
            info = _process_details(p.info)
        rows.append((int(p.pid), info))
    return rows


def _process_details(info: Any) -> str:
    """What ctr prints for a runc ``ProcessDetails`` Any (the exec id), else its type."""
    from runcore.containerd import pb

    if info.type_url.endswith("containerd.runc.v1.ProcessDetails"):
        details = pb.runc_options.ProcessDetails()
        details.ParseFromString(bytes(info.value))
        return "&ProcessDetails{ExecID:%s,}" % details.exec_id
    return info.type_url


def format_ps(rows: List[Tuple[int, str]]) -> str:
    """``ctr tasks ps``'s table (Go tabwriter: padding 4)."""
    lines = [("PID", "INFO")] + [(str(pid), info) for pid, info in rows]
    width = max(len(a) for a, _ in lines) + 4
    return "".join(f"{a.ljust(width)}{b}\n" for a, b in lines)


__all__ = [
    "DEFAULT_STOP_TIMEOUT",
    "STOP_SIGNAL_LABEL",
    "format_ps",
    "get_record",
    "kill",
    "pause",
    "pids",
    "require_running",
    "require_task",
    "resume",
    "stop",
    "stop_signal",
    "wait",
]
