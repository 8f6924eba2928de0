"""Broken plugin sets are explained: diagnostics always run, typos warn, unavailable
plugins' flags say why, one reserved-id rule, clash messages say how to fix them."""

from __future__ import annotations

import json

import pytest

from runcore.plugin.diagnostics import command_of, is_diagnostic, is_reserved_id
from runcore.testing.cli import run_runcore
from runcore.testing.dists import write_dist

GOOD = """
from runcore import hookimpl

@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--hello-name", default="", help="Say hello to NAME.")
"""

SYSCTL = """
from runcore import hookimpl

@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--sysctl", multiple=True)
    registrar.add("--sysctl-strict", is_flag=True)
"""


@pytest.fixture
def site(tmp_path):
    return tmp_path / "site"


@pytest.fixture
def rc(site, tmp_path):
    def run(*args, env=None, config=None):
        environ = {"RUNCORE_CACHE_DIR": str(tmp_path / "cache")}
        if config is not None:
            conf = tmp_path / "config.toml"
            conf.write_text(config)
            environ["RUNCORE_CONFIG"] = str(conf)
        return run_runcore(*args, env={**environ, **(env or {})}, pythonpath=str(site))

    return run


def _spec_args(tmp_path, *flags):
    root = tmp_path / "rootfs"
    root.mkdir(exist_ok=True)
    return ["spec", "--rootfs", *flags, str(root), "id", "true"]


# ------------------------------------------------------------------ diagnostics always run
@pytest.mark.parametrize(
    "argv,command,diagnostic",
    [
        (["--version"], None, True),
        (["-n", "ns", "--help"], None, True),
        ([], None, True),
        (["-p", "no:x", "plugins", "--json"], "plugins", True),
        (["--address", "/a", "run", "--help"], "run", False),
        (["spec", "img"], "spec", False),
        (["-n", "plugins", "ls"], "ls", False),  # "plugins" is the namespace here
    ],
)
def test_which_commands_are_diagnostic(argv, command, diagnostic):
    assert command_of(argv) == command
    assert is_diagnostic(argv) is diagnostic


@pytest.mark.parametrize("case", ["required", "clash", "config"])
def test_diagnostic_commands_run_and_say_what_is_wrong(site, rc, tmp_path, case):
    write_dist(site, "runcore-hello", "1.0", {"hello": "rc_hello"}, {"rc_hello": GOOD})
    config = None
    if case == "required":
        config = '[plugins]\nrequired = ["nosuch"]\n'
        expected = "required plugin 'nosuch' (from "
    elif case == "clash":
        write_dist(site, "runcore-hello2", "2.0", {"hello2": "rc_hello2"}, {"rc_hello2": GOOD})
        expected = (
            "flag --hello-name is declared by both plugin 'hello' (runcore-hello 1.0) and "
            "plugin 'hello2' (runcore-hello2 2.0) (disable one of them: "
            "'runcore -p no:hello2 ...' for one command, or disable = [\"hello2\"] "
            "under [plugins] in the configuration file)"
        )
    else:
        config = '[plugins]\nlocked = ["seccomp"]\n'
        expected = "config.toml:2: unknown key 'locked' in [plugins] (locked belongs in [defaults])"
    version = rc("--version", config=config)
    assert version.returncode == 0 and version.stdout.startswith("runcore "), version.stderr
    assert rc("--help", config=config).returncode == 0
    for args in (["plugins"], ["plugins", "--json"], ["plugins", "--explain"]):
        r = rc(*args, config=config)
        assert r.returncode == 1, (args, r.stderr)
        assert expected in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
        if args == ["plugins", "--json"]:
            rows = {row["id"]: row for row in json.loads(r.stdout)}
            assert rows["hello"]["status"] == "active"
    explained = json.loads(rc("plugins", "--explain", "--json", config=config).stdout)
    assert any(expected in p for p in explained["problems"])
    for args in (["run", "--help"], _spec_args(tmp_path), ["create", "img", "id"]):
        r = rc(*args, config=config)
        assert r.returncode == 1, (args, r.stdout)
        assert r.stderr.count("\n") == 1 and expected.split(" (")[0] in r.stderr, (args, r.stderr)


