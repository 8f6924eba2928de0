"""Built-in plugin ``core.devices``: host devices passed with ``--device``."""
from __future__ import annotations

import os
from typing import Any, Optional, Tuple

from runcore import hookimpl

PLUGIN = "core.devices"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--device", multiple=True, metavar="PATH",
                  help="Add a device to the container (repeatable).")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    """Resolve every ``--device`` now: host paths here, other names through plugins."""
    from runcore.oci import devices_for

    resolved = []
    for value in ctx.opt("device", ()):
        by_plugin = None if os.path.lexists(value) else _resolve_by_plugin(value, ctx)
        if by_plugin is not None:
            resolved.append(by_plugin)
            continue
        devices_for(value)  # fails now, before anything is created, like ctr's stat
        resolved.append((PLUGIN, value))
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
    from runcore import oci

    for owner, item in ctx.state(PLUGIN).get("devices", []):
        if owner == PLUGIN:
            spec.apply(oci.with_devices, item)
            continue
        previous, spec.owner = spec.owner, owner
        try:
            item(spec)
        finally:
            spec.owner = previous
