"""The registrar through which plugins add options to ``run``, ``create`` and ``spec``.

Every option knows the plugin that declared it. A flag declared twice is an error that
names both plugins. A few flags of ``ctr run`` are reserved for first-party plugins
(:data:`RESERVED_FLAGS`): only that plugin may declare them, and while it is not active
the core adds a hidden stand-in that refuses the flag and says why, so asking for
confinement never silently runs a container without it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List

import click

from runcore.errors import PluginError
from runcore.plugin.diagnostics import clash_hint

#: ctr flags that belong to first-party plugins: flag → plugin id.
RESERVED_FLAGS: Dict[str, str] = {
    "--seccomp": "seccomp",
    "--seccomp-profile": "seccomp",
    "--apparmor-default-profile": "apparmor",
    "--apparmor-profile": "apparmor",
    "--gpus": "nvidia",
    "--blockio-config-file": "blockio",
    "--blockio-class": "blockio",
    "--uidmap": "userns",
    "--gidmap": "userns",
    "--remap-labels": "userns",
    "--cni": "cni",
}

@dataclass
class RegisteredOption:
    """One option and the plugin that owns it."""

    option: click.Option
    plugin_id: str
    owner_label: str


@dataclass
class OptionRegistrar:
    """Collects the options of one command.

    Plugins call :meth:`add`; the core binds the registrar to each plugin in turn with
    :meth:`bind` so ownership is recorded without the plugin having to say who it is.

    :ivar command: the command being built: ``"run"``, ``"create"`` or ``"spec"``.
    :ivar plugin_id: the plugin whose options are being added (set by the core).
    :ivar owner_label: how messages name that plugin.
    :ivar options: every option added so far, with its owner.
    :ivar by_flag: flag (``"--hello-greeting"``) -> its registered option.
    """

    command: str
    plugin_id: str = "core"
    owner_label: str = "the core"
    options: List[RegisteredOption] = field(default_factory=list)
    by_flag: Dict[str, RegisteredOption] = field(default_factory=dict)

    def bind(self, plugin_id: str, owner_label: str) -> "OptionRegistrar":
        """Attribute the options added next to ``plugin_id`` (shown as ``owner_label``)."""
        self.plugin_id = plugin_id
        self.owner_label = owner_label
        return self

    def add(self, *decls: str, **kwargs: Any) -> click.Option:
        """Declare an option; arguments are those of :class:`click.Option`.

        ``decls`` are the flag names (``"--seccomp-profile"``, ``"-u"``) and optionally a
        destination name without dashes. Returns the created option.

        :raises PluginError: a flag is already declared (by the core or another plugin),
            or is reserved for another plugin.
        """
        option = click.Option(list(decls), **kwargs)
        flags = [*option.opts, *option.secondary_opts]
        for flag in flags:
            reserved_for = RESERVED_FLAGS.get(flag)
            if reserved_for and reserved_for != self.plugin_id:
                raise PluginError(
                    f"flag {flag} of {self.owner_label} is reserved for the first-party "
                    f"plugin {reserved_for!r}", hint=clash_hint(self.plugin_id),
                )
            taken = self.by_flag.get(flag)
            if taken is not None:
                raise PluginError(
                    f"flag {flag} is declared by both {taken.owner_label} and {self.owner_label}",
                    hint=clash_hint(taken.plugin_id, self.plugin_id),
                )
        if any(o.option.name == option.name for o in self.options):
            other = next(o for o in self.options if o.option.name == option.name)
            raise PluginError(
                f"option name {option.name!r} is declared by both {other.owner_label} "
                f"and {self.owner_label}"
            )
        registered = RegisteredOption(option, self.plugin_id, self.owner_label)
        self.options.append(registered)
        for flag in flags:
            self.by_flag[flag] = registered
        return option

    def add_stand_in(self, flag: str, refusal: Callable[[], str]) -> None:
        """Add a hidden ``flag`` that fails with ``refusal()`` when it is used."""
        if flag in self.by_flag:
            return

        def refuse(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
            if value not in (None, False, ()):
                raise click.UsageError(refusal(), ctx=ctx)
            return value

        is_flag = flag in ("--seccomp", "--remap-labels", "--cni")
        option = click.Option(
            [flag, "_standin_" + flag.lstrip("-").replace("-", "_")],
            is_flag=is_flag,
            multiple=not is_flag and flag == "--gpus",
            hidden=True,
            expose_value=False,
            callback=refuse,
        )
        registered = RegisteredOption(option, "core", "the core")
        self.options.append(registered)
        self.by_flag[flag] = registered
