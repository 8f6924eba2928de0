"""``runcore``: the root command, global options, and one-line error reporting."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, NamedTuple, NoReturn, Optional, Sequence

import click

from runcore import __version__
from runcore.cli.common import DEFAULT_ADDRESS, GlobalOptions, parse_duration
from runcore.errors import ExitStatus, PluginFailed, RuncoreError


class CoreCommand(NamedTuple):
    """A sub-command of the core: where its factory is, and its help summary.

    ``runcore --help`` lists the core commands from ``summary`` without importing their
    modules (``tests/unit/test_cli_help.py`` checks it is the command's own first
    paragraph).
    """

    module: str
    attr: str
    summary: str


#: Sub-commands of the core: name -> where and what. Imported only when used.
CORE_COMMANDS: Dict[str, CoreCommand] = {
    "run": CoreCommand(
        "runcore.cli.run",
        "run_command",
        "Run a container: IMAGE|ROOTFS ID [COMMAND [ARG...]].",
    ),
    "create": CoreCommand(
        "runcore.cli.run",
        "create_command",
        "Create a container without starting it: IMAGE|ROOTFS ID [COMMAND [ARG...]].",
    ),
    "spec": CoreCommand(
        "runcore.cli.run",
        "spec_command",
        "Print the OCI spec 'create' would store, creating nothing.",
    ),
    "rm": CoreCommand(
        "runcore.cli.containers",
        "rm_command",
        "Remove containers: task (stopped, or killed with -f), FIFOs, snapshot, record.",
    ),
    "ls": CoreCommand(
        "runcore.cli.containers",
        "ls_command",
        "List the namespace's containers with image, runtime, task pid and status.",
    ),
    "prune": CoreCommand(
        "runcore.cli.containers",
        "prune_command",
        "Remove what killed runs left in the namespace: leases and snapshots of containers that were never created (runcore-made only).",
    ),
    "start": CoreCommand(
        "runcore.cli.tasks",
        "start_command",
        "Start the task of a created container, as 'run' would after creating it.",
    ),
    "exec": CoreCommand(
        "runcore.cli.tasks",
        "exec_command",
        "Run an extra process in a running container (its exit status is runcore's).",
    ),
    "attach": CoreCommand(
        "runcore.cli.tasks",
        "attach_command",
        "Attach to the stdio of a task started with 'run -d' or 'start -d'.",
    ),
    "kill": CoreCommand(
        "runcore.cli.tasks",
        "kill_command",
        "Send a signal to the task of containers.",
    ),
    "stop": CoreCommand(
        "runcore.cli.tasks",
        "stop_command",
        "Stop tasks: the image's stop signal, SIGKILL after --time; the task is deleted, the container stays (start it again with 'runcore start').",
    ),
    "wait": CoreCommand(
        "runcore.cli.tasks",
        "wait_command",
        "Wait for tasks to exit; print each exit status; exit with the last one.",
    ),
    "ps": CoreCommand(
        "runcore.cli.tasks",
        "ps_command",
        "List the processes of a task (as 'ctr tasks ps').",
    ),
    "pause": CoreCommand(
        "runcore.cli.tasks",
        "pause_command",
        "Pause (freeze) the tasks of containers.",
    ),
    "resume": CoreCommand(
        "runcore.cli.tasks",
        "resume_command",
        "Resume paused tasks.",
    ),
    "logs": CoreCommand(
        "runcore.cli.tasks",
        "logs_command",
        "Print the output of a task started with --log-uri file:///PATH.",
    ),
    "inspect": CoreCommand(
        "runcore.cli.tasks",
        "inspect_command",
        "Show a container's record, spec and task state as JSON.",
    ),
    "completion": CoreCommand(
        "runcore.cli.completion",
        "completion_command",
        "Print the completion script for bash, zsh or fish.",
    ),
    "images": CoreCommand(
        "runcore.cli.images",
        "images",
        "Manage images: import archives, list, remove.",
    ),
    "plugins": CoreCommand(
        "runcore.cli.plugins",
        "plugins_command",
        "List plugins: id, distribution, version, status and the flags each adds.",
    ),
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
            core = CORE_COMMANDS.get(name)
            # a core command's summary is listed without importing its module
            cmd = click.Command(name, help=core.summary) if core else self.get_command(ctx, name)
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
            core = CORE_COMMANDS[name]
            import importlib

            factory = getattr(importlib.import_module(core.module), core.attr)
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
    from runcore.cli.plugin_set import init_plugin_set, plugin_set

    debug = "--debug" in args[: args.index("--") if "--" in args else len(args)]
    import signal

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        from runcore.cli import help_cache
        from runcore.plugin import diagnostics

        def run() -> Any:
            diagnostics.start(init_plugin_set(args, core_commands=CORE_COMMANDS))
            return cli.main(args=args, prog_name="runcore", standalone_mode=False)

        def keep() -> bool:
            return help_cache.replayable(cli, args, plugin_set())

        rv = help_cache.capture(args, run, keep) if help_cache.may_keep(args) else run()
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
