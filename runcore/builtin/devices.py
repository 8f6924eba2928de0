"""Built-in plugin ``core.devices``: host devices passed with ``--device``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple, Union

from runcore import hookimpl
from runcore.context import StashKey

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.devices"

#: A resolved ``--device``: ``(PLUGIN, host path)`` or ``(plugin id, apply(spec))``.
Device = Tuple[str, Union[str, Callable[["SpecEditor"], None]]]
#: Every ``--device``, resolved while configuring, in command-line order.
DEVICES = StashKey[List[Device]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--device",
        multiple=True,
        metavar="PATH",
        help="Add a device to the container (repeatable).",
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    """Resolve every ``--device`` now: host paths here, other names through plugins."""
    from runcore.oci import devices_for

    resolved: List[Device] = []
    for value in ctx.opt("device", ()):
        by_plugin = None if os.path.lexists(value) else _resolve_by_plugin(value, ctx)
        if by_plugin is not None:
            resolved.append(by_plugin)
            continue
        devices_for(value)  # fails now, before anything is created, like ctr's stat
        resolved.append((PLUGIN, value))
    ctx.stash[DEVICES] = resolved


def _resolve_by_plugin(value: str, ctx: RunContext) -> Optional[Device]:
    """``(plugin id, apply)`` from the first plugin resolving ``value``, else ``None``."""
    assert ctx.plugins is not None
    for plugin_id, applier in ctx.plugins.call_each("runcore_resolve_device", value=value, ctx=ctx):
        return plugin_id, applier  # a firstresult hook: at most one
    return None


@hookimpl
def runcore_spec_mounts(spec: SpecEditor, ctx: RunContext) -> None:
    from runcore import oci

    for owner, item in ctx.stash.get(DEVICES, []):
        if isinstance(item, str):
            spec.apply(oci.with_devices, item)
            continue
        with spec.attributed_to(owner):
            item(spec)
