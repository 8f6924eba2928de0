"""Built-in plugin ``core.process``: the container's process.

Flags: ``--env``, ``--env-file``, ``--cwd``, ``--user/-u``, ``--tty/-t``. Applies the
image config (env, entrypoint and cmd, working dir, user) first, as ``ctr run`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List

from runcore import hookimpl
from runcore.context import StashKey
from runcore.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.process"
#: The ``--env-file`` variables, read while configuring.
ENV_FILE = StashKey[List[str]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add("--cwd", default="", help="Specify the working directory of the process.")
    registrar.add(
        "--env",
        multiple=True,
        metavar="KEY=VALUE",
        help="Environment variable to set (repeatable); KEY alone unsets it.",
    )
    registrar.add(
        "--env-file",
        default="",
        metavar="FILE",
        help="Read environment variables from FILE, one per line.",
    )
    registrar.add("--tty", "-t", is_flag=True, help="Allocate a TTY for the container.")
    registrar.add(
        "--user",
        "-u",
        default="",
        help="Username or user id, group optional (format: <name|uid>[:<group|gid>]).",
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    env_file = ctx.opt("env_file", "")
    if env_file:
        from runcore.oci.env import parse_env_file

        ctx.stash[ENV_FILE] = parse_env_file(env_file)
    user = ctx.opt("user", "")
    if user and user.count(":") > 1:
        raise UsageError(f"invalid USER value {user}")
    if ctx.tty and ctx.null_io:
        raise UsageError("tty and null-io cannot be used together")
    if ctx.command == "run" and ctx.opt("tty"):
        from runcore.task.tty import require_terminal

        require_terminal(ctx)


@hookimpl
def runcore_spec_process(spec: SpecEditor, ctx: RunContext) -> None:
    from runcore import oci

    env = oci.replace_or_append([], ctx.stash.get(ENV_FILE, []))
    env = oci.replace_or_append(env, list(ctx.opt("env", ())))
    if env:
        spec.set("process.env", env)
    if ctx.image is not None:
        spec.apply(
            oci.apply_image_config, oci.image.image_config_section(ctx.image.config), ctx.rootfs
        )
    if ctx.args:
        spec.apply(oci.with_process_args, list(ctx.args))
    if ctx.opt("cwd"):
        spec.apply(oci.with_process_cwd, ctx.opt("cwd"))
    if ctx.opt("user"):
        spec.apply(oci.with_user, ctx.opt("user"), ctx.rootfs)
        spec.apply(oci.with_additional_gids, ctx.opt("user"), ctx.rootfs)
    if ctx.opt("tty"):
        spec.apply(oci.with_tty)
