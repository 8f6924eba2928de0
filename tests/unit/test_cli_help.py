"""``runcore --help`` groups the commands; ``run --help`` shows the positionals once."""

from __future__ import annotations

import subprocess
import sys


def _help(*args: str) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "runcore", *args, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_root_help_groups_commands() -> None:
    out = _help()
    sections = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert sections[-5:] == ["Containers:", "Images:", "Plugins:", "Shell:", "Commands of plugins:"]
    containers = out.split("Containers:")[1].split("Images:")[0]
    for name in (
        "run",
        "create",
        "start",
        "exec",
        "attach",
        "kill",
        "stop",
        "wait",
        "ps",
        "pause",
        "resume",
        "logs",
        "inspect",
        "ls",
        "rm",
        "prune",
    ):
        assert f"\n  {name} " in containers, name


def test_run_usage_shows_the_positionals_once() -> None:
    for command in ("run", "create"):
        first = _help(command).splitlines()[0]
        assert first == f"Usage: runcore {command} [OPTIONS] IMAGE|ROOTFS ID [COMMAND [ARG...]]"
        assert "ARGV" not in _help(command)


def test_detach_keys_default_is_the_same_in_cli_and_task() -> None:
    from runcore.cli.tasks import DEFAULT_DETACH_KEYS
    from runcore.task.attach import DEFAULT_DETACH_KEYS as TASK_DEFAULT

    assert DEFAULT_DETACH_KEYS == TASK_DEFAULT


def test_core_summaries_are_the_commands_own_help() -> None:
    """``runcore --help`` lists core commands from CORE_COMMANDS' summaries (without
    importing them): each must be what the command itself would show, at every width."""
    import inspect

    import click

    from runcore.cli.main import CORE_COMMANDS, cli

    ctx = click.Context(cli)
    for name, core in CORE_COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.help, name
        first_paragraph = inspect.cleandoc(command.help).split("\n\n")[0].replace("\n", " ")
        assert core.summary == first_paragraph, name
        for width in (20, 45, 74, 200):
            listed = click.Command(name, help=core.summary).get_short_help_str(width)
            assert listed == command.get_short_help_str(width), (name, width)