# ------------------------------------------------------------------ typos warn
@pytest.mark.parametrize(
    "args,env,warning",
    [
        (["-p", "no:helo"], {}, "-p no:helo names no installed plugin"),
        (
            [],
            {"RUNCORE_DISABLE_PLUGINS": "hello,helo"},
            "RUNCORE_DISABLE_PLUGINS entry 'helo' names no installed plugin",
        ),
        ([], {"RUNCORE_PLUGINS": "helo"}, "RUNCORE_PLUGINS entry 'helo' names no installed plugin"),
    ],
)
def test_disabling_an_unknown_plugin_warns(site, rc, tmp_path, args, env, warning):
    write_dist(site, "runcore-hello", "1.0", {"hello": "rc_hello"}, {"rc_hello": GOOD})
    r = rc(*args, *_spec_args(tmp_path), env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count(f"runcore: warning: {warning}") == 1, r.stderr
    assert rc("-p", "no:hello", *_spec_args(tmp_path)).stderr == ""  # a real name: no warning


# ------------------------------------------------------------------ failed plugins
def test_failed_plugin_is_mentioned_once_per_command(site, rc, tmp_path):
    write_dist(
        site,
        "runcore-broken",
        "0.3",
        {"broken": "rc_broken"},
        {"rc_broken": "import no_such_module_xyz\n"},
    )
    line = (
        "runcore: warning: plugin 'broken' failed to load: ModuleNotFoundError: No module "
        "named 'no_such_module_xyz' (see 'runcore plugins')\n"
    )
    for args in (_spec_args(tmp_path), ["run", "--help"], ["plugins"]):
        r = rc(*args)
        assert r.returncode == 0, r.stderr
        assert r.stderr == line, (args, r.stderr)
    assert rc("-p", "no:broken", *_spec_args(tmp_path)).stderr == ""


def test_failed_plugin_flags_from_metadata_explain_themselves(site, rc, tmp_path):
    write_dist(
        site,
        "runcore-sysctl",
        "0.1",
        {"sysctl": "rc_sysctl"},
        {"rc_sysctl": "raise ImportError('libfoo.so.1: cannot open shared object file')\n"},
        groups={"runcore.flags": {"--sysctl": "sysctl", "--sysctl-strict": "sysctl"}},
    )
    r = rc(*_spec_args(tmp_path, "--sysctl", "net.ipv4.ip_forward=1"))
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == (
        "runcore: --sysctl is not available: plugin 'sysctl' failed to load: ImportError: "
        "libfoo.so.1: cannot open shared object file (see 'runcore spec --help')"
    )
    r = rc(*_spec_args(tmp_path, "--sysctl-strict"))  # a flag without a value
    assert "--sysctl-strict is not available: plugin 'sysctl' failed to load" in r.stderr
    r = rc("-p", "no:sysctl", *_spec_args(tmp_path, "--sysctl=a=1"))
    assert r.stderr.strip() == (
        "runcore: --sysctl is not available: plugin 'sysctl' is disabled "
        "by -p no:sysctl (see 'runcore spec --help')"
    )
    assert "--sysctl" not in rc("run", "--help").stdout  # refused, not advertised


def test_flags_known_from_the_index_once_the_plugin_loaded(site, rc, tmp_path):
    write_dist(site, "runcore-sysctl", "0.1", {"sysctl": "rc_sysctl"}, {"rc_sysctl": SYSCTL})
    assert rc(*_spec_args(tmp_path)).returncode == 0  # loads: the index learns its flags
    index = json.loads((tmp_path / "cache" / "flags.json").read_text())
    assert index["sysctl"]["flags"] == ["--sysctl", "--sysctl-strict"]
    (site / "rc_sysctl.py").write_text("raise RuntimeError('broken upgrade')\n")
    r = rc(*_spec_args(tmp_path, "--sysctl", "a=1"))
    assert r.returncode == 1
    assert (
        "--sysctl is not available: plugin 'sysctl' failed to load: RuntimeError: broken upgrade"
    ) in r.stderr
    unknown = rc(*_spec_args(tmp_path, "--nosuch"))  # a flag nobody declared: click's message
    assert "No such option '--nosuch'" in unknown.stderr


# ------------------------------------------------------------------ ids and clashes
@pytest.mark.parametrize(
    "plugin_id,reserved",
    [
        ("core", True),
        ("core.x", True),
        ("core.", True),
        ("corefoo", False),
        ("mycore", False),
        ("core_x", False),
    ],
)
def test_reserved_id_rule(plugin_id, reserved):
    assert is_reserved_id(plugin_id) is reserved


def test_reserved_id_rule_applies_to_loading_and_help(site, rc):
    write_dist(site, "runcore-corefoo", "1.0", {"corefoo": "rc_corefoo"}, {"rc_corefoo": GOOD})
    write_dist(site, "runcore-fakecore", "1.0", {"core.fake": "rc_fake"}, {"rc_fake": ""})
    rows = {r["id"]: r for r in json.loads(rc("plugins", "--json").stdout)}
    assert rows["corefoo"]["status"] == "active"
    assert rows["core.fake"]["status"] == "failed"
    assert "reserved" in rows["core.fake"]["reason"]
    help_out = rc("run", "--help").stdout
    assert "Options from plugin 'corefoo'" in help_out  # not filed under the core's options


def test_clash_with_the_core_suggests_disabling_the_plugin(site, rc):
    write_dist(
        site,
        "runcore-grab",
        "1.0",
        {"grab": "rc_grab"},
        {
            "rc_grab": """
from runcore import hookimpl
@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--env", multiple=True)
"""
        },
    )
    r = rc("run", "--help")
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "runcore: flag --env is declared by both built-in plugin 'core.process' and plugin 'grab' "
        "(runcore-grab 1.0) (disable one of them: 'runcore -p no:grab ...' for one command, or "
        'disable = ["grab"] under [plugins] in the configuration file)'
    )
    assert rc("-p", "no:grab", "run", "--help").returncode == 0  # the suggested fix works
