"""Device nodes: DeviceFromPath, the /dev walk of getDevices, and oci.WithDevices / WithLinuxDevice."""

from __future__ import annotations

import errno
import os
import stat
from typing import Any, Dict, List, Optional

from runcore import gocompat as _go
from .errors import DeviceError, NotADeviceError
from .spec import linux, resources

#: Sub-directories the walk never enters.
SKIPPED_DIRS = frozenset({"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"})

_S_IFMT = 0o170000


def _major(rdev: int) -> int:
    """unix.Major (glibc encoding)."""
    return ((rdev >> 8) & 0xFFF) | ((rdev >> 32) & 0xFFFFF000)


def _minor(rdev: int) -> int:
    """unix.Minor (glibc encoding)."""
    return (rdev & 0xFF) | ((rdev >> 12) & 0xFFFFFF00)


def device_from_path(path: str) -> Dict[str, Any]:
    """LinuxDevice dict for ``path`` using lstat (symlinks are not devices); ``not a device node`` otherwise."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise DeviceError(_go.path_error("lstat", path, exc)) from exc
    mode = st.st_mode
    if stat.S_ISBLK(mode):
        dev_type = "b"
    elif stat.S_ISCHR(mode):
        dev_type = "c"
    elif stat.S_ISFIFO(mode):
        dev_type = "p"
    else:
        raise NotADeviceError()
    return {
        "path": path,
        "type": dev_type,
        "major": _major(st.st_rdev),
        "minor": _minor(st.st_rdev),
        "fileMode": mode & ~_S_IFMT & 0xFFFFFFFF,
        "uid": st.st_uid,
        "gid": st.st_gid,
    }


def running_in_userns(uid_map_path: str = "/proc/self/uid_map") -> bool:
    """moby/sys/userns.RunningInUserNS: False if the uid_map is unreadable or the full identity map."""
    try:
        with open(uid_map_path, "r", encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return False
    if first == "":
        return True
    fields = first.split()
    try:
        a, b, c = (int(x) for x in fields[:3])
    except ValueError:
        return True
    return not (a == 0 and b == 0 and c == 4294967295)


def _is_not_exist(exc: BaseException) -> bool:
    """os.IsNotExist on the error behind a DeviceError."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and cause.errno == errno.ENOENT


def _is_permission(exc: BaseException) -> bool:
    """errors.Is(err, os.ErrPermission) on the error behind a DeviceError."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM)


def _sort_key(name: str) -> bytes:
    """os.ReadDir order: by the raw bytes of the file name."""
    return os.fsencode(name)


def devices_for(
    path: str, container_path: str = "", in_userns: Optional[bool] = None
) -> List[Dict[str, Any]]:
    """Devices for ``path``: one device, or a recursive walk of a directory (getDevices, §7.5)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DeviceError(
            "error stating device path: " + _go.path_error("stat", path, exc)
        ) from exc
    if not stat.S_ISDIR(st.st_mode):
        dev = device_from_path(path)
        if container_path != "":
            dev["path"] = container_path
        return [dev]

    def userns() -> bool:
        nonlocal in_userns
        if in_userns is None:
            in_userns = running_in_userns()
        return in_userns

    try:
        entries = sorted(os.scandir(path), key=lambda e: _sort_key(e.name))
    except OSError as exc:
        raise DeviceError(_go.path_error("open", path, exc)) from exc
    out: List[Dict[str, Any]] = []
    for entry in entries:
        name = entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            if name in SKIPPED_DIRS:
                continue
            cp = _go.join(container_path, os.path.basename(name)) if container_path != "" else ""
            try:
                sub = devices_for(_go.join(path, name), cp, in_userns=in_userns)
            except DeviceError as exc:
                if _is_permission(exc) and userns():
                    continue
                raise
            out.extend(sub)
            continue
        if name == "console":
            continue
        try:
            dev = device_from_path(_go.join(path, name))
        except NotADeviceError:
            continue
        except DeviceError as exc:
            if _is_not_exist(exc):
                continue
            if _is_permission(exc) and userns():
                continue
            raise
        if dev["type"] == "p":
            continue
        if container_path != "":
            dev["path"] = _go.join(container_path, os.path.basename(name))
        out.append(dev)
    return out


def host_devices(dev_root: str = "/dev", in_userns: Optional[bool] = None) -> List[Dict[str, Any]]:
    """All devices below ``dev_root`` (oci.HostDevices)."""
    return devices_for(dev_root, "", in_userns=in_userns)


def device_cgroup_rule(dev: Dict[str, Any], access: str) -> Dict[str, Any]:
    """The allow rule WithDevices adds for one device."""
    rule: Dict[str, Any] = {
        "allow": True,
        "type": dev["type"],
        "major": dev["major"],
        "minor": dev["minor"],
    }
    if access != "":
        rule["access"] = access
    return rule


def with_devices(
    spec: Dict[str, Any],
    path: str,
    container_path: str = "",
    perms: str = "rwm",
    in_userns: Optional[bool] = None,
) -> None:
    """Append the devices of ``path`` to linux.devices and an allow rule each to resources.devices (oci.WithDevices)."""
    devs = devices_for(path, container_path, in_userns=in_userns)
    lin = linux(spec)
    res = resources(spec)
    lin["devices"] = list(lin.get("devices") or [])
    res["devices"] = list(res.get("devices") or [])
    for dev in devs:
        lin["devices"].append(dev)
        res["devices"].append(device_cgroup_rule(dev, perms))


def with_linux_devices(spec: Dict[str, Any], devices: List[Dict[str, Any]]) -> None:
    """Append ``devices`` to linux.devices only (oci.WithLinuxDevices / WithHostDevices)."""
    lin = linux(spec)
    lin["devices"] = list(lin.get("devices") or []) + [dict(d) for d in devices]
