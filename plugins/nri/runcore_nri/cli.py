"""The ``runcore nri`` command group (click only; the work is in :mod:`runcore_nri.serve`)."""

from __future__ import annotations

import click

from runcore_nri.options import DEFAULT_PREFIX

DEFAULT_SOCKET = "/var/run/nri/nri.sock"


@click.group(
    "nri", help="Apply the runcore plugin set to Kubernetes pods through containerd's NRI."
)
def nri_group() -> None:
    """``runcore nri``."""


@nri_group.command("serve")
@click.option(
    "--socket",
    "socket_path",
    default=DEFAULT_SOCKET,
    show_default=True,
    envvar="RUNCORE_NRI_SOCKET",
    help="containerd's NRI socket.",
)
@click.option(
    "--name", default="runcore", show_default=True, help="Plugin name registered with NRI."
)
@click.option(
    "--index",
    default="50",
    show_default=True,
    help="Two-digit plugin index: NRI calls plugins in ascending index order.",
)
@click.option(
    "--annotation-prefix",
    "prefix",
    default=DEFAULT_PREFIX,
    show_default=True,
    help="Pod annotations <prefix>/<flag> (and <prefix>/<flag>.container.<name>) set options.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per decision on standard error, as text or JSON.",
)
@click.pass_context
def serve_command(
    click_ctx: click.Context, socket_path: str, name: str, index: str, prefix: str, log_format: str
) -> None:
    """Serve as an NRI plugin until SIGTERM: adjust every container CRI creates."""
    from runcore.api import ExitStatus, global_options

    from runcore_nri.serve import serve

    code = serve(socket_path, name, index, prefix, log_format, global_options(click_ctx))
    if code:
        raise ExitStatus(code)
