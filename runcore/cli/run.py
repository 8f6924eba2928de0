"""``runcore run``, ``runcore create`` and ``runcore spec``, built from plugin options.

Option parsing stops at the first positional argument (the image), so
``runcore run IMG ID sh -c 'echo hi'`` needs no ``--``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import click
from click.core import ParameterSource

from runcore import context as ctxmod
from runcore.cli.common import global_options
from runcore.errors import UsageError, warn
from runcore.plugin.diagnostics import (
    attempt,
    check_config_options,
    is_reserved_id,
    problem_lines,
)

HELP = {
    "run": "Run a container: IMAGE|ROOTFS ID [COMMAND [ARG...]].",
    "create": "Create a container without starting it: IMAGE|ROOTFS ID [COMMAND [ARG...]].",
    "spec": "Print the OCI spec 'create' would store, creating nothing.",
}


class PluginCommand(click.Command):
    """A command whose help groups options by the plugin that owns them."""

    def __init__(self, *args: Any, owners: Optional[Dict[str, str]] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners = owners or {}

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        groups: Dict[str, List[Any]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            owner = self.owners.get(param.name or "", "core")
            title = "Options" if is_reserved_id(owner) else f"Options from plugin {owner!r}"
            groups.setdefault(title, []).append(record)
        for title in sorted(groups, key=lambda t: (t != "Options", t)):
            with formatter.section(title):
                formatter.write_dl(groups[title])


def _make(command: str) -> click.Command:
    from runcore.cli.plugin_set import plugin_set

    pset = plugin_set()
    registrar = attempt(pset, lambda: pset.options(command), None)
    if registrar is None:  # root --help with a broken plugin set: say why instead
        return click.Command(command, help=f"(unavailable: {problem_lines(pset)[-1]})")
    cfg = pset.config
    for warning in attempt(pset, lambda: check_config_options(pset), []):
        warn(warning)
    params: List[click.Parameter] = []
    owners: Dict[str, str] = {}
    # a locked option without a configured default keeps its built-in default
    builtin_defaults = {
        reg.option.name: reg.option.get_default(click.Context(click.Command(command)))
        for reg in registrar.options
        if reg.option.name in cfg.locked
    }
    for reg in registrar.options:
        opt = reg.option
        if opt.name in cfg.defaults:
            opt.default = cfg.defaults[opt.name]
            opt.show_default = True
        params.append(opt)
        owners[opt.name or ""] = reg.plugin_id
    if command == "spec":
        params.append(
            click.Option(["--explain"], is_flag=True, help="Show which plugin set each field.")
        )
    usage_args = "IMAGE|ROOTFS ID [COMMAND [ARG...]]"
    params.append(
        click.Argument(
            ["argv"],
            nargs=-1,
            type=click.UNPROCESSED,
            metavar=usage_args,
            shell_complete=_complete_image,
        )
    )

    def callback(**values: Any) -> None:
        ctx = click.get_current_context()
        argv = list(values.pop("argv"))
        explain = values.pop("explain", False)
        sources: Dict[str, str] = {}
        for name in values:
            src = ctx.get_parameter_source(name)
            if src == ParameterSource.COMMANDLINE:
                sources[name] = ctxmod.COMMANDLINE
            elif src == ParameterSource.ENVIRONMENT:
                sources[name] = ctxmod.ENVIRONMENT
            elif name in cfg.defaults:
                sources[name] = ctxmod.CONFIG
            locked_by = cfg.locked.get(name)
            locked_value = (
                cfg.defaults[name] if name in cfg.defaults else builtin_defaults.get(name)
            )
            if (
                locked_by
                and sources.get(name) in (ctxmod.COMMANDLINE, ctxmod.ENVIRONMENT)
                and values[name] != locked_value
            ):
                raise UsageError(f"option {name.replace('_', '-')!r} is locked by {locked_by}")
        run_ctx = ctxmod.RunContext(
            command=command,
            options=values,
            sources=sources,
            globals=global_options(ctx),
            plugins=pset.registry,
        )
        _positionals(run_ctx, argv)
        from runcore import runner

        if command == "spec":
            runner.print_spec(run_ctx, explain=explain)
        elif command == "create":
            runner.create(run_ctx)
        else:
            runner.run(run_ctx)

    cmd = PluginCommand(
        command,
        params=params,
        callback=callback,
        help=HELP[command],
        owners=owners,
        context_settings={"allow_interspersed_args": False, "help_option_names": ["-h", "--help"]},
    )
    return cmd


def _complete_image(ctx: click.Context, param: click.Parameter, incomplete: str) -> List[Any]:
    """Image names from containerd for the IMAGE position (nothing after it)."""
    if ctx.params.get("argv"):
        return []
    from runcore.cli.completion import image_names

    return image_names(ctx, incomplete)


def _positionals(run_ctx: ctxmod.RunContext, argv: Sequence[str]) -> None:
    """Split ``IMAGE ID [CMD...]`` (or ``ID`` with ``--config``) with ctr's checks."""
    args = list(argv)
    if args and args[0] == "--":
        args = args[1:]
    if run_ctx.is_set("config"):
        if len(args) > 1:
            raise UsageError("with spec config file, only container id should be provided")
        run_ctx.container_id = args[0] if args else ""
        if not run_ctx.container_id:
            raise UsageError("container id must be provided")
        return
    run_ctx.image_ref = args[0] if args else ""
    if not run_ctx.image_ref:
        raise UsageError("image ref must be provided")
    run_ctx.container_id = args[1] if len(args) > 1 else ""
    if not run_ctx.container_id:
        raise UsageError("container id must be provided")
    rest = args[2:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    run_ctx.args = rest


def run_command() -> click.Command:
    return _make("run")


def create_command() -> click.Command:
    return _make("create")


def spec_command() -> click.Command:
    return _make("spec")
