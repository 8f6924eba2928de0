"""The registrar through which plugins add options to ``run``, ``create`` and ``spec``.

Every option knows the plugin that declared it. A flag declared twice is an error that
names both plugins. A few flags of ``ctr run`` are reserved for first-party plugins
(:data:`RESERVED_FLAGS`, a declarative table of flag, plugin and shape): only that plugin
may declare them, and while it is not active the core adds a hidden stand-in of the same
shape that refuses the flag and says why, so asking for confinement never silently runs
a container without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import click

from runcore.errors import PluginError
from runcore.plugin.diagnostics import clash_hint

#: How a reserved flag takes its value.
FLAG = "flag"  # a boolean switch: ``--seccomp``
VALUE = "value"  # one value: ``--seccomp-profile PATH``
MULTIPLE = "multiple"  # a value, repeatable: ``--gpus 0 --gpus 1``


@dataclass(frozen=True)
class ReservedFlag:
    """A ``ctr run`` flag that belongs to a first-party plugin, and its shape."""

    flag: str
    plugin_id: str
    kind: str = VALUE


#: ctr flags that belong to first-party plugins. The core knows only this table: the
#: plugin declares the real option, and a test checks that each one has this shape.
RESERVED_FLAGS: Tuple[ReservedFlag, ...] = (
    ReservedFlag("--seccomp", "seccomp", FLAG),
    ReservedFlag("--seccomp-profile", "seccomp"),
    ReservedFlag("--apparmor-default-profile", "apparmor"),
    ReservedFlag("--apparmor-profile", "apparmor"),
    ReservedFlag("--gpus", "nvidia", MULTIPLE),
    ReservedFlag("--blockio-config-file", "blockio"),
    ReservedFlag("--blockio-class", "blockio"),
    ReservedFlag("--uidmap", "userns"),
    ReservedFlag("--gidmap", "userns"),
    ReservedFlag("--remap-labels", "userns", FLAG),
    ReservedFlag("--cni", "cni", FLAG),
)

_RESERVED_BY_FLAG: Dict[str, ReservedFlag] = {r.flag: r for r in RESERVED_FLAGS}


def reserved_flag(flag: str) -> Optional[ReservedFlag]:
    """The reservation of ``flag``, or ``None`` when any plugin may declare it."""
    return _RESERVED_BY_FLAG.get(flag)


def option_kind(option: click.Option) -> str:
    """:data:`FLAG`, :data:`VALUE` or :data:`MULTIPLE`: how ``option`` takes its value."""
    if option.is_flag:
        return FLAG
    return MULTIPLE if option.multiple else VALUE


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
    _by_name: Dict[Optional[str], RegisteredOption] = field(default_factory=dict, repr=False)

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
            reserved = reserved_flag(flag)
            if reserved is not None and reserved.plugin_id != self.plugin_id:
                raise PluginError(
                    f"flag {flag} of {self.owner_label} is reserved for the first-party "
                    f"plugin {reserved.plugin_id!r}",
                    hint=clash_hint(self.plugin_id),
                )
            taken = self.by_flag.get(flag)
            if taken is not None:
                raise PluginError(
                    f"flag {flag} is declared by both {taken.owner_label} and {self.owner_label}",
                    hint=clash_hint(taken.plugin_id, self.plugin_id),
                )
        other = self._by_name.get(option.name)
        if other is not None:
            raise PluginError(
                f"option name {option.name!r} is declared by both {other.owner_label} "
                f"and {self.owner_label}"
            )
        registered = RegisteredOption(option, self.plugin_id, self.owner_label)
        self.options.append(registered)
        self._by_name[option.name] = registered
        for flag in flags:
            self.by_flag[flag] = registered
        return option

    def add_stand_in(self, reserved: ReservedFlag, refusal: Callable[[], str]) -> None:
        """Add a hidden ``reserved.flag`` that fails with ``refusal()`` when it is used."""
        flag = reserved.flag
        if flag in self.by_flag:
            return

        def refuse(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
            if value not in (None, False, ()):
                raise click.UsageError(refusal(), ctx=ctx)
            return value

        option = click.Option(
            [flag, "_standin_" + flag.lstrip("-").replace("-", "_")],
            is_flag=reserved.kind == FLAG,
            multiple=reserved.kind == MULTIPLE,
            hidden=True,
            expose_value=False,
            callback=refuse,
        )
        registered = RegisteredOption(option, "core", "the core")
        self.options.append(registered)
        self._by_name[option.name] = registered
        self.by_flag[flag] = registered
