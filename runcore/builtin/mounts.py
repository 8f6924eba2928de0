"""Built-in plugin ``core.mounts``: extra mounts and root filesystem options.

Flags: ``--mount``, ``--read-only``, ``--rootfs-propagation``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List

from runcore import hookimpl
from runcore.context import StashKey

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.mounts"
#: The ``--mount`` values, parsed while configuring.
MOUNTS = StashKey[List[Dict[str, Any]]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--mount",
        multiple=True,
        metavar="type=T,src=S,dst=D,options=A:B",
        help="Add a mount (repeatable), e.g. type=bind,src=/tmp,dst=/host,options=rbind:ro.",
    )
    registrar.add(
        "--read-only", is_flag=True, help="Set the container's root filesystem read-only."
    )
    registrar.add(
        "--rootfs-propagation",
        default="",
        help="Set the propagation of the container's root filesystem.",
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    from runcore.oci import parse_mount_flag

    ctx.stash[MOUNTS] = [parse_mount_flag(v) for v in ctx.opt("mount", ())]


@hookimpl
def runcore_spec_mounts(spec: SpecEditor, ctx: RunContext) -> None:
    from runcore import oci

    mounts = ctx.stash.get(MOUNTS, [])
    if mounts:
        spec.apply(oci.with_mounts, mounts)
    if ctx.opt("read_only"):
        spec.apply(oci.with_rootfs_readonly)
    if ctx.opt("rootfs_propagation"):
        spec.apply(oci.with_rootfs_propagation, ctx.opt("rootfs_propagation"))
