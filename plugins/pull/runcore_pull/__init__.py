"""runcore-pull: images from OCI registries, stored as ``ctr images pull`` stores them.

* ``runcore pull REF``, ``runcore login``/``logout`` (commands);
* ``run``/``create``/``spec --pull missing|always|never`` (default ``missing``; a distro may
  set ``pull = "never"`` in its config ``[defaults]``), through the core's
  :func:`runcore.hookspecs.runcore_supply_image` hook.

Nothing heavy is imported here: ``urllib3`` and ``tqdm`` load when a pull starts.
"""

from __future__ import annotations

from typing import Any, Optional

from runcore.api import hookimpl

PLUGIN = "pull"
POLICIES = ("missing", "always", "never")


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    import click

    registrar.add(
        "--pull",
        type=click.Choice(POLICIES),
        default="missing",
        show_default=True,
        help="Pull the image from its registry: when it is missing, always, or never.",
    )


@hookimpl
def runcore_add_commands(registrar: Any) -> None:
    from .commands import login_command, logout_command, pull_command

    registrar.add(pull_command)
    registrar.add(login_command)
    registrar.add(logout_command)


@hookimpl
def runcore_configure(ctx: Any) -> None:
    if ctx.opt("pull", "missing") == "always" and ctx.uses_image:
        ctx.refresh_image = True


@hookimpl
def runcore_supply_image(ref: str, ctx: Any) -> Optional[str]:
    """Pull ``ref`` (policy ``missing``: only if absent, also under its normalized name)."""
    from .supply import supply

    return supply(ref, ctx)
