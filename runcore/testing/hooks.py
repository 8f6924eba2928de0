"""Calling a plugin's hook functions directly, in unit tests: the objects runcore passes them.

* :func:`run_context` – a :class:`~runcore.context.RunContext` as the command line leaves it;
* :class:`RecordingRegistrar` – what ``runcore_add_options`` gets, keeping each option;
* :func:`modules_after_import` – what importing a plugin loads (plugins import heavy
  modules inside their hooks, so that ``runcore --help`` stays fast).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, List

from runcore.context import COMMANDLINE, RunContext


def run_context(command: str = "create", **options: Any) -> RunContext:
    """A context whose ``options`` are ``options``; each one that is set (not ``None``,
    ``False``, empty) counts as given on the command line."""
    sources = {k: COMMANDLINE for k, v in options.items() if v not in (None, False, "", ())}
    return RunContext(command=command, options=dict(options), sources=sources)


class RecordingRegistrar:
    """Stands in for :class:`~runcore.plugin.options.OptionRegistrar`: ``add`` builds the
    ``click.Option`` and keeps it in :attr:`options`."""

    def __init__(self) -> None:
        self.options: List[Any] = []

    def add(self, *decls: str, **kwargs: Any) -> Any:
        """Build and keep ``click.Option(decls, **kwargs)``; return it."""
        import click

        option = click.Option(list(decls), **kwargs)
        self.options.append(option)
        return option


def modules_after_import(package: str, *heavy: str) -> List[str]:
    """The submodules of ``package`` and the modules of ``heavy`` that a fresh interpreter
    holds after ``import package`` (sorted)."""
    code = (
        f"import json, sys, {package}; "
        f"print(json.dumps(sorted(m for m in sys.modules "
        f"if m.startswith({package + '.'!r}) or m in {list(heavy)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result: List[str] = json.loads(out.stdout)
    return result
