"""What a killed runcore can leave behind, found and removed (``rm -f ID``, ``runcore prune``).

A client SIGKILLed between ``Snapshots/Prepare`` and ``Containers/Create`` leaves a lease
(24 h) holding an active snapshot named after the container id, and one killed while a
task ran (or a daemon that never came back) a FIFO directory. runcore labels the lease it
creates for a container with :data:`CONTAINER_LABEL` = the id, so the lease – and through
its resources the snapshot – can be found again. (The snapshot itself is not labelled:
``ctr snapshots info`` must show the same as for ctr's containers.)

FIFO directories are not namespaced; one is an orphan of ``ID`` when it holds only
``ID-stdin|stdout|stderr`` FIFOs that no process has open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set

from runcore.errors import ContainerdError, NotFound
from runcore.task import fifos

#: Label of the leases runcore creates while it makes a container.
CONTAINER_LABEL = "runcore.io/container"


@dataclass
class Leftovers:
    """runcore-made objects of one container id that no container record owns."""

    container_id: str
    leases: List[str] = field(default_factory=list)
    snapshots: List[Dict[str, str]] = field(default_factory=list)  # {snapshotter, key}
    fifo_dirs: List[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.leases or self.snapshots or self.fifo_dirs)

    def describe(self) -> List[str]:
        lines = [f"lease {lease} (container {self.container_id})" for lease in self.leases]
        lines += [f"snapshot {s['snapshotter']}/{s['key']}" for s in self.snapshots]
        lines += [f"FIFO directory {d}" for d in self.fifo_dirs]
        return lines


def _runcore_leases(client: Any) -> Dict[str, List[str]]:
    """container id → ids of runcore's leases for it."""
    found: Dict[str, List[str]] = {}
    for lease in client.leases.List().leases:
        cid = lease.labels.get(CONTAINER_LABEL)
        if cid:
            found.setdefault(cid, []).append(lease.id)
    return found


def _lease_snapshots(client: Any, lease_id: str, container_id: str) -> List[Dict[str, str]]:
    """The active snapshots named after the container that the lease holds."""
    out: List[Dict[str, str]] = []
    try:
        resources = client.leases.ListResources(id=lease_id).resources
    except NotFound:
        return out
    for res in resources:
        if res.type.startswith("snapshots/") and res.id == container_id:
            out.append({"snapshotter": res.type.split("/", 1)[1], "key": res.id})
    return out


def dirs_held_open(dirs: Sequence[str]) -> Set[str]:
    """Which of ``dirs`` hold a file some process has open (``/proc/*/fd``)."""
    held: Set[str] = set()
    prefixes = [d.rstrip("/") + "/" for d in dirs]
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            for d, prefix in zip(dirs, prefixes):
                if target.startswith(prefix):
                    held.add(d)
    return held


def orphan_fifo_dirs(container_id: str, root: str = fifos.DEFAULT_FIFO_ROOT) -> List[str]:
    """FIFO directories under ``root`` holding only unused FIFOs of ``container_id``."""
    wanted = {os.path.basename(p) for p in fifos.fifo_paths("", container_id)}
    out: List[str] = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return out
    for name in names:
        directory = os.path.join(root, name)
        try:
            entries = set(os.listdir(directory))
        except OSError:
            continue
        if entries and entries <= wanted and not dirs_held_open([directory]):
            out.append(directory)
    return out


def find(client: Any, container_id: Optional[str] = None) -> List[Leftovers]:
    """Leftovers of ``container_id`` (or of every id, for ``prune``) in the namespace.

    Ids that still have a container record are skipped: ``rm`` handles those.
    """
    existing = {c.id for c in client.containers.List().containers}
    leases = _runcore_leases(client)
    ids = [container_id] if container_id is not None else sorted(leases)
    result = []
    for cid in ids:
        if cid in existing:
            continue
        item = Leftovers(cid, leases=sorted(leases.get(cid, [])))
        for lease in item.leases:
            item.snapshots += _lease_snapshots(client, lease, cid)
        if container_id is not None:
            item.fifo_dirs = orphan_fifo_dirs(cid)
        if item:
            result.append(item)
    return result


def remove(client: Any, item: Leftovers) -> List[str]:
    """Remove ``item``'s snapshots, leases and FIFO dirs; the problems met (warnings)."""
    problems = []
    for snap in item.snapshots:
        try:
            client.snapshots.Remove(snapshotter=snap["snapshotter"], key=snap["key"])
        except NotFound:
            pass
        except ContainerdError as exc:
            problems.append(f"snapshot {snap['key']}: {exc}")
    for lease in item.leases:
        try:
            client.leases.Delete(id=lease)
        except NotFound:
            pass
        except ContainerdError as exc:
            problems.append(f"lease {lease}: {exc}")
    for directory in item.fifo_dirs:
        if not fifos.remove_fifo_dir(directory, item.container_id):
            problems.append(f"cannot remove {directory}")
    return problems


__all__ = ["CONTAINER_LABEL", "Leftovers", "dirs_held_open", "find", "orphan_fifo_dirs", "remove"]
