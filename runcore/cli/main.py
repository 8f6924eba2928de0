"""``runcore``: the root command, global options, and one-line error reporting."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, NoReturn, Optional, Sequence, Tuple

import click

from runcore import __version__
from runcore.cli.common import DEFAULT_ADDRESS, GlobalOptions, parse_duration
from runcore.errors import ExitStatus, PluginFailed, RuncoreError

#: Sub-commands of the core: name -> (module, attribute). Imported only when used.
CORE_COMMANDS: Dict[str, Tuple[str, str]] = {
    "run": ("runcore.cli.run", "run_command"),
    "create": ("runcore.cli.run", "create_command"),
    "spec": ("runcore.cli.run", "spec_command"),
    "rm": ("runcore.cli.containers", "rm_command"),
    "ls": ("runcore.cli.containers", "ls_command"),
    "prune": ("runcore.cli.containers", "prune_command"),
    "start": ("runcore.cli.tasks", "start_command"),
    "exec": ("runcore.cli.tasks", "exec_command"),
    "attach": ("runcore.cli.tasks", "attach_command"),
    "kill": ("runcore.cli.tasks", "kill_command"),
    "stop": ("runcore.cli.tasks", "stop_command"),
    "wait": ("runcore.cli.tasks", "wait_command"),
    "ps": ("runcore.cli.tasks", "ps_command"),
    "pause": ("runcore.cli.tasks", "pause_command"),
    "resume": ("runcore.cli.tasks", "resume_command"),
    "logs": ("runcore.cli.tasks", "logs_command"),
    "inspect": ("runcore.cli.tasks", "inspect_command"),
    "completion": ("runcore.cli.completion", "completion_command"),
    "images": ("runcore.cli.images", "images"),
    "plugins": ("runcore.cli.plugins", "plugins_command"),
}


#: ``runcore --help`` sections: title -> core commands, in the order shown.
COMMAND_GROUPS: List[tuple] = [
    (
        "Containers",
        [
            "run",
            "create",
            "start",
            "exec",
            "attach",
            "ps",
            "logs",
            "kill",
            "stop",
            "wait",
            "pause",
            "resume",
            "ls",
            "inspect",
            "rm",
            "prune",
            "spec",
        ],
    ),
    ("Images", ["images"]),
    ("Plugins", ["plugins"]),
    ("Shell", ["completion"]),
]


class RootGroup(click.Group):
    """Loads core commands lazily and plugin commands from the plugin set."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Commands in sections (containers, images, plugins, commands of plugins)."""
        rows: Dict[str, List[tuple]] = {}
        grouped = {name: title for title, names in COMMAND_GROUPS for name in names}
        order = {name: i for _, names in COMMAND_GROUPS for i, name in enumerate(names)}
        names = self.list_commands(ctx)
        width = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            title = grouped.get(name, "Commands of plugins")
            rows.setdefault(title, []).append((name, cmd.get_short_help_str(width)))
        titles = [t for t, _ in COMMAND_GROUPS] + ["Commands of plugins"]
        for title in titles:
            if title in rows:
                with formatter.section(title):
                    formatter.write_dl(sorted(rows[title], key=lambda r: order.get(r[0], 99)))

    def list_commands(self, ctx: click.Context) -> List[str]:
        names = set(CORE_COMMANDS)
        names.update(_plugin_commands(ctx).keys())
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name in CORE_COMMANDS:
            module_name, attr = CORE_COMMANDS[name]
            import importlib

            factory = getattr(importlib.import_module(module_name), attr)
            return factory() if not isinstance(factory, click.Command) else factory
        return _plugin_commands(ctx).get(name)


def _plugin_commands(ctx: click.Context) -> Dict[str, click.Command]:
    from runcore.cli.plugin_set import plugin_set

    return plugin_set().commands()


