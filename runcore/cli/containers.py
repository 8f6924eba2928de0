"""``runcore rm``, ``runcore ls`` and ``runcore prune``: remove and list containers.

grpc is imported only when a command runs (through the client).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import click

from runcore.cli.common import global_options
from runcore.errors import ExitStatus, RuncoreError

if TYPE_CHECKING:  # pragma: no cover
    from runcore.plugin.manager import PluginRegistry


def complete_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> List[Any]:
    """Container ids from containerd (quiet when it is not there)."""
    from runcore.cli.completion import container_ids

    return container_ids(ctx, param, incomplete)


def _registry() -> "Optional[PluginRegistry]":
    try:
        from runcore.cli.plugin_set import plugin_set

        return plugin_set().registry
    except Exception:  # plugins unavailable: removing still works, without hooks
        return None


def rm_command() -> click.Command:
    @click.command("rm", context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--force", "-f", is_flag=True, help="Kill a running task (SIGKILL) before removing it."
    )
    @click.argument("ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
    def rm(force: bool, ids: List[str]) -> None:
        """Remove containers: task (stopped, or killed with -f), FIFOs, snapshot, record."""
        from runcore.context import CommandContext
        from runcore.task.remove import remove_container

        options = global_options(click.get_current_context())
        client = options.client()
        plugins = _registry()
        failed = 0
        for container_id in ids:
            ctx = CommandContext(
                command="rm", container_id=container_id, globals=options, plugins=plugins
            )
            try:
                remove_container(client, container_id, force=force, plugins=plugins, ctx=ctx)
            except RuncoreError as exc:
                failed += 1
                message = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
                click.echo(f"runcore: {message}", err=True)
        if failed:
            raise ExitStatus(1)

    return rm


def _rows(client: Any) -> List[Dict[str, Any]]:
    from runcore.task import status as task_states

    tasks = task_states.task_status(client)
    rows = []
    for container in sorted(client.containers.List().containers, key=lambda c: c.id):
        task = tasks.get(container.id)
        row: Dict[str, Any] = {
            "id": container.id,
            "image": container.image,
            "runtime": container.runtime.name,
            "snapshotter": container.snapshotter,
            "labels": dict(sorted(container.labels.items())),
            "status": None,
            "pid": None,
            "exit_status": None,
        }
        if task is not None:
            row["status"] = task_states.STATUS_NAMES.get(task.status, "unknown")
            row["pid"] = task.pid
            if task.status == task_states.STOPPED:
                row["exit_status"] = task.exit_status
        rows.append(row)
    return rows


def _table(rows: List[Dict[str, Any]]) -> str:
    header = ["CONTAINER", "IMAGE", "RUNTIME", "PID", "STATUS"]
    lines = [header]
    for row in rows:
        status = row["status"] or "-"
        if row["status"] == "stopped" and row["exit_status"] is not None:
            status = f"stopped ({row['exit_status']})"
        pid = str(row["pid"]) if row["pid"] else "-"
        lines.append([row["id"], row["image"] or "-", row["runtime"], pid, status])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for line in lines:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        out.append("    ".join(cells + [line[-1]]).rstrip())
    return "\n".join(out) + "\n"


def ls_command() -> click.Command:
    @click.command("ls", context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--quiet", "-q", is_flag=True, help="Print only the container IDs.")
    @click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
    def ls(quiet: bool, as_json: bool) -> None:
        """List the namespace's containers with image, runtime, task pid and status."""
        client = global_options(click.get_current_context()).client()
        rows = _rows(client)
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        elif quiet:
            for row in rows:
                click.echo(row["id"])
        else:
            click.echo(_table(rows), nl=False)

    return ls


def prune_command() -> click.Command:
    @click.command("prune", context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
    def prune(dry_run: bool) -> None:
        """Remove what killed runs left in the namespace: leases and snapshots of
        containers that were never created (runcore-made only)."""
        from runcore.task import orphans

        client = global_options(click.get_current_context()).client()
        problems = 0
        for item in orphans.find(client):
            for line in item.describe():
                click.echo(("would remove " if dry_run else "removed ") + line)
            if not dry_run:
                for problem in orphans.remove(client, item):
                    problems += 1
                    click.echo(f"runcore: {problem}", err=True)
        if problems:
            raise ExitStatus(1)

    return prune
