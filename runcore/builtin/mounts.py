"""Built-in plugin ``core.mounts``: extra mounts and root filesystem options.

Flags: ``--mount``, ``--read-only``, ``--rootfs-propagation``.
"""
from __future__ import annotations

from typing import Any

from runcore import hookimpl
from runcore.errors import UsageError

PLUGIN = "core.mounts"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--mount", multiple=True, metavar="type=T,src=S,dst=D,options=A:B",
                  help="Add a mount (repeatable), e.g. type=bind,src=/tmp,dst=/host,options=rbind:ro.")
    registrar.add("--read-only", is_flag=True, help="Set the container's root filesystem read-only.")
    registrar.add("--rootfs-propagation", default="",
                  help="Set the propagation of the container's root filesystem.")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    from runcore.oci.mounts import MountSpecError, parse_mount_flag

    mounts = []
    for value in ctx.opt("mount", ()):
        try:
            mounts.append(parse_mount_flag(value))
        except MountSpecError as exc:
            raise UsageError(f"--mount {value!r}: {exc}") from None
    ctx.state(PLUGIN)["mounts"] = mounts


@hookimpl
def runcore_spec_mounts(spec: Any, ctx: Any) -> None:
    mounts = ctx.state(PLUGIN).get("mounts", [])
    if mounts:
        spec.append("mounts", *mounts)
    if ctx.opt("read_only"):
        spec.set("root.readonly", True)
    if ctx.opt("rootfs_propagation"):
        spec.set("linux.rootfsPropagation", ctx.opt("rootfs_propagation"))
