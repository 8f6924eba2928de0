"""The registrar through which plugins add sub-commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

import click

from runcore.errors import PluginError


@dataclass
class CommandRegistrar:
    """Collects ``click.Command`` objects and remembers which plugin added each."""

    owner: str = "core"
    commands: Dict[str, click.Command] = field(default_factory=dict)
    owners: Dict[str, str] = field(default_factory=dict)
    reserved: Dict[str, str] = field(default_factory=dict)

    def bind(self, owner: str) -> "CommandRegistrar":
        """The same registrar, attributing what is added next to ``owner``."""
        self.owner = owner
        return self

    def add(self, command: click.Command) -> None:
        """Add ``command`` under its own name; a taken name is an error naming both owners."""
        name = command.name or ""
        taken = self.owners.get(name) or self.reserved.get(name)
        if taken:
            raise PluginError(f"command {name!r} is declared by both {taken} and {self.owner}")
        self.commands[name] = command
        self.owners[name] = self.owner
