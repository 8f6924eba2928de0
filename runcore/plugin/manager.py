"""The plugin registry: built-in and installed plugins, and calling their hooks in order.

Every hook is called through pluggy, by :meth:`PluginRegistry.call_each`. Call order
inside a hook is fixed: the built-in plugins in :data:`BUILTIN_ORDER`, then installed
plugins sorted by id. pluggy calls the plugin registered last first, so plugins are
registered in the reverse of that order; pluggy's ordering markers (``tryfirst``,
``trylast``) and wrappers (``wrapper``, ``hookwrapper``) would break the documented
order and are refused when a plugin is registered (the plugin is marked ``failed``, with
a reason naming it). The spec phases make them unnecessary.

Each plugin is registered as an :class:`_Attributed` proxy whose hook functions know
their plugin. While a hook runs, the proxy

* enters the caller's attribution context for that plugin (the spec editor's
  :meth:`~runcore.spec_editor.SpecEditor.attributed_to`, the option registrar's
  ``bound_to``), so what the plugin changes is recorded against it;
* turns an unexpected exception (anything but a :class:`~runcore.errors.RuncoreError`
  or a click exception) into :class:`~runcore.errors.PluginFailed`, one line naming the
  plugin and the hook;
* records each non-``None`` result with the plugin that returned it.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    ContextManager,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

import click
import pluggy

from runcore import hookspecs
from runcore.errors import PluginError, PluginFailed, RuncoreError
from runcore.plugin import loader
from runcore.plugin.diagnostics import is_reserved_id
from runcore.plugin.loader import PluginInfo, Policy

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

#: pluggy hook-implementation options runcore refuses (see the module docstring).
REFUSED_MARKERS: Tuple[str, ...] = ("tryfirst", "trylast", "wrapper", "hookwrapper")

#: Exceptions a hook may raise on purpose; they reach the caller unchanged.
_DELIBERATE: Tuple[type, ...] = (
    RuncoreError,
    click.ClickException,
    click.exceptions.Exit,
    click.Abort,
)

Attribution = Callable[[str], ContextManager[Any]]
ErrorHandler = Callable[[PluginFailed], None]


class HookResult(NamedTuple):
    """A non-``None`` value returned by one plugin's hook implementation."""

    plugin_id: str
    value: Any


@dataclass
class _Call:
    """The hook call in progress (per thread and task, through a context variable)."""

    hook_name: str
    attribute: Optional[Attribution]
    on_error: Optional[ErrorHandler]
    results: List[HookResult] = field(default_factory=list)


_CURRENT_CALL: contextvars.ContextVar[Optional[_Call]] = contextvars.ContextVar(
    "runcore_hook_call", default=None
)


