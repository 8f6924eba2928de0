"""The plugin set of this process, built once from the command line and environment."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import click

from runcore.errors import RuncoreError
from runcore.plugin import diagnostics, loader, manager
from runcore.plugin.commands import CommandRegistrar
from runcore.plugin.options import RESERVED_FLAGS, OptionRegistrar


class PluginSet:
    """Loaded plugins plus the options and commands they contribute (built lazily)."""

    def __init__(self, argv: Sequence[str], environ: Optional[Dict[str, str]] = None) -> None:
        from runcore import config

        #: problems a diagnostic command reports instead of stopping on (see diagnostics)
        self.problems: List[RuncoreError] = []
        self.argv = list(argv)
        self.diagnostic = diagnostics.is_diagnostic(argv)
        self.policy = loader.Policy.from_environment(argv, environ)
        self.config = diagnostics.attempt(self, lambda: config.load(environ), config.Config())
        self.config.apply_to_policy(self.policy)
        self.plugins = manager.build(self.policy)
        diagnostics.attempt(self, lambda: self.config.check_required(self.plugins), None)
        self._options: Dict[str, OptionRegistrar] = {}
        self._commands: Optional[CommandRegistrar] = None

    def options(self, command: str) -> OptionRegistrar:
        """The options of ``command`` (``run``, ``create``, ``spec``), with owners."""
        if command not in self._options:
            registrar = OptionRegistrar(command)
            for rec, function, argnames in self.plugins.ordered_impls("runcore_add_options"):
                registrar.bind(rec.id, rec.label)
                before = len(registrar.options)
                kwargs = {"registrar": registrar, "command": command}
                function(**{n: kwargs[n] for n in argnames})
                for reg in registrar.options[before:]:
                    for flag in (*reg.option.opts, *reg.option.secondary_opts):
                        if flag not in rec.flags:
                            rec.flags.append(flag)
            for flag, plugin_id in RESERVED_FLAGS.items():
                if flag not in registrar.by_flag:
                    registrar.add_stand_in(
                        flag,
                        lambda flag=flag, pid=plugin_id: (
                            f"{flag} is not available: "
                            + manager.explain_unavailable(self.plugins, pid)
                        ),
                    )
            diagnostics.add_unavailable_flags(registrar, self.plugins)
            diagnostics.remember_flags(self.plugins)
            self._options[command] = registrar
        return self._options[command]

    def unknown_defaults(self) -> Dict[str, str]:
        """``[defaults]`` keys that name no option of run, create or spec: key -> file."""
        known = set()
        for command in ("run", "create", "spec"):
            known.update(o.option.name for o in self.options(command).options)
        return {k: src for k, src in self.config.default_sources.items() if k not in known}

    def commands(self) -> Dict[str, click.Command]:
        """Sub-commands added by plugins."""
        if self._commands is None:
            from runcore.cli.main import CORE_COMMANDS

            registrar = CommandRegistrar(reserved={n: "the core" for n in CORE_COMMANDS})
            for rec, function, argnames in self.plugins.ordered_impls("runcore_add_commands"):
                registrar.bind(rec.label)
                before = set(registrar.commands)
                function(**{n: {"registrar": registrar}[n] for n in argnames})
                rec.commands.extend(sorted(set(registrar.commands) - before))
            self._commands = registrar
        return self._commands.commands


_CURRENT: Optional[PluginSet] = None


def init_plugin_set(argv: Sequence[str], environ: Optional[Dict[str, str]] = None) -> PluginSet:
    """Build the plugin set for this process from ``argv`` and the environment."""
    global _CURRENT
    _CURRENT = PluginSet(argv, environ)
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
