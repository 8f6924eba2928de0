"""``runcore inspect`` (record, spec and task as JSON) and ``runcore logs`` (``file://`` logs)."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

from runcore.errors import UsageError
from runcore.task.control import get_record
from runcore.task.exec_process import stored_spec
from runcore.task.status import STATUS_NAMES, STOPPED, get_task


def _timestamp(ts: Any) -> Optional[str]:
    if not ts.seconds and not ts.nanos:
        return None
    return str(ts.ToJsonString())


def describe(client: Any, container_id: str) -> Dict[str, Any]:
    """The container as a JSON-able dict: record fields, spec, task (or null)."""
    record = get_record(client, container_id)
    process = get_task(client, container_id)
    task: Optional[Dict[str, Any]] = None
    if process is not None:
        task = {
            "pid": process.pid,
            "status": STATUS_NAMES.get(process.status, "unknown"),
            "exit_status": process.exit_status if process.status == STOPPED else None,
            "exited_at": _timestamp(process.exited_at) if process.status == STOPPED else None,
            "terminal": process.terminal,
            "stdin": process.stdin,
            "stdout": process.stdout,
            "stderr": process.stderr,
        }
    return {
        "id": record.id,
        "image": record.image,
        "labels": dict(sorted(record.labels.items())),
        "runtime": {
            "name": record.runtime.name,
            "options": record.runtime.options.type_url or None,
        },
        "snapshotter": record.snapshotter,
        "snapshot_key": record.snapshot_key,
        "sandbox": record.sandbox,
        "extensions": {k: v.type_url for k, v in sorted(record.extensions.items())},
        "created_at": _timestamp(record.created_at),
        "updated_at": _timestamp(record.updated_at),
        "spec": stored_spec(record),
        "task": task,
    }


def select(data: Any, path: str) -> Any:
    """A field of ``data`` by a jq-like path (``.task.pid``, ``.spec.process.args[0]``) or
    a Go-template-like one (``{{.task.pid}}``); keys are matched case-insensitively."""
    text = path.strip()
    if text.startswith("{{") and text.endswith("}}"):
        text = text[2:-2].strip()
    if text in (".", ""):
        return data
    if not text.startswith("."):
        raise UsageError(f"--format {path!r}: expected a path such as .task.pid")
    value = data
    for part in _split_path(text[1:], path):
        if isinstance(part, int):
            if not isinstance(value, list) or not -len(value) <= part < len(value):
                return None
            value = value[part]
            continue
        if not isinstance(value, dict):
            return None
        if part in value:
            value = value[part]
            continue
        folded = {k.lower(): k for k in value}
        key = folded.get(part.lower().replace("_", "")) or folded.get(part.lower())
        if key is None:
            key = next(
                (k for k in value if k.lower().replace("_", "") == part.lower().replace("_", "")),
                None,
            )
        if key is None:
            return None
        value = value[key]
    return value


def _split_path(text: str, original: str) -> List[Any]:
    parts: List[Any] = []
    for chunk in text.split("."):
        if not chunk:
            raise UsageError(f"--format {original!r}: empty field name")
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            try:
                parts.append(int(index))
            except ValueError:
                raise UsageError(f"--format {original!r}: bad index [{index}]") from None
            rest = rest[1:] if rest.startswith("[") else rest
    return parts


def render(value: Any) -> str:
    """A selected value as text: strings bare, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2 if isinstance(value, (dict, list)) else None)


# --------------------------------------------------------------------------- logs


def log_file(client: Any, container_id: str) -> str:
    """The file of a task started with ``--log-uri file:///PATH``."""
    get_record(client, container_id)
    process = get_task(client, container_id)
    if process is None:
        raise UsageError(
            f'container "{container_id}" has no task, so no log '
            "(logs are kept only while the task exists)"
        )
    uri = process.stdout or ""
    if not uri.startswith("file://"):
        how = (
            "FIFOs (use 'runcore attach')"
            if uri.startswith("/")
            else ("no output (--null-io)" if not uri else f"the log URI {uri}")
        )
        raise UsageError(
            f'task of container "{container_id}" writes to {how}; runcore '
            "logs reads only file:// log URIs"
        )
    from runcore.task.logurl import parse_url

    return parse_url(uri).path


def copy_log(client: Any, container_id: str, follow: bool = False) -> None:
    """Write the log file to stdout; with ``follow``, keep going until the task exits."""
    path = log_file(client, container_id)
    out = sys.stdout.buffer
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        if not follow:
            return
        f = None
    except OSError as exc:
        raise UsageError(f"cannot read log {path}: {exc.strerror}") from None
    try:
        while True:
            if f is None and os.path.exists(path):
                f = open(path, "rb")
            chunk = f.read(1 << 16) if f is not None else b""
            if chunk:
                out.write(chunk)
                out.flush()
                continue
            if not follow:
                return
            process = get_task(client, container_id)
            if process is None or process.status == STOPPED:
                if f is not None:
                    rest = f.read()
                    out.write(rest)
                    out.flush()
                return
            time.sleep(0.2)
    finally:
        if f is not None:
            f.close()


__all__ = ["copy_log", "describe", "log_file", "render", "select"]
