"""The ctr oracle: create the same container with ``ctr run`` and ``runcore create``, diff.

``compare(daemon, namespace, flags, image, cmd)`` runs ``ctr run -d --null-io FLAGS IMAGE
<ctr-id> CMD`` (ctr 1.7.24) and ``runcore create FLAGS IMAGE <rc-id> CMD`` in one
namespace of one daemon, reads both records with ``ctr containers info`` and both
snapshots with ``ctr snapshots info``, replaces each id by ``<ID>`` and returns the two
normalized documents; it removes both containers afterwards.
"""

from __future__ import annotations

import itertools
import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

_counter = itertools.count(1)

#: Fields of ``ctr containers info`` that differ by nature (creation time).
VOLATILE = ("CreatedAt", "UpdatedAt")


@dataclass
class Outcome:
    ok: bool
    stderr: str
    record: Optional[Dict[str, Any]] = None
    snapshot: Optional[Dict[str, Any]] = None


def _normalize(text: str, container_id: str) -> Any:
    data = json.loads(text.replace(container_id, "<ID>"))
    if isinstance(data, dict):
        for key in VOLATILE:
            data.pop(key, None)
    return data


def _info(daemon: Any, namespace: str, cid: str) -> Tuple[Optional[dict], Optional[dict]]:
    r = daemon.ctr("containers", "info", cid, namespace=namespace, check=False)
    if r.returncode != 0:
        return None, None
    record = _normalize(r.stdout, cid)
    snapshot = None
    if record.get("SnapshotKey"):
        s = daemon.ctr(
            "snapshots",
            "--snapshotter",
            record.get("Snapshotter") or "overlayfs",
            "info",
            cid,
            namespace=namespace,
            check=False,
        )
        if s.returncode == 0:
            snapshot = _normalize(s.stdout, cid)
            for key in ("Created", "Updated"):
                snapshot.pop(key, None)
    return record, snapshot


def _outcome(
    daemon: Any, namespace: str, cid: str, argv: List[str], env: Optional[Dict[str, str]]
) -> Outcome:
    """Run one tool's create command (``env`` added to this environment); read the result."""
    environ = dict(os.environ)
    environ.update(env or {})
    r = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, env=environ, stdin=subprocess.DEVNULL
    )
    record, snapshot = _info(daemon, namespace, cid)
    return Outcome(r.returncode == 0, r.stderr.strip(), record, snapshot)


def remove_ctr_container(daemon: Any, namespace: str, cid: str) -> None:
    """Kill and delete ctr's task, then its container (and snapshot)."""
    daemon.ctr("tasks", "kill", "-s", "SIGKILL", cid, namespace=namespace, check=False)
    for _ in range(50):
        r = daemon.ctr("tasks", "rm", "-f", cid, namespace=namespace, check=False)
        if r.returncode == 0 or "not found" in r.stderr:
            break
    daemon.ctr("containers", "rm", cid, namespace=namespace, check=False)


def ctr_run(
    daemon: Any,
    namespace: str,
    flags: Sequence[str],
    image: str,
    cid: str,
    cmd: Sequence[str],
    tty: bool = False,
    env: Optional[Dict[str, str]] = None,
) -> Outcome:
    """``ctr run -d [--null-io] FLAGS IMAGE CID CMD`` (ctr 1.7.24); its record and snapshot."""
    argv = daemon.ctr_argv(
        "run", "-d", *([] if tty else ["--null-io"]), *flags, image, cid, *cmd, namespace=namespace
    )
    if tty:  # ctr -t needs a console: give it one through script(1)
        argv = ["script", "-qec", shlex.join(argv), "/dev/null"]
    return _outcome(daemon, namespace, cid, argv, env)


def runcore_create(
    daemon: Any,
    namespace: str,
    flags: Sequence[str],
    image: str,
    cid: str,
    cmd: Sequence[str],
    env: Optional[Dict[str, str]] = None,
) -> Outcome:
    """``runcore create FLAGS IMAGE CID CMD``; its record and snapshot."""
    argv = daemon.runcore_argv("create", *flags, image, cid, *cmd, namespace=namespace)
    return _outcome(daemon, namespace, cid, argv, env)


def compare(
    daemon: Any,
    namespace: str,
    flags: Sequence[str],
    image: str,
    cmd: Sequence[str] = ("sleep", "1000"),
    tty: bool = False,
    env: Optional[Dict[str, str]] = None,
) -> Tuple[Outcome, Outcome]:
    """Create with both tools; return (ctr, runcore) outcomes; remove both containers."""
    n = next(_counter)
    ctr_id, rc_id = f"ctr-{n}", f"rc-{n}"
    try:
        ctr = ctr_run(daemon, namespace, flags, image, ctr_id, cmd, tty=tty, env=env)
        rc = runcore_create(daemon, namespace, flags, image, rc_id, cmd, env=env)
    finally:
        remove_ctr_container(daemon, namespace, ctr_id)
        daemon.runcore("rm", "-f", rc_id, namespace=namespace, check=False)
        daemon.ctr("containers", "rm", rc_id, namespace=namespace, check=False)
    return ctr, rc


def diff(a: Any, b: Any, path: str = "") -> List[str]:
    """Human-readable differences between two JSON documents."""
    out: List[str] = []
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a:
                out.append(f"{path}.{key}: only runcore has {json.dumps(b[key])[:200]}")
            elif key not in b:
                out.append(f"{path}.{key}: only ctr has {json.dumps(a[key])[:200]}")
            else:
                out.extend(diff(a[key], b[key], f"{path}.{key}"))
    elif a != b:
        out.append(f"{path}: ctr {json.dumps(a)[:300]} != runcore {json.dumps(b)[:300]}")
    return out