def _attributed(plugin_id: str, hook_name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` wrapped to run as ``plugin_id`` (see the module docstring)."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        current = _CURRENT_CALL.get()
        if current is not None and current.hook_name != hook_name:
            current = None  # a hook called directly from inside another hook
        attribute = current.attribute if current is not None else None
        try:
            with attribute(plugin_id) if attribute is not None else nullcontext():
                result = function(*args, **kwargs)
        except Exception as exc:
            if current is not None and current.on_error is not None:
                current.on_error(
                    exc
                    if isinstance(exc, PluginFailed)
                    else PluginFailed(plugin_id, hook_name, exc)
                )
                return None
            if isinstance(exc, _DELIBERATE):
                raise
            raise PluginFailed(plugin_id, hook_name, exc) from exc
        if current is not None and result is not None:
            current.results.append(HookResult(plugin_id, result))
        return result

    return call


class _Attributed:
    """What runcore registers with pluggy for one plugin: its ``runcore_*`` functions,
    each wrapped by :func:`_attributed`."""

    def __init__(self, plugin_id: str, plugin: Any) -> None:
        self.plugin_id = plugin_id
        for name in dir(plugin):
            if not name.startswith("runcore_"):
                continue
            function = getattr(plugin, name, None)
            if not callable(function):
                continue
            opts = dict(getattr(function, "runcore_impl", None) or {})
            refused = [marker for marker in REFUSED_MARKERS if opts.get(marker)]
            if refused:
                raise PluginError(
                    f"plugin {plugin_id!r}: {name} is marked {refused[0]}, which runcore "
                    "does not support (hooks run built-ins first, then plugins by id; "
                    "pick the spec phase that fits instead)"
                )
            wrapped = _attributed(plugin_id, opts.get("specname") or name, function)
            wrapped.runcore_impl = opts  # type: ignore[attr-defined]
            setattr(self, name, wrapped)

    def __repr__(self) -> str:
        return f"<runcore plugin {self.plugin_id!r}>"


@dataclass
class PluginRegistry:
    """The plugins of this process: what is known about each, and their hooks."""

    pm: pluggy.PluginManager
    infos: List[PluginInfo] = field(default_factory=list)

    def info(self, plugin_id: str) -> Optional[PluginInfo]:
        """What is known about ``plugin_id``, or ``None`` when it is not installed."""
        for info in self.infos:
            if info.id == plugin_id:
                return info
        return None

    def active(self) -> List[PluginInfo]:
        """Built-in and active plugins, in call order."""
        return [i for i in self.infos if i.status in (loader.ACTIVE, loader.BUILTIN)]

    def call_each(
        self,
        hook_name: str,
        *,
        attribute: Optional[Attribution] = None,
        on_error: Optional[ErrorHandler] = None,
        **kwargs: Any,
    ) -> List[HookResult]:
        """Call ``hook_name`` through pluggy, in call order; return the non-``None`` results.

        :param attribute: ``attribute(plugin_id)`` is a context manager entered around
            each plugin's call (``editor.attributed_to``).
        :param on_error: when given, a plugin that raises (anything) is reported to it as
            a :class:`PluginFailed` and the next plugin is called; otherwise the error
            stops the call.
        :return: one :class:`HookResult` per plugin that returned something; for a
            ``firstresult`` hook, at most one.
        """
        call = _Call(hook_name, attribute, on_error)
        token = _CURRENT_CALL.set(call)
        try:
            getattr(self.pm.hook, hook_name)(**kwargs)
        finally:
            _CURRENT_CALL.reset(token)
        return call.results


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, looking only at ``runcore_*`` names for hook implementations.

    pluggy inspects every attribute of a registered plugin (``inspect.getattr_static``);
    every hook of runcore is named ``runcore_*`` (:mod:`runcore.hookspecs`), so the other
    names (the proxy's dunders) are skipped before that: a few ms on every command.
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if not name.startswith("runcore_"):
            return None
        return super().parse_hookimpl_opts(plugin, name)


def _register(pm: pluggy.PluginManager, info: PluginInfo) -> None:
    """Register one plugin; refused markers, unknown hooks or bad signatures mark it failed."""
    try:
        proxy = _Attributed(info.id, info.module)
        pm.register(proxy, name=info.id)
        pm.check_pending()
    except Exception as exc:
        plugin = pm.get_plugin(info.id)
        if plugin is not None:
            pm.unregister(plugin)
        info.status = loader.FAILED
        info.reason = f"invalid plugin: {loader.one_line(exc)}"
        info.module = None


def build(
    policy: Policy, entry_points: Optional[Sequence[Any]] = None, builtins: bool = True
) -> PluginRegistry:
    """Load built-in and installed plugins according to ``policy``."""
    from runcore import __version__

    pm = _PluginManager("runcore")
    pm.add_hookspecs(hookspecs)
    infos: List[PluginInfo] = []
    if builtins:
        for plugin_id, module_name in BUILTIN_ORDER:
            infos.append(
                PluginInfo(
                    id=plugin_id,
                    dist="runcore",
                    version=__version__,
                    status=loader.BUILTIN,
                    builtin=True,
                    reason="built into runcore",
                    entry_point=module_name,
                    module=importlib.import_module(module_name),
                )
            )
    for info in sorted(loader.load(policy, entry_points), key=lambda i: i.id):
        if is_reserved_id(info.id):
            info.status = loader.FAILED
            info.reason = (
                "the id 'core' and ids starting with 'core.' are reserved for built-in plugins"
            )
            info.module = None
        infos.append(info)
    for info in reversed(infos):  # pluggy calls the last registered first
        if info.module is not None:
            _register(pm, info)
    return PluginRegistry(pm=pm, infos=infos)


def explain_unavailable(registry: PluginRegistry, plugin_id: str) -> str:
    """Why the first-party plugin ``plugin_id`` is not providing its flags."""
    info = registry.info(plugin_id)
    if info is None:
        return f"plugin {plugin_id!r} is not installed (pip install runcore-{plugin_id})"
    from runcore.plugin.diagnostics import unavailable_reason

    return unavailable_reason(info)


__all__ = [
    "BUILTIN_ORDER",
    "REFUSED_MARKERS",
    "HookResult",
    "PluginRegistry",
    "build",
    "explain_unavailable",
]
