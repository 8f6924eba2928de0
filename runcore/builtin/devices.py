"""Built-in plugin ``core.devices``: host devices passed with ``--device``."""
from __future__ import annotations

import os
from typing import Any, Optional, Tuple

from runcore import hookimpl
from runcore.errors import UsageError

PLUGIN = "core.devices"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--device", multiple=True, metavar="PATH",
                  help="Add a device to the container (repeatable).")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    """Resolve every ``--device`` now: host paths here, other names through plugins."""
    from runcore.oci.devices import DeviceError, devices_for

    resolved = []
    for value in ctx.opt("device", ()):
        by_plugin = None if os.path.lexists(value) else _resolve_by_plugin(value, ctx)
        if by_plugin is not None:
            resolved.append(by_plugin)
            continue
        try:
            resolved.append((PLUGIN, devices_for(value)))
        except DeviceError as exc:
            raise UsageError(str(exc)) from None
    ctx.state(PLUGIN)["devices"] = resolved


def _resolve_by_plugin(value: str, ctx: Any) -> Optional[Tuple[str, Any]]:
    """``(plugin id, apply)`` from the first plugin resolving ``value``, else ``None``."""
    for rec, function, argnames in ctx.plugins.ordered_impls("runcore_resolve_device"):
        kwargs = {"value": value, "ctx": ctx}
        applier = function(**{n: kwargs[n] for n in argnames})
        if applier is not None:
            return rec.id, applier
    return None


@hookimpl
def runcore_spec_mounts(spec: Any, ctx: Any) -> None:
    from runcore.oci.devices import cgroup_rule

    for owner, item in ctx.state(PLUGIN).get("devices", []):
        if owner != PLUGIN:
            previous, spec.owner = spec.owner, owner
            try:
                item(spec)
            finally:
                spec.owner = previous
            continue
        for device in item:
            spec.append("linux.devices", device)
            spec.append("linux.resources.devices", cgroup_rule(device))
