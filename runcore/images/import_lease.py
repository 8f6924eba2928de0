"""The lease an image import holds, and the leases of imports that were killed.

An import stores its content and snapshots under one lease (24 h, as ctr's). A client
that is SIGKILLed leaves that lease behind – and through it the half-written ingests and
the extraction snapshot – for a day. runcore labels its import lease with its owner
(:data:`OWNER_LABEL`: boot id, pid namespace, pid and the process's start time), so the
next import in the namespace can tell the lease of a dead import from that of a running
one and removes it: a rerun leaves nothing behind. A lease whose owner lives in another
pid namespace is never touched (its process cannot be seen from here).

The lease is created and deleted with the calls retried while containerd restarts
(:func:`runcore.task.reconnect.retrying`), so a restart at the start or the end of an
import does not leave it either.
"""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Iterator, Optional

from runcore import errors
from runcore.containerd.leases import expire_labels, new_lease_id
from runcore.task.reconnect import retrying

if TYPE_CHECKING:  # pragma: no cover
    from runcore.containerd.client import Client

#: Label of runcore's import leases: ``<boot id>/<pid namespace>/<pid>/<start time>``.
OWNER_LABEL = "runcore.io/import-owner"
#: How long an import lease lives when nobody deletes it (ctr's lease expiry).
EXPIRE = timedelta(hours=24)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str:
    """Field 22 of ``/proc/PID/stat`` (clock ticks since boot), "" when there is no such pid."""
    stat = _read(f"/proc/{pid}/stat")
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat[stat.rfind(")") + 2 :].split() if stat else []
    return fields[19] if len(fields) > 19 else ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def owner(pid: Optional[int] = None) -> str:
    """The :data:`OWNER_LABEL` value for process ``pid`` (this process by default)."""
    pid = os.getpid() if pid is None else pid
    boot = _read("/proc/sys/kernel/random/boot_id")
    return f"{boot}/{_pid_namespace()}/{pid}/{_start_time(pid)}"


def owner_is_dead(value: str) -> bool:
    """Whether the import that labelled its lease ``value`` is certainly gone.

    False when it runs, or when that cannot be known (another pid namespace, a label
    runcore did not write).
    """
    parts = value.split("/")
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    boot, pidns, pid, started = parts
    here = _read("/proc/sys/kernel/random/boot_id")
    if not boot or not here:
        return False
    if boot != here:
        return True  # written before the machine rebooted
    if not pidns or pidns != _pid_namespace():
        return False
    now = _start_time(int(pid))
    return now == "" or now != started


def remove_dead_import_leases(client: "Client") -> list[str]:
    """Delete the leases of killed runcore imports in the namespace; their ids."""
    removed = []
    for lease in client.leases.List().leases:
        value = lease.labels.get(OWNER_LABEL)
        if value is None or not owner_is_dead(value):
            continue
        try:
            client.leases.Delete(id=lease.id)
        except errors.NotFound:
            continue
        removed.append(lease.id)
    return removed


@contextlib.contextmanager
def import_lease(client: "Client") -> Iterator[str]:
    """A fresh import lease (owner-labelled) sent with every call inside the block and
    deleted after it, also when the block raises; then the leases of killed imports are
    removed."""

    def create() -> None:
        labels = {**expire_labels(EXPIRE), OWNER_LABEL: owner()}
        try:
            client.leases.Create(id=lease_id, labels=labels)
        except errors.AlreadyExists:
            pass  # the first attempt got through before containerd went away

    def delete() -> None:
        try:
            client.leases.Delete(id=lease_id)
        except errors.NotFound:
            pass

    lease_id = new_lease_id()
    retrying(client, create, "the image import")
    failed = True
    try:
        with client.holding_lease(lease_id):
            yield lease_id
        failed = False
    finally:
        try:
            retrying(client, delete, "the image import")
            # only now: what this import needs is held by its own lease (a dead import's
            # lease removed first could let the collector take content just reused)
            remove_dead_import_leases(client)
        except errors.ContainerdError:
            if not failed:
                raise


__all__ = ["OWNER_LABEL", "import_lease", "owner", "owner_is_dead", "remove_dead_import_leases"]