def _duration(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.group(
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Run containers on containerd, like 'ctr run', from a core plus plugins.",
)
@click.option(
    "--address",
    "-a",
    envvar="CONTAINERD_ADDRESS",
    default=DEFAULT_ADDRESS,
    show_default=True,
    help="Address of containerd's GRPC server.",
)
@click.option(
    "--namespace",
    "-n",
    envvar="CONTAINERD_NAMESPACE",
    default="default",
    show_default=True,
    help="containerd namespace to use.",
)
@click.option(
    "--timeout",
    callback=_duration,
    default=None,
    metavar="DURATION",
    help="Deadline for the whole command (e.g. 10s, 1m30s); 0 = none.",
)
@click.option(
    "--connect-timeout",
    callback=_duration,
    default=None,
    metavar="DURATION",
    help="Deadline for connecting to containerd (default 10s).",
)
@click.option("--debug", is_flag=True, help="Print debug messages and tracebacks.")
@click.option(
    "-p",
    "--plugin",
    "plugin_specs",
    multiple=True,
    metavar="no:NAME",
    help="Disable plugin NAME for this command (repeatable).",
)
@click.version_option(
    __version__, "--version", "-v", prog_name="runcore", message="%(prog)s %(version)s"
)
@click.pass_context
def cli(
    ctx: click.Context,
    address: str,
    namespace: str,
    timeout: float,
    connect_timeout: float,
    debug: bool,
    plugin_specs: Sequence[str],
) -> None:
    for spec in plugin_specs:
        if not spec.startswith("no:"):
            raise click.BadParameter(f"expected no:NAME, got {spec!r}", param_hint="-p")
    ctx.obj = GlobalOptions(
        address=address,
        namespace=namespace,
        timeout=timeout,
        connect_timeout=connect_timeout,
        debug=debug,
    )
    ctx.call_on_close(ctx.obj.close)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived outside a task: unwind so every cleanup block runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame: Any) -> None:
    raise Terminated(signum)


class Interrupted(BaseException):
    """SIGINT outside a task. Not ``KeyboardInterrupt``: click would print a blank line
    before our one-line report; every cleanup block still runs."""


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise Interrupted()


def _report(message: str) -> None:
    click.echo(f"runcore: {message}", err=True)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console-script entry point: run the CLI, turn every user error into one line."""
    args = list(sys.argv[1:] if argv is None else argv)
    from runcore.cli.plugin_set import init_plugin_set

    debug = "--debug" in args[: args.index("--") if "--" in args else len(args)]
    import signal

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        from runcore.plugin import diagnostics

        diagnostics.start(init_plugin_set(args, core_commands=CORE_COMMANDS))
        rv = cli.main(args=args, prog_name="runcore", standalone_mode=False)
    except ExitStatus as status:
        sys.exit(status.code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.Abort, Interrupted):
        _report("aborted")
        sys.exit(130)
    except click.UsageError as exc:
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        _report(f"{exc.format_message()}{hint}")
        sys.exit(1)  # ctr exits 1 for usage errors too
    except click.ClickException as exc:
        _report(exc.format_message())
        sys.exit(exc.exit_code)
    except RuncoreError as exc:
        if debug and isinstance(exc, PluginFailed):
            import traceback

            traceback.print_exception(type(exc.error), exc.error, exc.error.__traceback__)
        message = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
        _report(message)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _report("interrupted")
        sys.exit(130)
    except Terminated as exc:
        import signal

        _report(f"terminated by {signal.Signals(exc.signum).name}")
        sys.exit(128 + exc.signum)
    except BrokenPipeError:
        sys.exit(141)
    except Exception as exc:  # an internal error still prints one line
        if debug or os.environ.get("RUNCORE_DEBUG"):
            raise
        from runcore.plugin.loader import one_line

        _report(f"internal error: {one_line(exc)} (rerun with --debug for a traceback)")
        sys.exit(70)
    if isinstance(rv, int) and rv:
        sys.exit(rv)


def _exit_code(code: object) -> int:
    """The process status ``sys.exit(code)`` would give (a text is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def leave(code: int) -> NoReturn:
    """End the process now, skipping the interpreter's teardown.

    The teardown would close the gRPC channel, which waits 85-200 ms for grpc's
    polling thread although nothing is in flight any more. Everything a normal exit
    does that matters still happens first: non-daemon threads are joined, ``atexit``
    handlers run (logging, ``weakref.finalize``, plugins' own), stdout and stderr are
    flushed (a closed pipe on stdout gives 141, as a broken pipe inside a command does).
    """
    import atexit

    if "threading" in sys.modules:
        import threading

        current = threading.current_thread()
        for thread in threading.enumerate():
            if thread is not current and not thread.daemon:
                thread.join()
    try:
        atexit._run_exitfuncs()
    except BaseException:  # pragma: no cover - a handler's error is printed by atexit
        pass
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 141
    except Exception:
        code = code or 120  # what the interpreter reports when the final flush fails
    try:
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(code)


def entry() -> None:
    """Console-script and ``python -m runcore`` entry: :func:`main`, then :func:`leave`.

    Only the process entry leaves through ``os._exit``; :func:`main` itself raises
    ``SystemExit`` (tests and embedders call it in-process). A traceback escaping
    :func:`main` (``--debug``) takes the normal, slower exit.
    """
    import runcore.containerd

    runcore.containerd.close_channels = False
    try:
        main()
    except SystemExit as exc:
        leave(_exit_code(exc.code))
    leave(0)


if __name__ == "__main__":  # pragma: no cover
    entry()
