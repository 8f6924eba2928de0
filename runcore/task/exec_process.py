"""The OCI process of ``runcore exec``, derived from the container's stored spec as ctr does.

``ctr tasks exec`` takes the stored spec, applies ``--user`` with ``oci.WithUser`` (the
container's own ``/etc/passwd`` and ``/etc/group``, read from its snapshot), copies
``spec.Process`` and sets ``terminal``, ``args`` and (``--cwd``) ``cwd``. runcore does
the same and adds ``--env``/``--env-file`` (a variable already set is replaced in
place, a new one appended – as docker exec). Plugins then adjust the result through
``runcore_exec_process``.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any, Dict, Iterable, List, Optional

from runcore.errors import UsageError


def stored_spec(record: Any) -> Dict[str, Any]:
    """The container's OCI spec (the record's ``spec`` Any, JSON)."""
    try:
        spec = json.loads(record.spec.value or b"{}")
    except ValueError as exc:
        raise UsageError(f'container "{record.id}": stored spec is not JSON: {exc}') from None
    if not isinstance(spec, dict):
        raise UsageError(f'container "{record.id}": stored spec is not an object')
    return spec


def read_env_file(path: str) -> List[str]:
    """``K=V`` lines of an env file; blank lines and ``#`` comments skipped; a bare ``K``
    takes the value from runcore's environment (dropped when unset)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise UsageError(f"--env-file {path}: {exc.strerror}") from None
    out: List[str] = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if "=" not in text:
            if text in os.environ:
                out.append(f"{text}={os.environ[text]}")
            continue
        out.append(text)
    return out


def merge_env(env: List[str], extra: Iterable[str]) -> List[str]:
    """``env`` with each ``K=V`` of ``extra`` replacing ``K`` in place or appended."""
    result = list(env)
    for item in extra:
        if "=" not in item or item.startswith("="):
            raise UsageError(f"invalid environment variable {item!r}: expected KEY=VALUE")
        key = item.split("=", 1)[0]
        for i, existing in enumerate(result):
            if existing.split("=", 1)[0] == key:
                result[i] = item
                break
        else:
            result.append(item)
    return result


def _rootfs_for(client: Any, record: Any, spec: Dict[str, Any]) -> Any:
    """Read access to the container's files, as ``oci.WithUser`` gets it."""
    if record.snapshot_key:
        from runcore.rootfs_mount import SnapshotRootFS

        snapshotter = record.snapshotter or client.default_snapshotter()
        mounts = client.snapshots.Mounts(snapshotter=snapshotter, key=record.snapshot_key).mounts
        return SnapshotRootFS(list(mounts))
    from runcore.oci.user import rootfs_for_path

    root = (spec.get("root") or {}).get("path") or ""
    return rootfs_for_path(root)


def exec_process(
    client: Any,
    record: Any,
    args: List[str],
    *,
    tty: bool,
    cwd: str = "",
    user: str = "",
    env: Optional[List[str]] = None,
) -> Dict[str, Any]:
    """The process spec for ``Tasks/Exec`` (a fresh dict)."""
    spec = stored_spec(record)
    if not isinstance(spec.get("process"), dict):
        spec["process"] = {}
    if user:
        from runcore.oci.user import with_user

        rootfs = _rootfs_for(client, record, spec)
        try:
            with_user(spec, user, rootfs)
        except UsageError:
            raise
        except Exception as exc:  # lookups report as one line
            raise UsageError(f"--user {user}: {exc}") from None
        finally:
            close = getattr(rootfs, "close", None)
            if close is not None:
                close()
    process = copy.deepcopy(spec["process"])
    process["terminal"] = tty
    process["args"] = list(args)
    if cwd:
        process["cwd"] = cwd
    if env:
        process["env"] = merge_env(list(process.get("env") or []), env)
    return process


__all__ = ["exec_process", "merge_env", "read_env_file", "stored_spec"]
