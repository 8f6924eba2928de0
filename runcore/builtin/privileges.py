"""Built-in plugin ``core.privileges``: what the container's process may do.

Flags: ``--privileged``, ``--privileged-without-host-devices``, ``--cap-add``,
``--cap-drop``, ``--allow-new-privs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runcore import hookimpl
from runcore.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.privileges"


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add("--privileged", is_flag=True, help="Run a privileged container.")
    registrar.add(
        "--privileged-without-host-devices",
        is_flag=True,
        help="With --privileged, do not pass the host's devices.",
    )
    registrar.add(
        "--cap-add",
        multiple=True,
        metavar="CAP_NAME",
        help="Add a capability (repeatable), e.g. CAP_SYS_ADMIN.",
    )
    registrar.add(
        "--cap-drop",
        multiple=True,
        metavar="CAP_NAME",
        help="Drop a capability (repeatable), e.g. CAP_NET_RAW.",
    )
    registrar.add(
        "--allow-new-privs", is_flag=True, help="Turn off OCI spec's NoNewPrivileges feature flag."
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    from runcore.oci import validate_caps

    if ctx.opt("privileged_without_host_devices") and not ctx.opt("privileged"):
        raise UsageError(
            "can't use 'privileged-without-host-devices' without 'privileged' specified"
        )
    validate_caps(ctx.opt("cap_add", ()))
    validate_caps(ctx.opt("cap_drop", ()))


@hookimpl
def runcore_spec_mounts(spec: SpecEditor, ctx: RunContext) -> None:
    """Privileged containers get every device cgroup rule and the host's devices."""
    if ctx.opt("privileged") and not ctx.opt("privileged_without_host_devices"):
        from runcore import oci

        spec.apply(oci.with_all_devices_allowed)
        spec.apply(oci.with_host_devices)


@hookimpl
def runcore_spec_privileges(spec: SpecEditor, ctx: RunContext) -> None:
    from runcore import oci

    if ctx.opt("privileged"):
        spec.apply(oci.with_privileged)
    if ctx.opt("cap_add"):
        spec.apply(oci.add_caps, list(ctx.opt("cap_add")))
    if ctx.opt("cap_drop"):
        spec.apply(oci.drop_caps, list(ctx.opt("cap_drop")))
    if ctx.is_set("allow_new_privs"):
        spec.apply(oci.with_new_privileges)
