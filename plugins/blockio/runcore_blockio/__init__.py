"""runcore plugin ``blockio``: ``--blockio-config-file`` and ``--blockio-class`` as ctr 1.7.

ctr 1.7 (1.7.0 – 1.7.26) loads the goresctrl v0.3.0 blockio configuration while it
builds the spec options and turns the class into ``linux.resources.blockIO``. Here the
file is loaded and the class resolved in :func:`runcore_configure`, before anything
exists in containerd, and the result is written in the resources phase.

Errors, as ctr prints them after ``ctr: ``::

    blockio-config-file error: failed to read config file "<path>": open <path>: ...
    blockio-config-file error: failed to set configuration from file "<path>": N error(s) occurred: ...
    blockio-class error: no OCI BlockIO parameters for class "<name>"

Warnings about devices go to stderr prefixed ``[ blockio ] WARN: `` (goresctrl's logger).
"""

from __future__ import annotations

from typing import Any, Dict

from runcore.api import OptionRegistrar, RunContext, SpecEditor, StashKey, hookimpl

PLUGIN = "blockio"
#: The OCI ``linux.resources.blockIO`` of ``--blockio-class``, resolved while configuring.
BLOCK_IO = StashKey[Dict[str, Any]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--blockio-config-file",
        default="",
        metavar="FILE",
        help="File path to blockio class definitions. By default class definitions are not loaded.",
    )
    registrar.add(
        "--blockio-class",
        default="",
        metavar="NAME",
        help="Name of the blockio class to associate the container with.",
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    """Load the configuration and resolve the class now: errors stop before any RPC."""
    ctx.stash.pop(BLOCK_IO, None)
    if ctx.uses_config_file:
        return  # ctr ignores every spec flag with --config
    params: Dict[str, Any] = {}
    path = ctx.opt("blockio_config_file", "")
    name = ctx.opt("blockio_class", "")
    if not (path or name):
        return  # the configuration code is imported only when a flag is given
    from runcore.api import UsageError

    from . import classes

    if path:
        try:
            params = classes.set_config_from_file(path)
        except classes.LoadError as exc:
            raise UsageError(f"blockio-config-file error: {str(exc).rstrip()}") from None
    if name:
        try:
            ctx.stash[BLOCK_IO] = classes.oci_block_io(params, name)
        except KeyError as exc:
            raise UsageError(f"blockio-class error: {exc.args[0]}") from None


@hookimpl
def runcore_spec_resources(spec: SpecEditor, ctx: RunContext) -> None:
    block_io = ctx.stash.get(BLOCK_IO, None)
    if block_io is not None:
        spec.set("linux.resources.blockIO", block_io, replace=True)
