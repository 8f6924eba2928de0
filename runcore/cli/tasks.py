"""The task commands: ``start``, ``exec``, ``attach``, ``kill``, ``stop``, ``wait``, ``ps``,
``pause``, ``resume``, ``logs``, ``inspect`` (``ctr tasks …`` as the oracle).

grpc is imported only when a command runs (through the client); the work is done in
:mod:`runcore.task`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

import click
from click.core import ParameterSource

from runcore.errors import ExitStatus, RuncoreError, UsageError

_SETTINGS = {"help_option_names": ["-h", "--help"]}


def complete_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> List[Any]:
    """Container ids from containerd (quiet when it is not there)."""
    from runcore.cli.completion import container_ids

    return container_ids(ctx, param, incomplete)


def _context(command: str, options: Dict[str, Any], container_id: str = "") -> Any:
    """A :class:`RunContext` for a task command: its own options, the active plugins."""
    from runcore import context as ctxmod
    from runcore.cli.common import global_options
    from runcore.cli.plugin_set import plugin_set

    click_ctx = click.get_current_context()
    sources = {}
    for name in options:
        try:
            src = click_ctx.get_parameter_source(name)
        except Exception:  # not a parameter of this command
            src = None
        if src == ParameterSource.COMMANDLINE:
            sources[name] = ctxmod.COMMANDLINE
        elif src == ParameterSource.ENVIRONMENT:
            sources[name] = ctxmod.ENVIRONMENT
    return ctxmod.RunContext(
        command=command,
        options=dict(options),
        sources=sources,
        container_id=container_id,
        globals=global_options(click_ctx),
        plugins=plugin_set().registry,
    )


def _client() -> Any:
    """The containerd client, riding out a daemon restart (:mod:`runcore.task.reconnect`)."""
    from runcore.cli.common import global_options
    from runcore.task.reconnect import resilient

    options = global_options(click.get_current_context())
    return resilient(options.client(), options.connect_timeout)


def _each(ids: Sequence[str], action: Callable[[str], None]) -> None:
    """Run ``action`` for every id; one line per failure, exit 1 if any failed."""
    failed = 0
    for container_id in ids:
        try:
            action(container_id)
        except RuncoreError as exc:
            if len(ids) == 1:
                raise
            failed += 1
            message = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
            click.echo(f"runcore: {message}", err=True)
    if failed:
        raise ExitStatus(1)


def _exit(code: int) -> None:
    if code:
        raise ExitStatus(code)


# --------------------------------------------------------------------------- start / exec


def _io_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option(
                "--detach",
                "-d",
                is_flag=True,
                help="Return once the process has started; it keeps running.",
            ),
            click.option("--null-io", is_flag=True, help="Send all IO to /dev/null."),
            click.option(
                "--log-uri",
                default=None,
                metavar="URI",
                help="Log URI for the output (file:///PATH, binary:///PATH?ARGS).",
            ),
            click.option(
                "--fifo-dir",
                default=None,
                metavar="DIR",
                help="Directory for the stdio FIFOs (default /run/containerd/fifo).",
            ),
        ]
    ):
        func = decorator(func)
    return func


def start_command() -> click.Command:
    @click.command("start", context_settings=_SETTINGS)
    @_io_options
    @click.option(
        "--tty",
        "-t",
        is_flag=True,
        help="Require the terminal the container was created with (-t at create).",
    )
    @click.option(
        "--pid-file", default=None, metavar="FILE", help="File path to write the task's pid."
    )
    @click.option(
        "--rm", is_flag=True, help="Remove the container (and its snapshot) after the task exits."
    )
    @click.argument("container_id", metavar="ID", shell_complete=complete_ids)
    def start(container_id: str, **options: Any) -> None:
        """Start the task of a created container, as 'run' would after creating it."""
        from runcore.task.start import start_container

        _exit(start_container(_context("start", options, container_id)))

    return start


def exec_command() -> click.Command:
    @click.command("exec", context_settings={**_SETTINGS, "allow_interspersed_args": False})
    @click.option("--detach", "-d", is_flag=True, help="Return once the process has started.")
    @click.option("--tty", "-t", is_flag=True, help="Allocate a terminal for the process.")
    @click.option(
        "--exec-id",
        default=None,
        metavar="ID",
        help="Id of the exec process (default: a random one).",
    )
    @click.option(
        "--user",
        "-u",
        default="",
        metavar="USER[:GROUP]",
        help="User (name or uid, optionally :group) from the container's "
        "/etc/passwd and /etc/group.",
    )
    @click.option("--cwd", default="", metavar="DIR", help="Working directory of the process.")
    @click.option(
        "--env",
        "-e",
        "env",
        multiple=True,
        metavar="KEY=VALUE",
        help="Set an environment variable (repeatable).",
    )
    @click.option(
        "--env-file",
        multiple=True,
        metavar="FILE",
        help="Read KEY=VALUE lines from FILE (repeatable).",
    )
    @click.option(
        "--fifo-dir",
        default=None,
        metavar="DIR",
        help="Directory for the stdio FIFOs (default /run/containerd/fifo).",
    )
    @click.option("--log-uri", default=None, metavar="URI", help="Log URI for the output.")
    @click.argument("container_id", metavar="ID", shell_complete=complete_ids)
    @click.argument(
        "command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="CMD [ARG...]"
    )
    def exec_(
        container_id: str,
        command: Sequence[str],
        detach: bool,
        tty: bool,
        exec_id: Optional[str],
        user: str,
        cwd: str,
        env: Sequence[str],
        env_file: Sequence[str],
        fifo_dir: Optional[str],
        log_uri: Optional[str],
    ) -> None:
        """Run an extra process in a running container (its exit status is runcore's)."""
        from runcore.record import TaskInfo
        from runcore.task import tty as ttymod
        from runcore.task.control import get_record, require_running
        from runcore.task.exec_process import exec_process, read_env_file
        from runcore.task.lifecycle import ExecRun

        args = list(command)
        if args and args[0] == "--":
            args = args[1:]
        if not args:
            raise UsageError("exec needs a command")
        if tty and not ttymod.is_terminal(0):
            raise UsageError(ttymod.NOT_A_TTY)
        if log_uri:
            from runcore.task.logurl import parse_log_uri

            parse_log_uri(log_uri)
        extra_env: List[str] = []
        for path in env_file:
            extra_env += read_env_file(path)
        extra_env += list(env)
        import secrets

        exec_id = exec_id if exec_id is not None else f"exec-{secrets.token_hex(6)}"
        if not exec_id:
            raise UsageError("--exec-id must not be empty")
        ctx = _context(
            "exec",
            {
                "detach": detach,
                "tty": tty,
                "fifo_dir": fifo_dir,
                "log_uri": log_uri,
                "null_io": False,
            },
            container_id,
        )
        client = _client()
        record = get_record(client, container_id)
        task = require_running(client, container_id)
        _refuse_used_exec_id(client, container_id, exec_id)
        process = exec_process(client, record, args, tty=tty, cwd=cwd, user=user, env=extra_env)
        info = TaskInfo(container_id=container_id, pid=task.pid, record=record, exec_id=exec_id)
        ctx.plugins.call_each("runcore_exec_process", process=process, task=info, ctx=ctx)
        _exit(ExecRun(ctx, exec_id, process, record).run())

    return exec_


def _refuse_used_exec_id(client: Any, container_id: str, exec_id: str) -> None:
    from runcore.errors import AlreadyExists, NotFound

    try:
        client.tasks.Get(container_id=container_id, exec_id=exec_id)
    except NotFound:
        return
    raise AlreadyExists(f'exec id "{exec_id}" is already in use in container "{container_id}"')


#: docker's detach sequence (``runcore.task.attach.DEFAULT_DETACH_KEYS``; repeated here so
#: that ``--help`` imports no task code).
DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


def attach_command() -> click.Command:
    @click.command("attach", context_settings=_SETTINGS)
    @click.option(
        "--no-sig-proxy", is_flag=True, help="Do not forward SIGINT/SIGTERM: they detach instead."
    )
    @click.option(
        "--detach-keys",
        default=DEFAULT_DETACH_KEYS,
        show_default=True,
        metavar="KEYS",
        help="Key sequence that detaches (with a terminal).",
    )
    @click.argument("container_id", metavar="ID", shell_complete=complete_ids)
    def attach(container_id: str, no_sig_proxy: bool, detach_keys: str) -> None:
        """Attach to the stdio of a task started with 'run -d' or 'start -d'.

        Exits with the task's status. Detach (the task keeps running) with Ctrl-P Ctrl-Q
        on a terminal, or Ctrl-C with --no-sig-proxy.
        """
        from runcore.task.attach import Attach

        _exit(
            Attach(
                _client(), container_id, sig_proxy=not no_sig_proxy, detach_keys=detach_keys
            ).run()
        )

    return attach


# --------------------------------------------------------------------------- signals


def kill_command() -> click.Command:
    @click.command("kill", context_settings=_SETTINGS)
    @click.option(
        "--signal",
        "-s",
        "signal_text",
        default=None,
        metavar="SIGNAL",
        help="Signal name or number (default: the image's stop signal, else SIGTERM).",
    )
    @click.option(
        "--all",
        "-a",
        "all_processes",
        is_flag=True,
        help="Send the signal to every process of the task.",
    )
    @click.option("--exec-id", default="", metavar="ID", help="Signal this exec process.")
    @click.argument("ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
    def kill(
        signal_text: Optional[str], all_processes: bool, exec_id: str, ids: Sequence[str]
    ) -> None:
        """Send a signal to the task of containers."""
        from runcore.task import control
        from runcore.task.signals import parse_signal

        if signal_text is not None:
            try:
                parse_signal(signal_text)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        client = _client()
        _each(ids, lambda cid: control.kill(client, cid, signal_text, all_processes, exec_id))

    return kill


def stop_command() -> click.Command:
    from runcore.options_types import GoInt

    @click.command("stop", context_settings=_SETTINGS)
    @click.option(
        "--time",
        "-t",
        "seconds",
        type=GoInt("uint32"),
        default=10,
        show_default=True,
        metavar="SECONDS",
        help="Seconds to wait after the stop signal before SIGKILL.",
    )
    @click.argument("ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
    def stop(seconds: int, ids: Sequence[str]) -> None:
        """Stop tasks: the image's stop signal, SIGKILL after --time; the task is deleted,
        the container stays (start it again with 'runcore start')."""
        from runcore.task import control

        ctx = _context("stop", {})
        client = _client()

        def one(cid: str) -> None:
            ctx.container_id = cid
            control.stop(client, cid, float(seconds), ctx.plugins, ctx)

        _each(ids, one)

    return stop


def wait_command() -> click.Command:
    @click.command("wait", context_settings=_SETTINGS)
    @click.argument("ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
    def wait(ids: Sequence[str]) -> None:
        """Wait for tasks to exit; print each exit status; exit with the last one."""
        from runcore.task import control

        client = _client()
        last: List[int] = [0]

        def one(cid: str) -> None:
            last[0] = control.wait(client, cid)
            click.echo(str(last[0]))

        _each(ids, one)
        _exit(last[0] if 0 <= last[0] <= 255 else 255)

    return wait


def ps_command() -> click.Command:
    @click.command("ps", context_settings=_SETTINGS)
    @click.argument("container_id", metavar="ID", shell_complete=complete_ids)
    def ps(container_id: str) -> None:
        """List the processes of a task (as 'ctr tasks ps')."""
        from runcore.task import control

        click.echo(control.format_ps(control.pids(_client(), container_id)), nl=False)

    return ps


def _control_each_command(name: str, help_text: str) -> click.Command:
    """``runcore NAME ID...``: ``runcore.task.control.NAME(client, id)`` for every id."""

    @click.command(name, context_settings=_SETTINGS, help=help_text)
    @click.argument("ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete_ids)
    def command(ids: Sequence[str]) -> None:
        from runcore.task import control

        client = _client()
        action = getattr(control, name)
        _each(ids, lambda cid: action(client, cid))

    return command


def pause_command() -> click.Command:
    return _control_each_command("pause", "Pause (freeze) the tasks of containers.")


def resume_command() -> click.Command:
    return _control_each_command("resume", "Resume paused tasks.")


# --------------------------------------------------------------------------- looking


def logs_command() -> click.Command:
    @click.command("logs", context_settings=_SETTINGS)
    @click.option("--follow", "-f", is_flag=True, help="Keep printing until the task exits.")
    @click.argument("container_id", metavar="ID", shell_complete=complete_ids)
    def logs(follow: bool, container_id: str) -> None:
        """Print the output of a task started with --log-uri file:///PATH."""
        from runcore.task.inspect import copy_log

        copy_log(_client(), container_id, follow=follow)

    return logs


def inspect_command() -> click.Command:
    @click.command("inspect", context_settings=_SETTINGS)
    @click.option(
        "--format",
        "-f",
        "fmt",
        default=None,
        metavar="PATH",
        help="Print one field: a path such as .task.pid or {{.spec.process.args}}.",
    )
    @click.argument("container_id", metavar="ID", shell_complete=complete_ids)
    def inspect(fmt: Optional[str], container_id: str) -> None:
        """Show a container's record, spec and task state as JSON."""
        import json

        from runcore.task.inspect import describe, render, select

        data = describe(_client(), container_id)
        if fmt is None:
            click.echo(json.dumps(data, indent=2))
            return
        click.echo(render(select(data, fmt)))

    return inspect


__all__ = [
    "attach_command",
    "exec_command",
    "inspect_command",
    "kill_command",
    "logs_command",
    "pause_command",
    "ps_command",
    "resume_command",
    "start_command",
    "stop_command",
    "wait_command",
]
