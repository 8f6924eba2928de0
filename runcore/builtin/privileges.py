"""Built-in plugin ``core.privileges``: what the container's process may do.

Flags: ``--privileged``, ``--privileged-without-host-devices``, ``--cap-add``,
``--cap-drop``, ``--allow-new-privs``.
"""
from __future__ import annotations

from typing import Any

from runcore import hookimpl
from runcore.errors import UsageError

PLUGIN = "core.privileges"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--privileged", is_flag=True, help="Run a privileged container.")
    registrar.add("--privileged-without-host-devices", is_flag=True,
                  help="With --privileged, do not pass the host's devices.")
    registrar.add("--cap-add", multiple=True, metavar="CAP_NAME",
                  help="Add a capability (repeatable), e.g. CAP_SYS_ADMIN.")
    registrar.add("--cap-drop", multiple=True, metavar="CAP_NAME",
                  help="Drop a capability (repeatable), e.g. CAP_NET_RAW.")
    registrar.add("--allow-new-privs", is_flag=True,
                  help="Turn off OCI spec's NoNewPrivileges feature flag.")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    from runcore.oci.caps import CapabilityError, check_cap_names

    if ctx.opt("privileged_without_host_devices") and not ctx.opt("privileged"):
        raise UsageError("can't use 'privileged-without-host-devices' without 'privileged' specified")
    for name in ("cap_add", "cap_drop"):
        try:
            check_cap_names(ctx.opt(name, ()))
        except CapabilityError as exc:
            raise UsageError(str(exc)) from None


@hookimpl
def runcore_spec_mounts(spec: Any, ctx: Any) -> None:
    """Privileged containers get every device cgroup rule and the host's devices."""
    if not ctx.opt("privileged") or ctx.opt("privileged_without_host_devices"):
        return
    from runcore.oci.privileged import host_devices

    spec.set("linux.resources.devices", [{"allow": True, "access": "rwm"}])
    devices = host_devices()
    if devices:
        spec.append("linux.devices", *devices)


@hookimpl
def runcore_spec_privileges(spec: Any, ctx: Any) -> None:
    from runcore.oci import caps as capsmod

    if ctx.opt("privileged"):
        from runcore.oci.privileged import with_privileged

        current = {
            "process": spec.get("process") or {},
            "linux": spec.get("linux") or {},
            "mounts": spec.get("mounts") or [],
        }
        with_privileged(current, capsmod.current_process_caps())
        spec.set("process.capabilities", current["process"].get("capabilities", {}))
        for key in ("apparmorProfile", "selinuxLabel"):
            if key not in current["process"]:
                spec.remove(f"process.{key}")
        for key in ("maskedPaths", "readonlyPaths", "seccomp"):
            if key not in current["linux"]:
                spec.remove(f"linux.{key}")
        spec.set("mounts", current["mounts"])
    if ctx.opt("cap_add") or ctx.opt("cap_drop"):
        current = {"process": {"capabilities": spec.get("process.capabilities") or {}}}
        if ctx.opt("cap_add"):
            capsmod.add_caps(current, list(ctx.opt("cap_add")))
        if ctx.opt("cap_drop"):
            capsmod.drop_caps(current, list(ctx.opt("cap_drop")))
        spec.set("process.capabilities", current["process"]["capabilities"])
    if ctx.is_set("allow_new_privs"):
        spec.remove("process.noNewPrivileges")
