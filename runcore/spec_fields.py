"""Which spec phase owns which fields of the OCI spec.

A plugin writes a field in the phase that owns it (see :mod:`runcore.hookspecs`), so
whatever a later phase derives from it sees the final value: the security phase sees
the capabilities the privileges phase settled, the privileges phase sees the devices
and mounts. The table is part of the hook reference (``docs/reference.md``), and a
test traces the built-in plugins' writes against it.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

#: spec path -> the phase (hook name) that owns it; the longest matching path wins.
OWNER_PHASE: Dict[str, str] = {
    "root.path": "runcore_spec_process",
    "process.args": "runcore_spec_process",
    "process.env": "runcore_spec_process",
    "process.cwd": "runcore_spec_process",
    "process.user": "runcore_spec_process",
    "process.terminal": "runcore_spec_process",
    "process.consoleSize": "runcore_spec_process",
    "process.rlimits": "runcore_spec_process",
    "hostname": "runcore_spec_namespaces",
    "domainname": "runcore_spec_namespaces",
    "linux.namespaces": "runcore_spec_namespaces",
    "linux.uidMappings": "runcore_spec_namespaces",
    "linux.gidMappings": "runcore_spec_namespaces",
    "linux.sysctl": "runcore_spec_namespaces",
    "linux.netDevices": "runcore_spec_namespaces",
    "mounts": "runcore_spec_mounts",
    "root.readonly": "runcore_spec_mounts",
    "linux.rootfsPropagation": "runcore_spec_mounts",
    "linux.devices": "runcore_spec_mounts",
    "linux.resources.devices": "runcore_spec_mounts",
    "hooks": "runcore_spec_mounts",
    "linux.resources": "runcore_spec_resources",
    "linux.cgroupsPath": "runcore_spec_resources",
    "linux.intelRdt": "runcore_spec_resources",
    "process.oomScoreAdj": "runcore_spec_resources",
    "process.capabilities": "runcore_spec_privileges",
    "process.noNewPrivileges": "runcore_spec_privileges",
    "linux.maskedPaths": "runcore_spec_privileges",
    "linux.readonlyPaths": "runcore_spec_privileges",
    "linux.seccomp": "runcore_spec_security",
    "process.apparmorProfile": "runcore_spec_security",
    "process.selinuxLabel": "runcore_spec_security",
    "linux.mountLabel": "runcore_spec_security",
    "annotations": "runcore_spec_finish",
}

#: (phase, spec path, why): documented writes outside the owning phase, on top of it.
LATER_ADJUSTMENTS: Tuple[Tuple[str, str, str], ...] = (
    (
        "runcore_spec_namespaces",
        "process.env",
        "`--net-host` sets `HOSTNAME=` to the host's name, over the image's environment",
    ),
    (
        "runcore_spec_privileges",
        "mounts",
        "`--privileged` makes the `/sys` and cgroup mounts read-write",
    ),
)


def owner_phase(path: str) -> Optional[str]:
    """The phase owning dotted ``path`` (longest listed prefix), or ``None``."""
    parts = path.split(".")
    for n in range(len(parts), 0, -1):
        phase = OWNER_PHASE.get(".".join(parts[:n]))
        if phase:
            return phase
    return None
