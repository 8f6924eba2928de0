"""The remapped base snapshot of ``--uidmap``/``--gidmap``: image files shifted by the host ids.

containerd's client (ctr 1.7) makes a committed snapshot ``<chainID>-<uidHost>-<gidHost>``
on top of the image's top snapshot in which every path's owner is shifted by the host ids
of the mappings (a pure offset; container ids and sizes are not used), and prepares the
container's snapshot on top of it. An existing one is reused. This module does the same:

* :func:`ensure_remapped` – ``Snapshots/Stat`` the name; if absent ``Snapshots/Prepare``
  ``<name>-remap`` from the parent, mount it in this process, :func:`shift_tree`,
  unmount, ``Snapshots/Commit`` it as the name.
* :func:`shift_tree` – ``lchown`` every path by the offsets. Unlike ctr 1.7 (whose plain
  ``lchown`` clears them) it keeps setuid/setgid bits and the ``security.capability``
  extended attribute, and shifts a hard-linked inode once (ctr shifts it once per name on
  snapshotters that keep hard links, such as ``native``).

Everything runs inside the caller's lease: a snapshot left by a failure is removed here
or, at the latest, with the lease.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from runcore.api import AlreadyExists, NotFound, RuncoreError

#: The extended attribute holding file capabilities; chown(2) removes it.
CAPABILITY_XATTR = "security.capability"
#: The snapshotter capability that makes client-side remapping unnecessary.
REMAP_IDS = "remap-ids"
SNAPSHOTTER_PLUGIN_TYPE = "io.containerd.snapshotter.v1"

_UINT32 = 0xFFFFFFFF
_KEEP_MODE_BITS = stat.S_ISUID | stat.S_ISGID


class RemapError(RuncoreError):
    """Shifting the ownership of a snapshot's files failed."""


def remapped_name(parent: str, uid_host: int, gid_host: int) -> str:
    """``<parent>-<uidHost>-<gidHost>``, the committed remapped snapshot's name."""
    return f"{parent}-{uid_host}-{gid_host}"


# --------------------------------------------------------------------------- file tree


