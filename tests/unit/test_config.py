"""Distro configuration through the real CLI: required, disabled, defaults, locked, --explain."""

from __future__ import annotations

import json

import pytest

from runcore.testing.cli import run_runcore
from runcore.testing.dists import write_dist

HELLO = """
from runcore import hookimpl

@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--hello-greeting", default="")

@hookimpl
def runcore_spec_finish(spec, ctx):
    if ctx.opt("hello_greeting"):
        spec.set(("annotations", "greeting"), ctx.opt("hello_greeting"))
"""


@pytest.fixture
def env(tmp_path):
    site = tmp_path / "site"
    write_dist(site, "runcore-hello", "1.4", {"hello": "rc_hello"}, {"rc_hello": HELLO})
    write_dist(
        site, "runcore-old", "0.9", {"old": "rc_old"}, {"rc_old": ""}, requires=["runcore>=5"]
    )
    conf = tmp_path / "etc" / "config.toml"
    conf.parent.mkdir()
    # "environ": the variables a test sets (run_runcore isolates from the rest)
    return {"environ": {"RUNCORE_CONFIG": str(conf)}, "site": site, "conf": conf, "root": tmp_path}


def rc(env, *args):
    """``python -m runcore ARGS`` with the test's site and configuration."""
    return run_runcore(*args, env=env["environ"], pythonpath=str(env["site"]))


def spec_of(env, *flags):
    root = env["root"] / "rootfs"
    root.mkdir(exist_ok=True)
    r = rc(env, "spec", "--rootfs", *flags, str(root), "id", "true")
    return r, (json.loads(r.stdout) if r.returncode == 0 else None)


def test_required_plugin_present_and_compatible(env):
    env["conf"].write_text('[plugins]\nrequired = ["hello>=1.0"]\n')
    assert rc(env, "plugins").returncode == 0


@pytest.mark.parametrize(
    "requirement,expected",
    [
        ("nosuch", "required plugin 'nosuch' (from {conf}) is not installed"),
        ("hello>=2", "required plugin 'hello' (from {conf}) must be >=2, installed is 1.4"),
        ("old", "required plugin 'old' (from {conf}) is incompatible: needs runcore>=5"),
    ],
)
def test_required_plugin_unusable_stops_every_command(env, requirement, expected):
    env["conf"].write_text(f'[plugins]\nrequired = ["{requirement}"]\n')
    for args in (["plugins"], ["run", "--help"], ["ls"]):
        r = rc(env, *args)
        assert r.returncode == 1, (args, r.stdout)
        assert r.stderr.count("\n") == 1
        assert expected.format(conf=env["conf"]) in r.stderr


def test_required_plugin_disabled_on_command_line(env):
    env["conf"].write_text('[plugins]\nrequired = ["hello"]\n')
    r = rc(env, "-p", "no:hello", "plugins")
    assert r.returncode == 1
    assert "is disabled: disabled by -p no:hello" in r.stderr


def test_disabled_by_config_and_explain(env):
    env["conf"].write_text('[plugins]\ndisable = ["hello"]\n')
    r = rc(env, "plugins", "--explain")
    assert r.returncode == 0, r.stderr
    assert f"hello: disabled by {env['conf']}" in r.stdout
    assert "old: needs runcore>=5" in r.stdout


def test_dropin_reenables_in_name_order(env):
    env["conf"].write_text('[plugins]\ndisable = ["hello"]\n')
    d = env["conf"].parent / "config.d"
    d.mkdir()
    (d / "10-off.toml").write_text('[plugins]\ndisable = ["hello"]\n')
    (d / "20-on.toml").write_text('[plugins]\nenable = ["hello"]\n')
    rows = {r["id"]: r for r in json.loads(rc(env, "plugins", "--json").stdout)}
    assert rows["hello"]["status"] == "active"
    assert rows["hello"]["reason"] == f"enabled by {d / '20-on.toml'}"


def test_default_applies_and_command_line_overrides(env):
    env["conf"].write_text('[defaults]\nhello-greeting = "from-config"\nhostname = "distro"\n')
    _, spec = spec_of(env)
    assert spec["annotations"]["greeting"] == "from-config"
    assert spec["hostname"] == "distro"
    _, spec = spec_of(env, "--hello-greeting", "cli", "--hostname", "mine")
    assert spec["annotations"]["greeting"] == "cli"
    assert spec["hostname"] == "mine"
    explain = rc(env, "plugins", "--explain").stdout
    assert f"default hello_greeting = 'from-config' (from {env['conf']})" in explain


def test_locked_default_cannot_be_changed(env):
    env["conf"].write_text('locked = ["hostname"]\n[defaults]\nhostname = "distro"\n')
    r, _ = spec_of(env, "--hostname", "mine")
    assert r.returncode == 1
    assert r.stderr.strip() == f"runcore: option 'hostname' is locked by {env['conf']}"
    r, spec = spec_of(env, "--hostname", "distro")
    assert r.returncode == 0 and spec["hostname"] == "distro"
    assert f"locked by {env['conf']}" in rc(env, "plugins", "--explain").stdout


def test_broken_config_is_one_line(env):
    env["conf"].write_text("[plugins\n")
    r = rc(env, "plugins")
    assert r.returncode == 1
    assert r.stderr.startswith(f"runcore: invalid configuration {env['conf']}")
    assert r.stderr.count("\n") == 1


def test_unknown_default_is_an_error_with_file_and_line(env):
    env["conf"].write_text('[defaults]\nhostname = "ok"\nhostnmae = "typo"\n')
    r, spec = spec_of(env)
    assert r.returncode == 1
    assert r.stderr == (
        f"runcore: {env['conf']}:3: [defaults] hostnmae is not an option "
        "of runcore or of any installed plugin\n"
    )
    diag = rc(env, "plugins", "--explain")  # the diagnostic command still runs, and says it
    assert diag.returncode == 1
    assert "no such option, ignored" in diag.stdout
    assert f"{env['conf']}:3: [defaults] hostnmae" in diag.stderr


def test_default_of_a_disabled_plugins_option_is_a_warning(env):
    env["conf"].write_text('[plugins]\ndisable = ["hello"]\n[defaults]\nhello-greeting = "x"\n')
    # the flag index learns hello's flags while it is active ...
    env["environ"]["RUNCORE_CACHE_DIR"] = str(env["root"] / "cache")
    env["conf"].write_text('[defaults]\nhello-greeting = "x"\n')
    assert spec_of(env)[0].returncode == 0
    # ... so once it is disabled its default is a warning, not "no such option"
    env["conf"].write_text('[plugins]\ndisable = ["hello"]\n[defaults]\nhello-greeting = "x"\n')
    r, spec = spec_of(env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == (
        f"runcore: warning: {env['conf']}:4: [defaults] hello-greeting is an option "
        f"of plugin 'hello' is disabled by {env['conf']}; ignored\n"
    )


def test_a_plugins_own_table_is_kept_for_it(env):
    env["conf"].write_text('[hello]\nstyle = "loud"\n')
    r, spec = spec_of(env)
    assert r.returncode == 0, r.stderr
    from runcore import config

    cfg = config.load({"RUNCORE_CONFIG": str(env["conf"])})
    assert cfg.plugin_tables == {"hello": {"style": "loud"}}


def test_a_table_naming_no_installed_plugin_is_an_error(env):
    env["conf"].write_text('[defaults]\n\n[helo]\nstyle = "loud"\n')
    r, spec = spec_of(env)
    assert r.returncode == 1
    assert r.stderr.startswith(f"runcore: {env['conf']}:3: unknown key 'helo'"), r.stderr
    assert r.stderr.count("\n") == 1
