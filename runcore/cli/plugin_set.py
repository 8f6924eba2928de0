"""The plugin set of this process: policy, configuration, the plugin registry, and the
options and commands the plugins contribute (built lazily, once per command)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set

import click

from runcore.errors import RuncoreError
from runcore.plugin import diagnostics, loader, manager
from runcore.plugin.commands import CommandRegistrar
from runcore.plugin.options import RESERVED_FLAGS, OptionRegistrar, ReservedFlag


class PluginSet:
    """Loaded plugins plus the options and commands they contribute (built lazily)."""

    def __init__(
        self,
        argv: Sequence[str],
        environ: Optional[Dict[str, str]] = None,
        core_commands: Iterable[str] = (),
    ) -> None:
        from runcore import config

        #: problems a diagnostic command reports instead of stopping on (see diagnostics)
        self.problems: List[RuncoreError] = []
        self.argv = list(argv)
        self.diagnostic = diagnostics.is_diagnostic(argv)
        self.policy = loader.Policy.from_environment(argv, environ)
        self.config = diagnostics.attempt(self, lambda: config.load(environ), config.Config())
        self.config.apply_to_policy(self.policy)
        self.registry = manager.build(self.policy)
        diagnostics.attempt(self, lambda: self.config.check_required(self.registry), None)
        self.core_commands = tuple(core_commands)
        self._options: Dict[str, OptionRegistrar] = {}
        self._commands: Optional[CommandRegistrar] = None

    def _info(self, plugin_id: str) -> loader.PluginInfo:
        info = self.registry.info(plugin_id)
        assert info is not None
        return info

    def options(self, command: str) -> OptionRegistrar:
        """The options of ``command`` (``run``, ``create``, ``spec``), with owners."""
        if command not in self._options:
            registrar = OptionRegistrar(command)

            @contextmanager
            def bound_to(plugin_id: str) -> Iterator[None]:
                info = self._info(plugin_id)
                registrar.bind(plugin_id, info.label)
                before = len(registrar.options)
                yield
                for reg in registrar.options[before:]:
                    for flag in (*reg.option.opts, *reg.option.secondary_opts):
                        if flag not in info.flags:
                            info.flags.append(flag)

            self.registry.call_each(
                "runcore_add_options", attribute=bound_to, registrar=registrar, command=command
            )
            for reserved in RESERVED_FLAGS:
                if reserved.flag not in registrar.by_flag:
                    registrar.add_stand_in(reserved, self._refusal(reserved))
            diagnostics.add_unavailable_flags(registrar, self.registry)
            diagnostics.remember_flags(self.registry)
            self._options[command] = registrar
        return self._options[command]

    def _refusal(self, reserved: ReservedFlag) -> Callable[[], str]:
        """Why ``reserved.flag`` cannot be used now (its plugin is not active)."""

        def refusal() -> str:
            why = manager.explain_unavailable(self.registry, reserved.plugin_id)
            return f"{reserved.flag} is not available: {why}"

        return refusal

    def unknown_defaults(self) -> Dict[str, str]:
        """``[defaults]`` keys that name no option of run, create or spec: key -> file."""
        known: Set[Optional[str]] = set()
        for command in ("run", "create", "spec"):
            known.update(o.option.name for o in self.options(command).options)
        return {k: src for k, src in self.config.default_sources.items() if k not in known}

    def commands(self) -> Dict[str, click.Command]:
        """Sub-commands added by plugins (the core's names are taken)."""
        if self._commands is None:
            registrar = CommandRegistrar(reserved={n: "the core" for n in self.core_commands})

            @contextmanager
            def bound_to(plugin_id: str) -> Iterator[None]:
                info = self._info(plugin_id)
                registrar.bind(info.label)
                before = set(registrar.commands)
                yield
                info.commands.extend(sorted(set(registrar.commands) - before))

            self.registry.call_each("runcore_add_commands", attribute=bound_to, registrar=registrar)
            self._commands = registrar
        return self._commands.commands


_CURRENT: Optional[PluginSet] = None


def init_plugin_set(
    argv: Sequence[str],
    environ: Optional[Dict[str, str]] = None,
    core_commands: Iterable[str] = (),
) -> PluginSet:
    """Build the plugin set for this process from ``argv`` and the environment;
    ``core_commands`` are the sub-command names plugins may not take."""
    global _CURRENT
    _CURRENT = PluginSet(argv, environ, core_commands)
    return _CURRENT


def plugin_set() -> PluginSet:
    """The plugin set of this process (built from ``sys.argv`` if not yet)."""
    global _CURRENT
    if _CURRENT is None:
        import sys

        _CURRENT = PluginSet(sys.argv[1:])
    return _CURRENT


def reset_plugin_set() -> None:
    """Forget the plugin set (tests build a new one per invocation)."""
    global _CURRENT
    _CURRENT = None
