"""oci.WithPrivileged and its companions WithAllDevicesAllowed / WithHostDevices."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from .caps import current_caps, with_capabilities
from .defaults import RWM
from .devices import host_devices, with_linux_devices
from .spec import linux, process, resources

__all__ = [
    "with_privileged",
    "with_all_devices_allowed",
    "with_host_devices",
    "with_writeable_mount_type",
    "host_devices",
]


def with_writeable_mount_type(spec: Dict[str, Any], mount_type: str) -> None:
    """Turn every ``ro`` option of mounts of ``mount_type`` into ``rw`` (WithWriteableSysfs/Cgroupfs)."""
    for mount in spec.get("mounts") or []:
        if mount.get("type") == mount_type and mount.get("options"):
            mount["options"] = ["rw" if o == "ro" else o for o in mount["options"]]


def with_privileged(spec: Dict[str, Any], caps: Optional[Sequence[str]] = None) -> None:
    """Apply oci.WithPrivileged with ``caps`` (default: CapEff of this process) as the capability set."""
    if caps is None:
        caps = current_caps()
    with_capabilities(spec, caps)
    lin = linux(spec)
    lin.pop("maskedPaths", None)
    lin.pop("readonlyPaths", None)
    with_writeable_mount_type(spec, "sysfs")
    with_writeable_mount_type(spec, "cgroup")
    proc = process(spec)
    proc.pop("selinuxLabel", None)
    proc.pop("apparmorProfile", None)
    lin.pop("seccomp", None)


def with_all_devices_allowed(spec: Dict[str, Any]) -> None:
    """Replace resources.devices with a single allow-all rule (oci.WithAllDevicesAllowed)."""
    resources(spec)["devices"] = [{"allow": True, "access": RWM}]


def with_host_devices(
    spec: Dict[str, Any], dev_root: str = "/dev", in_userns: Optional[bool] = None
) -> None:
    """Append every device found below ``dev_root`` to linux.devices (oci.WithHostDevices)."""
    with_linux_devices(spec, host_devices(dev_root, in_userns=in_userns))
