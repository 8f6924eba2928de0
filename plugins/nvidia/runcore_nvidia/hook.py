"""The prestart hook ctr 1.7 writes for ``--gpus`` (containerd ``contrib/nvidia``).

``WithGPUs(WithDevices(ids...), WithAllCapabilities)``: containerd's ``oci-hook``
wrapper, found on ``$PATH``, runs ``nvidia-container-cli`` (also found on ``$PATH``)::

    path: <containerd>
    args: containerd oci-hook -- <nvidia-container-cli> --load-kmods configure
          --device=<ids,...> --compute --compat32 --graphics --utility --video --display
          --pid={{pid}} {{rootfs}}
    env:  the complete environment of the process (os.Environ(), in order)
"""

from __future__ import annotations

import os
from typing import Dict, List, Mapping, Optional, Sequence

from .lookpath import look_path

NVIDIA_CLI = "nvidia-container-cli"

#: Every capability, in the order ctr passes them (nvidia.AllCaps()).
ALL_CAPABILITIES = ("compute", "compat32", "graphics", "utility", "video", "display")


def cli_args(
    devices: Sequence[str],
    capabilities: Sequence[str] = ALL_CAPABILITIES,
    load_kmods: bool = False,
    ldcache: str = "",
    ldconfig: str = "",
    requirements: Sequence[str] = (),
    no_cgroups: bool = False,
) -> List[str]:
    """The arguments after ``--load-kmods`` (config.args() of contrib/nvidia)."""
    args: List[str] = []
    if load_kmods:
        args.append("--load-kmods")
    if ldcache:
        args.append(f"--ldcache={ldcache}")
    args.append("configure")
    if devices:
        args.append("--device=" + ",".join(devices))
    args.extend(f"--{cap}" for cap in capabilities)
    if ldconfig:
        args.append(f"--ldconfig={ldconfig}")
    args.extend(f"--require={r}" for r in requirements)
    if no_cgroups:
        args.append("--no-cgroups")
    args.extend(["--pid={{pid}}", "{{rootfs}}"])
    return args


def environ_list(environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """``os.Environ()``: ``KEY=value`` in the order of the process environment."""
    env = os.environ if environ is None else environ
    return [f"{key}={value}" for key, value in env.items()]


def lookup() -> Dict[str, str]:
    """Find ``containerd`` then ``nvidia-container-cli`` (ctr's order); LookPathError."""
    containerd = look_path("containerd")
    cli = look_path(NVIDIA_CLI)
    return {"containerd": containerd, "cli": cli}


def prestart_hook(
    paths: Mapping[str, str], gpu_ids: Sequence[int], environ: Optional[Mapping[str, str]] = None
) -> Dict[str, object]:
    """The OCI hook ctr appends to ``hooks.prestart``."""
    devices = [str(i) for i in gpu_ids]
    return {
        "path": paths["containerd"],
        "args": ["containerd", "oci-hook", "--", paths["cli"], "--load-kmods", *cli_args(devices)],
        "env": environ_list(environ),
    }
