"""Shell completion through click's own mechanism: ``runcore completion bash|zsh|fish``.

The printed script makes the shell call runcore with ``_RUNCORE_COMPLETE`` set (click's
protocol); commands and every plugin's flags come from the command tree, container ids
(for start, exec, attach, kill, stop, wait, ps, pause, resume, logs, inspect, rm) and
image names (for run and create) from containerd. Completion never fails loudly: when
containerd is not there (or is slow beyond :data:`CONNECT_TIMEOUT`), it offers nothing.
"""

from __future__ import annotations

import os
from typing import Any, Callable, List

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_RUNCORE_COMPLETE"
#: Completion waits at most this long for containerd (or the --connect-timeout given).
CONNECT_TIMEOUT = 1.0


def _query(ctx: click.Context, fetch: Callable[[Any], List[str]], incomplete: str) -> List[Any]:
    """``fetch(client)`` filtered by ``incomplete``; [] on any failure (quiet)."""
    from click.shell_completion import CompletionItem

    root = ctx.find_root()
    params = root.params
    address = params.get("address") or os.environ.get("CONTAINERD_ADDRESS") or ""
    namespace = params.get("namespace") or os.environ.get("CONTAINERD_NAMESPACE") or "default"
    timeout = params.get("connect_timeout") or CONNECT_TIMEOUT
    if not address:
        from runcore.cli.common import DEFAULT_ADDRESS

        address = DEFAULT_ADDRESS
    try:
        from runcore.containerd.client import Client

        client = Client.connect(
            address=address,
            namespace=namespace,
            timeout=max(float(timeout), 0.5) * 2,
            connect_timeout=float(timeout),
        )
    except BaseException:  # noqa: BLE001 - completion stays quiet
        return []
    try:
        names = fetch(client)
    except BaseException:  # noqa: BLE001
        return []
    finally:
        try:
            client.close()
        except BaseException:  # noqa: BLE001
            pass
    return [CompletionItem(n) for n in sorted(names) if n.startswith(incomplete)]


def container_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> List[Any]:
    """Completion of container ids from containerd."""
    return _query(ctx, lambda c: [x.id for x in c.containers.List().containers], incomplete)


def image_names(ctx: click.Context, incomplete: str) -> List[Any]:
    """Completion of image names from containerd."""
    return _query(ctx, lambda c: [x.name for x in c.images.List().images], incomplete)


def completion_command() -> click.Command:
    @click.command("completion", context_settings={"help_option_names": ["-h", "--help"]})
    @click.argument("shell", type=click.Choice(SHELLS))
    def completion(shell: str) -> None:
        """Print the completion script for bash, zsh or fish.

        Use it with e.g. source <(runcore completion bash).
        """
        from click.shell_completion import get_completion_class

        from runcore.cli.main import cli

        cls = get_completion_class(shell)
        assert cls is not None
        click.echo(cls(cli, {}, "runcore", COMPLETE_VAR).source())

    return completion


__all__ = ["COMPLETE_VAR", "SHELLS", "completion_command", "container_ids", "image_names"]
