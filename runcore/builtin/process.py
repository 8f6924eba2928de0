"""Built-in plugin ``core.process``: the container's process.

Flags: ``--env``, ``--env-file``, ``--cwd``, ``--user/-u``, ``--tty/-t``. Applies the
image config (env, entrypoint and cmd, working dir, user) first, as ``ctr run`` does.
"""
from __future__ import annotations

from typing import Any, List

from runcore import hookimpl
from runcore.errors import UsageError

PLUGIN = "core.process"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--cwd", default="", help="Specify the working directory of the process.")
    registrar.add("--env", multiple=True, metavar="KEY=VALUE",
                  help="Environment variable to set (repeatable); KEY alone unsets it.")
    registrar.add("--env-file", default="", metavar="FILE",
                  help="Read environment variables from FILE, one per line.")
    registrar.add("--tty", "-t", is_flag=True, help="Allocate a TTY for the container.")
    registrar.add("--user", "-u", default="",
                  help="Username or user id, group optional (format: <name|uid>[:<group|gid>]).")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    env_file = ctx.opt("env_file", "")
    if env_file:
        from runcore.oci.env import parse_env_file

        try:
            ctx.state(PLUGIN)["env_file"] = parse_env_file(env_file)
        except OSError as exc:
            raise UsageError(f"open {env_file}: {(exc.strerror or str(exc)).lower()}") from None
        except ValueError as exc:
            raise UsageError(f"{env_file}: {exc}") from None
    user = ctx.opt("user", "")
    if user and user.count(":") > 1:
        raise UsageError(f"invalid USER value {user}")
    if ctx.opt("tty") and ctx.opt("null_io"):
        raise UsageError("tty and null-io cannot be used together")


def _collected_env(ctx: Any) -> List[str]:
    from runcore.oci.env import replace_or_append

    env = replace_or_append([], ctx.state(PLUGIN).get("env_file", []))
    return replace_or_append(env, list(ctx.opt("env", ())))


@hookimpl
def runcore_spec_process(spec: Any, ctx: Any) -> None:
    from runcore.oci import env as envmod

    env = _collected_env(ctx)
    if ctx.image is not None:
        config = ctx.image.config.get("config") or {}
        defaults = config.get("Env") or [envmod.DEFAULT_PATH_ENV]
        spec.set("process.env", envmod.replace_or_append(list(defaults), env))
        spec.set("process.args", list(config.get("Entrypoint") or []) + list(config.get("Cmd") or []))
        spec.set("process.cwd", config.get("WorkingDir") or "/")
        _apply_user(spec, ctx, config.get("User") or "", image=True)
    elif env:
        spec.set("process.env", env)
    if ctx.args:
        spec.set("process.args", list(ctx.args))
        spec.remove("process.commandLine")
    if ctx.opt("cwd"):
        spec.set("process.cwd", ctx.opt("cwd"))
    if ctx.opt("user"):
        _apply_user(spec, ctx, ctx.opt("user"), image=False)
    if ctx.opt("tty"):
        spec.set("process.terminal", True)
        spec.append("process.env", "TERM=xterm")


def _apply_user(spec: Any, ctx: Any, value: str, image: bool) -> None:
    """``WithUser`` then ``WithAdditionalGIDs`` as ctr applies them."""
    from runcore.oci import user as usermod

    process = {"user": spec.get("process.user") or {"uid": 0, "gid": 0}}
    work = {"process": process, "root": spec.get("root") or {}}
    rootfs = ctx.rootfs
    try:
        if image and not value:
            usermod.with_additional_gids(work, "root", rootfs)
        else:
            usermod.with_user(work, value, rootfs)
            gid_source = str(work["process"]["user"]["uid"]) if image else value
            usermod.with_additional_gids(work, gid_source, rootfs)
    except usermod.UserLookupError as exc:
        raise UsageError(str(exc)) from None
    spec.set("process.user", work["process"]["user"])
