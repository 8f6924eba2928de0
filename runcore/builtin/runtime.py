"""Built-in plugin ``core.runtime``: the runtime and its options.

Flags: ``--runtime``, ``--runtime-config-path``, ``--runc-binary``, ``--runc-root``,
``--runc-systemd-cgroup``, ``--sandbox``, and (``run`` only) ``--no-pivot``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from runcore import hookimpl
from runcore.errors import UsageError
from runcore.runtime_options import RUNC_OPTIONS_URL

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.record import ContainerRecord

PLUGIN = "core.runtime"
RUNC_V2 = "io.containerd.runc.v2"
RUNTIME_OPTIONS_URL = "runtimeoptions.v1.Options"


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add("--runtime", default=RUNC_V2, show_default=True, help="Runtime name.")
    registrar.add(
        "--runtime-config-path",
        default="",
        help="Runtime config path (for runtimes other than runc v2).",
    )
    registrar.add("--runc-binary", default="", help="Specify runc-compatible binary.")
    registrar.add("--runc-root", default="", help="Specify runc-compatible root.")
    registrar.add(
        "--runc-systemd-cgroup", is_flag=True, help="Start runc with systemd cgroup manager."
    )
    registrar.add("--sandbox", default="", help="Create the container in the given sandbox.")
    if command == "run":
        registrar.add("--no-pivot", is_flag=True, help="Disable use of pivot-root (linux only).")


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    runtime = ctx.opt("runtime", RUNC_V2)
    if (ctx.opt("runc_binary") or ctx.opt("runc_systemd_cgroup")) and runtime != RUNC_V2:
        raise UsageError(
            "specifying runc-binary and runc-systemd-cgroup is only supported "
            'for "io.containerd.runc.v2" runtime'
        )
    if ctx.opt("runc_systemd_cgroup") and not ctx.cgroups_path:
        raise UsageError(
            "option --runc-systemd-cgroup requires --cgroup to be set, "
            'e.g. "machine.slice:foo:deadbeef"'
        )


@hookimpl
def runcore_container_record(record: ContainerRecord, ctx: RunContext) -> None:
    from runcore import runtime_options as types

    runtime = ctx.opt("runtime", RUNC_V2)
    record.runtime_name = runtime
    if runtime == RUNC_V2:
        record.runtime_options = (
            RUNC_OPTIONS_URL,
            types.runc_options(
                binary_name=ctx.opt("runc_binary", ""),
                root=ctx.opt("runc_root", ""),
                systemd_cgroup=bool(ctx.opt("runc_systemd_cgroup")),
            ),
        )
    elif ctx.opt("runtime_config_path"):
        record.runtime_options = (
            RUNTIME_OPTIONS_URL,
            types.runtime_options(config_path=ctx.opt("runtime_config_path")),
        )
    if ctx.opt("sandbox"):
        record.sandbox = ctx.opt("sandbox")


@hookimpl
def runcore_task_options(options: Dict[str, Any], ctx: RunContext) -> None:
    if ctx.opt("no_pivot"):
        options["no_pivot_root"] = True