def _read_capability(path: str) -> Optional[bytes]:
    try:
        return os.getxattr(path, CAPABILITY_XATTR, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
            return None
        raise


def shift_tree(root: str, uid_offset: int, gid_offset: int) -> int:
    """Add the offsets to the owner of ``root`` and of every path below it; return the count.

    Symbolic links are changed themselves (``lchown``) and never followed. Ids wrap at
    2^32 as Go's ``uint32`` arithmetic does. For each path, in this order: read
    ``security.capability``, ``lchown``, re-apply the mode when it has setuid/setgid bits
    (chown clears them), write the capability back. A hard-linked file is shifted from
    the owner it had when first seen, so every name ends with the same owner whether the
    names share one inode (native) or were split by an overlay copy-up.
    """
    first_seen: Dict[Tuple[int, int], os.stat_result] = {}
    count = 0
    stack: List[str] = [root]
    while stack:
        path = stack.pop()
        st = os.lstat(path)
        is_link = stat.S_ISLNK(st.st_mode)
        is_dir = stat.S_ISDIR(st.st_mode)
        if not is_dir and st.st_nlink > 1:
            st = first_seen.setdefault((st.st_dev, st.st_ino), st)
        capability = _read_capability(path) if stat.S_ISREG(st.st_mode) else None
        os.lchown(path, (st.st_uid + uid_offset) & _UINT32, (st.st_gid + gid_offset) & _UINT32)
        if not is_link and st.st_mode & _KEEP_MODE_BITS:
            os.chmod(path, stat.S_IMODE(st.st_mode))
        if capability is not None:
            os.setxattr(path, CAPABILITY_XATTR, capability, follow_symlinks=False)
        count += 1
        if is_dir:
            with os.scandir(path) as entries:
                names = sorted(e.name for e in entries)
            stack.extend(os.path.join(path, name) for name in reversed(names))
    return count


# --------------------------------------------------------------------------- mounting


@contextlib.contextmanager
def mounted(mounts: Sequence[Any]) -> Iterator[str]:
    """Mount a snapshot's mounts read-write on a temporary ``containerd-mount*`` directory."""
    from runcore.api import rootfs_mount

    target = rootfs_mount.temp_mount_dir()
    layers = 0
    try:
        for m in mounts:
            options = [o for o in m.options if o != "rw"]
            rootfs_mount.mount(m.type, m.source, target, options)
            layers += 1
        yield target
    finally:
        for _ in range(layers):
            rootfs_mount.unmount(target)
        try:
            os.rmdir(target)
        except OSError:
            pass


# --------------------------------------------------------------------------- snapshots


def snapshotter_capabilities(client: Any, snapshotter: str) -> List[str]:
    """The snapshotter plugin's capabilities (``Introspection/Plugins``), as ctr 1.7 asks."""
    resp = client.introspection.Plugins(
        filters=[f"type=={SNAPSHOTTER_PLUGIN_TYPE}, id=={snapshotter}"]
    )
    if not resp.plugins:
        raise RuncoreError(f"inspection service could not find snapshotter {snapshotter} plugin")
    return list(resp.plugins[0].capabilities)


def _exists(client: Any, snapshotter: str, key: str) -> bool:
    try:
        client.snapshots.Stat(snapshotter=snapshotter, key=key)
    except NotFound:
        return False
    return True


def _remove_quietly(client: Any, snapshotter: str, key: str) -> None:
    try:
        client.snapshots.Remove(snapshotter=snapshotter, key=key)
    except NotFound:
        pass
    except RuncoreError:
        pass  # the caller's lease releases it


def _hold(client: Any, snapshotter: str, name: str) -> None:
    """Add snapshot ``name`` to the current lease so garbage collection keeps it."""
    lease = client.current_lease
    if lease:
        resource = client.pb.leases.Resource(id=name, type=f"snapshots/{snapshotter}")
        client.leases.AddResource(id=lease, resource=resource)


def ensure_remapped(
    client: Any, snapshotter: str, parent: str, uid_host: int, gid_host: int
) -> str:
    """The committed snapshot ``<parent>-<uidHost>-<gidHost>``, made now if it is missing.

    Must be called inside a lease. Returns the snapshot's name (the container snapshot's
    parent). Two runs making the same snapshot at once both succeed: the one committing
    second drops its copy and uses the first one's.
    """
    name = remapped_name(parent, uid_host, gid_host)
    if _exists(client, snapshotter, name):
        # It may be unreferenced (its last container just removed) and collected at any
        # moment: put it in this run's lease first, then make sure it is still there.
        _hold(client, snapshotter, name)
        if _exists(client, snapshotter, name):
            return name
    key = name + "-remap"
    try:
        resp = client.snapshots.Prepare(snapshotter=snapshotter, key=key, parent=parent)
    except AlreadyExists:
        # another run is remapping right now, or one was killed while doing so (its lease
        # keeps the key until it expires): work on a key of our own
        key = f"{name}-remap-{uuid.uuid4().hex[:12]}"
        resp = client.snapshots.Prepare(snapshotter=snapshotter, key=key, parent=parent)
    try:
        with mounted(list(resp.mounts)) as root:
            shift_tree(root, uid_host, gid_host)
    except OSError as exc:
        _remove_quietly(client, snapshotter, key)
        where = f" {exc.filename}" if exc.filename else ""
        raise RemapError(
            f"remapping snapshot {name}:{where}: {(exc.strerror or str(exc)).lower()}"
        ) from None
    except BaseException:
        _remove_quietly(client, snapshotter, key)
        raise
    try:
        client.snapshots.Commit(snapshotter=snapshotter, name=name, key=key)
    except AlreadyExists:
        _remove_quietly(client, snapshotter, key)
    return name
