"""Mount a snapshot read-only in this process to read files from it (``/etc/passwd``).

ctr does the same for user lookups: overlay mounts lose ``upperdir``/``workdir`` (the
upper directory becomes the top ``lowerdir``), other mounts get ``ro``. The mount is made
on first use and removed by :meth:`SnapshotRootFS.close`.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from runcore.oci.rootfs import DirectoryRootFS

MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MNT_DETACH = 0x2

_FLAG_OPTIONS = {"ro": MS_RDONLY, "bind": MS_BIND, "rbind": MS_BIND | MS_REC}
_IGNORED = {"rw", "volatile"}


@functools.lru_cache(maxsize=None)
def _libc() -> Any:
    # the interpreter's own symbols include libc's (ctypes.util.find_library("c") would
    # run ldconfig in two subprocesses: 10-20 ms on every run)
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def readonly_mount(
    mount_type: str, source: str, options: Sequence[str]
) -> Tuple[str, str, List[str]]:
    """The read-only form of one snapshot mount (``type, source, options``)."""
    opts = [o for o in options if o not in _IGNORED]
    if mount_type == "overlay":
        upper = next((o.split("=", 1)[1] for o in opts if o.startswith("upperdir=")), None)
        opts = [o for o in opts if not o.startswith(("upperdir=", "workdir="))]
        if upper:
            opts = [
                f"lowerdir={upper}:{o.split('=', 1)[1]}" if o.startswith("lowerdir=") else o
                for o in opts
            ]
        return mount_type, source, opts
    return mount_type, source, [*opts, "ro"]


def mount(mount_type: str, source: str, target: str, options: Sequence[str]) -> None:
    """``mount(2)`` with flag options turned into flags and the rest as data."""
    flags, data = 0, []
    for option in options:
        if option in _FLAG_OPTIONS:
            flags |= _FLAG_OPTIONS[option]
        else:
            data.append(option)
    libc = _libc()
    fstype = None if flags & MS_BIND else mount_type
    rc = libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        flags & ~MS_RDONLY if flags & MS_BIND else flags,
        ",".join(data).encode() if data else None,
    )
    if rc != 0:
        err = _errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")
    if flags & MS_BIND and flags & MS_RDONLY:
        rc = libc.mount(None, target.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        if rc != 0:
            err = _errno()
            unmount(target)
            raise OSError(err, f"remount {target} read-only: {os.strerror(err)}")


def unmount(target: str) -> None:
    libc = _libc()
    if libc.umount2(target.encode(), 0) != 0:
        libc.umount2(target.encode(), MNT_DETACH)


def temp_mount_dir() -> str:
    """A new ``containerd-mount<digits>`` directory where ctr would make it."""
    import tempfile

    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return tempfile.mkdtemp(prefix="containerd-mount", dir=base)


class SnapshotRootFS:
    """Read access to a snapshot's files through a temporary read-only mount."""

    def __init__(self, mounts: List[Any]) -> None:
        self._mounts = mounts
        self._dir: Optional[str] = None
        self._reader: Optional["DirectoryRootFS"] = None

    def _ensure(self) -> "DirectoryRootFS":
        if self._reader is None:
            from runcore.oci.rootfs import DirectoryRootFS

            target = temp_mount_dir()
            try:
                for m in self._mounts:
                    mtype, source, options = readonly_mount(m.type, m.source, list(m.options))
                    mount(mtype, source, target, options)
            except OSError:
                import shutil

                shutil.rmtree(target, ignore_errors=True)
                raise
            self._dir = target
            self._reader = DirectoryRootFS(target)
        return self._reader

    def read_file(self, path: str) -> Optional[bytes]:
        """Contents of ``path`` inside the snapshot; None when it does not exist."""
        return self._ensure().read_file(path)

    def host_path(self, path: str) -> str:
        """Where ``path`` lies under the temporary mount (Go's PathError names this path)."""
        return str(self._ensure().host_path(path))

    def close(self) -> None:
        if self._dir is not None:
            unmount(self._dir)
            try:
                os.rmdir(self._dir)
            except OSError:
                pass
            self._dir = None
            self._reader = None
