"""The plugin core through the real CLI: discovery, failures, collisions, policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runcore.testing.cli import run_runcore
from runcore.testing.dists import write_dist

GOOD = """
from runcore import hookimpl

@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--hello-name", default="", help="Say hello to NAME.")

@hookimpl
def runcore_spec_finish(spec, ctx):
    if ctx.opt("hello_name"):
        spec.set(("annotations", "hello"), ctx.opt("hello_name"))
"""


def runcore(site: Path, *args: str, env=None):
    """``python -m runcore ARGS`` with the distributions written to ``site`` installed."""
    return run_runcore(*args, env=env, pythonpath=str(site))


@pytest.fixture
def site(tmp_path):
    return tmp_path / "site"


def test_entry_point_plugin_adds_flag_to_help_and_listing(site):
    write_dist(site, "runcore-hello", "1.2", {"hello": "rc_hello"}, {"rc_hello": GOOD})
    help_out = runcore(site, "run", "--help")
    assert help_out.returncode == 0, help_out.stderr
    assert "--hello-name" in help_out.stdout
    assert "Options from plugin 'hello'" in help_out.stdout
    listing = runcore(site, "plugins", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = {r["id"]: r for r in json.loads(listing.stdout)}
    assert rows["hello"]["status"] == "active"
    assert rows["hello"]["distribution"] == "runcore-hello"
    assert rows["hello"]["version"] == "1.2"
    assert rows["hello"]["flags"] == ["--hello-name"]


def test_plugin_failing_on_import_is_listed_and_cli_keeps_working(site):
    write_dist(site, "runcore-hello", "1.0", {"hello": "rc_hello"}, {"rc_hello": GOOD})
    write_dist(
        site,
        "runcore-broken",
        "0.3",
        {"broken": "rc_broken"},
        {"rc_broken": "raise RuntimeError('boom\\nsecond line')\n"},
    )
    listing = runcore(site, "plugins")
    assert listing.returncode == 0, listing.stderr
    line = next(l for l in listing.stdout.splitlines() if l.startswith("broken"))
    assert "failed: import error: RuntimeError: boom second line" in line
    assert "runcore-broken" in line and "0.3" in line
    assert "--hello-name" in runcore(site, "run", "--help").stdout


def test_unknown_hook_marks_plugin_failed(site):
    write_dist(
        site,
        "runcore-odd",
        "1.0",
        {"odd": "rc_odd"},
        {"rc_odd": "def runcore_no_such_hook(ctx):\n    pass\n"},
    )
    rows = {r["id"]: r for r in json.loads(runcore(site, "plugins", "--json").stdout)}
    assert rows["odd"]["status"] == "failed"
    assert "runcore_no_such_hook" in rows["odd"]["reason"]


def test_two_plugins_declaring_one_flag_name_both(site):
    write_dist(site, "runcore-hello", "1.0", {"hello": "rc_hello"}, {"rc_hello": GOOD})
    write_dist(site, "runcore-hello2", "2.0", {"hello2": "rc_hello2"}, {"rc_hello2": GOOD})
    result = runcore(site, "run", "--help")
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert "--hello-name" in result.stderr
    assert "plugin 'hello' (runcore-hello 1.0)" in result.stderr
    assert "plugin 'hello2' (runcore-hello2 2.0)" in result.stderr
    assert "Traceback" not in result.stderr


def test_reserved_first_party_flag(site):
    write_dist(
        site,
        "runcore-fake",
        "1.0",
        {"fake": "rc_fake"},
        {
            "rc_fake": """
from runcore import hookimpl
@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--seccomp", is_flag=True)
"""
        },
    )
    result = runcore(site, "run", "--help")
    assert result.returncode != 0
    assert "reserved for the first-party plugin 'seccomp'" in result.stderr


@pytest.mark.parametrize("how", ["cli", "env-block", "env-allow"])
def test_disabling_does_not_import(site, tmp_path, how):
    marker = tmp_path / "imported"
    write_dist(
        site,
        "runcore-hello",
        "1.0",
        {"hello": "rc_hello"},
        {"rc_hello": f"open({str(marker)!r}, 'w').close()\n" + GOOD},
    )
    args, env = ["plugins", "--json"], {}
    if how == "cli":
        args = ["-p", "no:hello", *args]
    elif how == "env-block":
        env["RUNCORE_DISABLE_PLUGINS"] = "other,hello"
    else:
        env["RUNCORE_PLUGINS"] = "other"
    result = runcore(site, *args, env=env)
    assert result.returncode == 0, result.stderr
    row = {r["id"]: r for r in json.loads(result.stdout)}["hello"]
    assert row["status"] == "disabled"
    expected = {
        "cli": "-p no:hello",
        "env-block": "RUNCORE_DISABLE_PLUGINS",
        "env-allow": "RUNCORE_PLUGINS",
    }[how]
    assert expected in row["reason"]
    assert not marker.exists()
    assert "--hello-name" not in runcore(site, *args[:-2], "run", "--help", env=env).stdout


def test_stand_in_refuses_flag_of_missing_security_plugin(site):
    result = runcore(site, "run", "--seccomp", "img", "id", env={"RUNCORE_PLUGINS": ""})
    assert result.returncode == 1
    assert "--seccomp is not available" in result.stderr
    assert "Traceback" not in result.stderr


def test_incompatible_plugin_is_not_imported(site, tmp_path):
    marker = tmp_path / "imported"
    write_dist(
        site,
        "runcore-old",
        "1.0",
        {"old": "rc_old"},
        {"rc_old": f"open({str(marker)!r}, 'w').close()\n"},
        requires=["runcore<0.0.1"],
    )
    rows = {r["id"]: r for r in json.loads(runcore(site, "plugins", "--json").stdout)}
    assert rows["old"]["status"] == "incompatible"
    assert "needs runcore<0.0.1" in rows["old"]["reason"]
    assert not marker.exists()


def test_p_no_after_global_options_that_take_values():
    from runcore.plugin.loader import preparse_blocked

    argv = [
        "--address",
        "/x.sock",
        "-n",
        "ns",
        "-p",
        "no:a",
        "--timeout",
        "5s",
        "--plugin=no:b",
        "run",
        "-p",
        "no:c",
    ]
    assert preparse_blocked(argv) == ["a", "b"]
