"""Built-in plugin ``core.devices``: host devices passed with ``--device``."""
from __future__ import annotations

from typing import Any

from runcore import hookimpl
from runcore.errors import UsageError

PLUGIN = "core.devices"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--device", multiple=True, metavar="PATH",
                  help="Add a device to the container (repeatable).")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    from runcore.oci.devices import DeviceError, devices_for

    resolved = []
    for value in ctx.opt("device", ()):
        try:
            resolved.append(devices_for(value))
        except DeviceError as exc:
            raise UsageError(str(exc)) from None
    ctx.state(PLUGIN)["devices"] = resolved


@hookimpl
def runcore_spec_mounts(spec: Any, ctx: Any) -> None:
    from runcore.oci.devices import cgroup_rule

    for devices in ctx.state(PLUGIN).get("devices", []):
        for device in devices:
            spec.append("linux.devices", device)
            spec.append("linux.resources.devices", cgroup_rule(device))
