"""Built-in plugin ``core.network``: namespaces and host identity.

Flags: ``--net-host``, ``--with-ns``, ``--hostname``. ``--cni`` belongs to the
``runcore-cni`` plugin; without it the core refuses the flag and says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runcore import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.network"


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add("--net-host", is_flag=True, help="Enable host networking for the container.")
    registrar.add(
        "--with-ns",
        multiple=True,
        metavar="TYPE:PATH",
        help="Join an existing namespace (repeatable), e.g. network:/proc/1/ns/net.",
    )
    registrar.add("--hostname", default="", help="Set the container's host name.")


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    from runcore.oci import parse_with_ns

    for value in ctx.opt("with_ns", ()):
        parse_with_ns(value)


@hookimpl
def runcore_spec_namespaces(spec: SpecEditor, ctx: RunContext) -> None:
    from runcore import oci

    if ctx.opt("net_host"):
        spec.apply(oci.with_host_namespace, "network")
        env = spec.get("process.env") or []
        # deliberate (as in ctr): the host's name replaces any HOSTNAME= from the image or --env
        spec.set(
            "process.env",
            oci.replace_or_append(env, [f"HOSTNAME={oci.host_hostname()}"]),
            replace=True,
        )
    for value in ctx.opt("with_ns", ()):
        spec.apply(oci.with_ns, value)
    if ctx.opt("hostname"):
        spec.apply(oci.with_hostname, ctx.opt("hostname"))


@hookimpl
def runcore_spec_mounts(spec: SpecEditor, ctx: RunContext) -> None:
    if ctx.opt("net_host"):
        from runcore import oci

        spec.apply(oci.with_host_hosts_file)
        spec.apply(oci.with_host_resolvconf)
