"""The pluggy manager: built-in plugins, installed plugins, and calling them in order.

Call order inside every hook is fixed: the built-in plugins in :data:`BUILTIN_ORDER`,
then installed plugins sorted by id. :meth:`Plugins.call_each` calls the
implementations one by one in that order, telling the caller whose turn it is, so that
the spec editor and the option registrar can attribute what each plugin does.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import pluggy

from runcore import hookspecs
from runcore.plugin import loader
from runcore.plugin.diagnostics import is_reserved_id
from runcore.plugin.loader import PluginRecord, Policy

#: Built-in plugins, in call order: id -> module implementing their hooks.
BUILTIN_ORDER: Tuple[Tuple[str, str], ...] = (
    ("core.image", "runcore.builtin.image"),
    ("core.process", "runcore.builtin.process"),
    ("core.mounts", "runcore.builtin.mounts"),
    ("core.network", "runcore.builtin.network"),
    ("core.privileges", "runcore.builtin.privileges"),
    ("core.devices", "runcore.builtin.devices"),
    ("core.resources", "runcore.builtin.resources"),
    ("core.labels", "runcore.builtin.labels"),
    ("core.runtime", "runcore.builtin.runtime"),
    ("core.io", "runcore.builtin.io"),
)


@dataclass
class Plugins:
    """The loaded plugin set: the pluggy manager plus a record per plugin."""

    pm: pluggy.PluginManager
    records: List[PluginRecord] = field(default_factory=list)

    def record(self, plugin_id: str) -> Optional[PluginRecord]:
        for rec in self.records:
            if rec.id == plugin_id:
                return rec
        return None

    def active(self) -> List[PluginRecord]:
        return [r for r in self.records if r.status in (loader.ACTIVE, loader.BUILTIN)]

    def ordered_impls(self, hook_name: str) -> List[Tuple[PluginRecord, Callable[..., Any], Sequence[str]]]:
        """``(record, function, argnames)`` for each implementation of ``hook_name``, in order."""
        hook = getattr(self.pm.hook, hook_name)
        by_plugin = {id(impl.plugin): impl for impl in hook.get_hookimpls()}
        out = []
        for rec in self.active():
            impl = by_plugin.get(id(rec.module))
            if impl is not None:
                out.append((rec, impl.function, impl.argnames))
        return out

    def call_each(
        self, hook_name: str, on_turn: Optional[Callable[[PluginRecord], None]] = None, **kwargs: Any
    ) -> List[Tuple[PluginRecord, Any]]:
        """Call every implementation of ``hook_name`` in order; return their results.

        ``on_turn(record)`` runs before each call (used to attribute spec changes).
        """
        results = []
        for rec, function, argnames in self.ordered_impls(hook_name):
            if on_turn is not None:
                on_turn(rec)
            result = function(**{name: kwargs[name] for name in argnames})
            results.append((rec, result))
        return results


def _register(pm: pluggy.PluginManager, rec: PluginRecord) -> None:
    """Register one plugin; unknown hooks or bad signatures mark it failed."""
    try:
        pm.register(rec.module, name=rec.id)
        pm.check_pending()
    except Exception as exc:
        if pm.is_registered(rec.module):
            pm.unregister(rec.module)
        rec.status = loader.FAILED
        rec.reason = f"invalid plugin: {loader.one_line(exc)}"
        rec.module = None


class _HookimplOnly(pluggy.PluginManager):
    """A manager that treats only ``runcore_*`` names as hook implementations."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if not name.startswith("runcore_"):
            return None
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and callable(getattr(plugin, name, None)):
            # an unmarked runcore_* function is still meant as a hook implementation
            return {}
        return opts


def build(policy: Policy, entry_points: Optional[Any] = None, builtins: bool = True) -> Plugins:
    """Load built-in and installed plugins according to ``policy``."""
    pm = _HookimplOnly("runcore")
    pm.add_hookspecs(hookspecs)
    records: List[PluginRecord] = []
    if builtins:
        for plugin_id, module_name in BUILTIN_ORDER:
            rec = PluginRecord(
                id=plugin_id,
                dist="runcore",
                status=loader.BUILTIN,
                builtin=True,
                reason="built into runcore",
                entry_point=module_name,
            )
            from runcore import __version__

            rec.version = __version__
            rec.module = importlib.import_module(module_name)
            records.append(rec)
    for rec in loader.load(policy, entry_points):
        if is_reserved_id(rec.id):
            rec.status = loader.FAILED
            rec.reason = "the id 'core' and ids starting with 'core.' are reserved for built-in plugins"
            rec.module = None
        records.append(rec)
    for rec in records:
        if rec.module is not None:
            _register(pm, rec)
    return Plugins(pm=pm, records=records)


def iter_failures(plugins: Plugins) -> Iterator[PluginRecord]:
    """Plugins that are installed but could not be used."""
    for rec in plugins.records:
        if rec.status in (loader.FAILED, loader.INCOMPATIBLE):
            yield rec


def explain_unavailable(plugins: Plugins, plugin_id: str) -> str:
    """Why the first-party plugin ``plugin_id`` is not providing its flags."""
    rec = plugins.record(plugin_id)
    if rec is None:
        return f"plugin {plugin_id!r} is not installed (pip install runcore-{plugin_id})"
    from runcore.plugin.diagnostics import unavailable_reason

    return unavailable_reason(rec)

