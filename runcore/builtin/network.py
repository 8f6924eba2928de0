"""Built-in plugin ``core.network``: namespaces and host identity.

Flags: ``--net-host``, ``--with-ns``, ``--hostname``. ``--cni`` belongs to the
``runcore-cni`` plugin; without it the core refuses the flag and says why.
"""
from __future__ import annotations

import socket
from typing import Any

from runcore import hookimpl
from runcore.errors import UsageError

PLUGIN = "core.network"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--net-host", is_flag=True, help="Enable host networking for the container.")
    registrar.add("--with-ns", multiple=True, metavar="TYPE:PATH",
                  help="Join an existing namespace (repeatable), e.g. network:/proc/1/ns/net.")
    registrar.add("--hostname", default="", help="Set the container's host name.")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    from runcore.oci.namespaces import NamespaceError, parse_with_ns

    for value in ctx.opt("with_ns", ()):
        try:
            parse_with_ns(value)
        except NamespaceError as exc:
            raise UsageError(str(exc)) from None


@hookimpl
def runcore_spec_namespaces(spec: Any, ctx: Any) -> None:
    from runcore.oci.env import replace_or_append
    from runcore.oci.namespaces import parse_with_ns

    namespaces = spec.get("linux.namespaces") or []
    changed = False
    if ctx.opt("net_host"):
        namespaces = [ns for ns in namespaces if ns.get("type") != "network"]
        changed = True
        env = spec.get("process.env") or []
        spec.set("process.env", replace_or_append(env, [f"HOSTNAME={socket.gethostname()}"]))
    for value in ctx.opt("with_ns", ()):
        ns_type, path = parse_with_ns(value)
        for entry in namespaces:
            if entry.get("type") == ns_type:
                entry["path"] = path
                break
        else:
            namespaces.append({"type": ns_type, "path": path})
        changed = True
    if changed:
        spec.set("linux.namespaces", namespaces)
    if ctx.opt("hostname"):
        spec.set("hostname", ctx.opt("hostname"))


@hookimpl
def runcore_spec_mounts(spec: Any, ctx: Any) -> None:
    if ctx.opt("net_host"):
        spec.append(
            "mounts",
            {"destination": "/etc/hosts", "type": "bind", "source": "/etc/hosts",
             "options": ["rbind", "ro"]},
            {"destination": "/etc/resolv.conf", "type": "bind", "source": "/etc/resolv.conf",
             "options": ["rbind", "ro"]},
        )
