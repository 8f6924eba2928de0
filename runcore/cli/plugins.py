"""``runcore plugins``: what is installed, what is active, and why."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import click


def _collect(explain: bool) -> List[Dict[str, Any]]:
    from runcore.cli.plugin_set import plugin_set

    from runcore.plugin import diagnostics

    pset = plugin_set()
    for command in ("run", "create", "spec"):  # fills each plugin's flags
        diagnostics.attempt(pset, lambda command=command: pset.options(command), None)
    diagnostics.attempt(pset, pset.commands, None)
    diagnostics.attempt(pset, lambda: diagnostics.check_config_options(pset), None)
    rows = []
    for info in pset.registry.infos:
        row = info.as_dict()
        if explain:
            row["decided_by"] = info.reason
        rows.append(row)
    return rows


def _defaults_explained() -> List[Dict[str, Any]]:
    from runcore.cli.plugin_set import plugin_set

    cfg = plugin_set().config
    out = []
    for name, value in sorted(cfg.defaults.items()):
        out.append(
            {
                "option": name,
                "value": value,
                "source": cfg.default_sources.get(name, ""),
                "locked_by": cfg.locked.get(name),
            }
        )
    return out


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--explain",
    is_flag=True,
    help="Say which file or environment variable decided each status and default.",
)
@click.option(
    "--builtin/--no-builtin",
    default=False,
    show_default=True,
    help="Also list the core's built-in plugins.",
)
def plugins_command(as_json: bool, explain: bool, builtin: bool) -> None:
    """List plugins: id, distribution, version, status and the flags each adds."""
    from runcore.cli.plugin_set import plugin_set

    rows = [r for r in _collect(explain) if builtin or not r["builtin"]]
    if as_json:
        payload: Any = rows
        if explain:
            payload = {
                "plugins": rows,
                "defaults": _defaults_explained(),
                "config_files": plugin_set().config.files,
                "problems": _problems(),
            }
        click.echo(json.dumps(payload, indent=2))
        _exit_on_problems()
        return
    header = ("ID", "DISTRIBUTION", "VERSION", "STATUS", "FLAGS")
    table = [header]
    for r in rows:
        status = (
            r["status"] if r["status"] in ("active", "builtin") else f"{r['status']}: {r['reason']}"
        )
        table.append(
            (
                r["id"],
                r["distribution"] or "-",
                r["version"] or "-",
                status,
                " ".join(r["flags"] + [f"(command {c})" for c in r["commands"]]) or "-",
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(4)]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths)) + "  " + row[4])
    if explain:
        click.echo("")
        for r in rows:
            click.echo(f"{r['id']}: {r['decided_by']}")
        defaults = _defaults_explained()
        unknown = plugin_set().unknown_defaults()
        if defaults:
            click.echo("")
            for d in defaults:
                lock = f", locked by {d['locked_by']}" if d["locked_by"] else ""
                note = "; no such option, ignored" if d["option"] in unknown else ""
                click.echo(
                    f"default {d['option']} = {d['value']!r} (from {d['source']}{lock}{note})"
                )
    _exit_on_problems()


def _problems() -> List[str]:
    from runcore.cli.plugin_set import plugin_set
    from runcore.plugin import diagnostics

    return diagnostics.problem_lines(plugin_set())


def _exit_on_problems() -> None:
    """What would stop run/create/spec: one ``runcore: ...`` line each, exit status 1."""
    problems = _problems()
    for line in problems:
        click.echo(f"runcore: {line}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
