"""Built-in plugin ``core.resources``: cgroup settings.

Flags: ``--cpus``, ``--cpu-shares``, ``--cpu-quota``, ``--cpu-period``,
``--memory-limit``, ``--cgroup``, ``--rdt-class``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runcore import hookimpl
from runcore.options_types import GoFloat, GoInt

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.resources"


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--cgroup", default=None, help="Cgroup path (with systemd cgroups: slice:prefix:name)."
    )
    # Go types of ctr's flags: values outside them are refused, never wrapped.
    registrar.add("--cpus", type=GoFloat(), default=0.0, help="Set the CFS cpu quota.")
    registrar.add(
        "--cpu-shares",
        type=GoInt("int"),
        default=1024,
        show_default=True,
        help="Set the cpu shares.",
    )
    registrar.add("--cpu-quota", type=GoInt("int64"), default=-1, help="Limit CPU CFS quota.")
    registrar.add("--cpu-period", type=GoInt("uint64"), default=0, help="Limit CPU CFS period.")
    registrar.add(
        "--memory-limit",
        type=GoInt("uint64"),
        default=0,
        help="Memory limit (in bytes) for the container.",
    )
    registrar.add(
        "--rdt-class", default="", help="Name of the RDT class to associate the container with."
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    from runcore.oci import check_cpu_flags

    check_cpu_flags(ctx.opt("cpus", 0.0), ctx.opt("cpu_quota", -1), ctx.opt("cpu_period", 0))


@hookimpl
def runcore_spec_resources(spec: SpecEditor, ctx: RunContext) -> None:
    from runcore import oci

    spec.apply(
        oci.apply_cpu_flags,
        ctx.opt("cpus", 0.0),
        ctx.opt("cpu_shares", 0),
        ctx.opt("cpu_quota", -1),
        ctx.opt("cpu_period", 0),
    )
    if ctx.is_set("cgroup"):
        spec.apply(oci.with_cgroup, ctx.options.get("cgroup") or "")
    if ctx.opt("memory_limit", 0):
        spec.apply(oci.with_memory_limit, ctx.opt("memory_limit"))
    if ctx.opt("rdt_class"):
        spec.apply(oci.with_rdt, ctx.opt("rdt_class"))
