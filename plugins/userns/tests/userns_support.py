"""Helpers for the integration tests: read a snapshot's files, find remapped snapshots."""
from __future__ import annotations

import contextlib
import os
import stat
import uuid
from typing import Any, Dict, Iterator, List, Tuple

RUN_IMAGE_CMD = ["sleep", "1000"]
UIDMAP = "0:100000:65536"
GIDMAP = "0:100000:65536"
MAPS = ["--uidmap", UIDMAP, "--gidmap", GIDMAP]


def committed(daemon: Any, namespace: str, snapshotter: str = "overlayfs") -> Dict[str, str]:
    """Committed snapshots of ``namespace``: key -> parent."""
    return {k: p for k, p, kind in daemon.snapshots(namespace, snapshotter) if kind.lower() == "committed"}


def remapped(daemon: Any, namespace: str, snapshotter: str = "overlayfs") -> Dict[str, str]:
    """The committed snapshots that are remapped copies (``<chain>-<uid>-<gid>``)."""
    return {k: p for k, p in committed(daemon, namespace, snapshotter).items()
            if k.startswith(p + "-") and p}


def remove_remapped(daemon: Any, namespace: str, snapshotter: str = "overlayfs") -> None:
    for key in remapped(daemon, namespace, snapshotter):
        daemon.ctr("snapshots", "--snapshotter", snapshotter, "rm", key, namespace=namespace,
                   check=False)


@contextlib.contextmanager
def _client(daemon: Any, namespace: str) -> Iterator[Any]:
    from runcore.containerd.client import Client

    client = Client.connect(daemon.address, namespace)
    try:
        yield client
    finally:
        client.close()


def snapshot_tree(daemon: Any, namespace: str, name: str,
                  snapshotter: str = "overlayfs") -> Dict[str, Tuple[int, int, int, bytes]]:
    """path -> (uid, gid, mode, security.capability) of every file of snapshot ``name``,
    read through a read-only view mounted here."""
    from runcore import rootfs_mount

    key = f"userns-test-view-{uuid.uuid4().hex[:8]}"
    out: Dict[str, Tuple[int, int, int, bytes]] = {}
    with _client(daemon, namespace) as client:
        with client.lease():
            resp = client.snapshots.View(snapshotter=snapshotter, key=key, parent=name)
            target = rootfs_mount.temp_mount_dir()
            try:
                for m in resp.mounts:
                    mtype, source, options = rootfs_mount.readonly_mount(m.type, m.source, list(m.options))
                    rootfs_mount.mount(mtype, source, target, options)
                try:
                    for dirpath, dirnames, filenames in os.walk(target):
                        for entry in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
                            st = os.lstat(entry)
                            cap = b""
                            if stat.S_ISREG(st.st_mode):
                                try:
                                    cap = os.getxattr(entry, "security.capability", follow_symlinks=False)
                                except OSError:
                                    pass
                            rel = "/" if entry == target else "/" + os.path.relpath(entry, target)
                            out[rel] = (st.st_uid, st.st_gid, st.st_mode, cap)
                finally:
                    rootfs_mount.unmount(target)
            finally:
                os.rmdir(target)
                client.snapshots.Remove(snapshotter=snapshotter, key=key)
    return out


def differences(a: Dict[str, Tuple], b: Dict[str, Tuple]) -> List[str]:
    out = []
    for path in sorted(set(a) | set(b)):
        if a.get(path) != b.get(path):
            out.append(f"{path}: {a.get(path)} != {b.get(path)}")
    return out
