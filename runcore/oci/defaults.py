"""The default Unix spec of ctr 1.7.24 (Debian build) and the default device cgroup rules."""

from __future__ import annotations

from typing import Any, Dict, List

from runcore import gocompat as _go
from .spec import resources

#: ``specs.Version`` as linked into Debian's containerd 1.7.24 (runtime-spec 1.2.0).
OCI_VERSION = "1.2.0"

#: Access string used for every default device rule.
RWM = "rwm"

#: Relative rootfs path of snapshot-based containers.
DEFAULT_ROOTFS_PATH = "rootfs"

#: Environment used when the image config has no Env.
DEFAULT_UNIX_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]

#: Default bounding/effective/permitted capabilities, in containerd's order.
DEFAULT_CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]

DEFAULT_NAMESPACES = ["pid", "ipc", "uts", "mount", "network"]

#: maskedPaths of 1.7.11+ (includes /sys/devices/virtual/powercap).
DEFAULT_MASKED_PATHS = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/scsi",
]

DEFAULT_READONLY_PATHS = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
]


def default_mounts() -> List[Dict[str, Any]]:
    """The 7 default mounts (fresh lists on every call)."""
    return [
        {
            "destination": "/proc",
            "type": "proc",
            "source": "proc",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/run",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
    ]


def default_unix_spec(namespace: str, container_id: str) -> Dict[str, Any]:
    """A new spec dict equal to populateDefaultUnixSpec for ``namespace``/``container_id`` (oci.WithDefaultSpec)."""
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "user": {"uid": 0, "gid": 0},
            "cwd": "/",
            "capabilities": {
                "bounding": list(DEFAULT_CAPS),
                "effective": list(DEFAULT_CAPS),
                "permitted": list(DEFAULT_CAPS),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": DEFAULT_ROOTFS_PATH},
        "mounts": default_mounts(),
        "linux": {
            "resources": {"devices": [{"allow": False, "access": RWM}]},
            "cgroupsPath": _go.join("/", namespace, container_id),
            "namespaces": [{"type": t} for t in DEFAULT_NAMESPACES],
            "maskedPaths": list(DEFAULT_MASKED_PATHS),
            "readonlyPaths": list(DEFAULT_READONLY_PATHS),
        },
    }


def default_unix_devices() -> List[Dict[str, Any]]:
    """The device cgroup rules oci.WithDefaultUnixDevices appends (pts has no minor)."""
    rules = []
    for major, minor in (
        (1, 3),
        (1, 8),
        (1, 7),
        (5, 0),
        (1, 5),
        (1, 9),
        (5, 1),
        (136, None),
        (5, 2),
    ):
        rule: Dict[str, Any] = {"allow": True, "type": "c", "major": major}
        if minor is not None:
            rule["minor"] = minor
        rule["access"] = RWM
        rules.append(rule)
    return rules


def with_default_unix_devices(spec: Dict[str, Any]) -> None:
    """Append the default device rules to linux.resources.devices (oci.WithDefaultUnixDevices)."""
    res = resources(spec)
    res["devices"] = list(res.get("devices") or []) + default_unix_devices()
