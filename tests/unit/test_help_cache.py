"""The help replay (runcore/cli/help_cache.py): a kept help text is printed exactly as a
full run prints it, without importing click; every input of the key (arguments, width,
environment, configuration, installed distributions, the flag index) is seen on the next
command; only pure help requests from a healthy plugin set are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from runcore.cli import help_cache
from runcore.testing.dists import write_dist

HELLO = """
from runcore.api import hookimpl

@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--hc-greeting", help="A greeting from a new plugin.")
"""


@pytest.fixture
def env(tmp_path) -> Dict[str, str]:
    """A private cache, the replay on for this editable checkout, a fixed width, and a
    site directory (``tmp_path/site``) on the path for plugins installed by a test."""
    site = tmp_path / "site"
    site.mkdir()
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RUNCORE_", "CONTAINERD_")) and k != "COLUMNS"
    }
    environ.update(
        RUNCORE_CACHE_DIR=str(tmp_path / "cache"),
        RUNCORE_HELP_CACHE="1",
        RUNCORE_CONFIG=str(tmp_path / "config.toml"),
        COLUMNS="100",
        PYTHONPATH=os.pathsep.join([str(site), *sys.path]),
    )
    (tmp_path / "config.toml").write_text("")
    return environ


#: Everything a replay may import (besides the interpreter's own start-up).
REPLAY_IMPORTS = {
    "runcore",
    "runcore.__main__",
    "runcore.cli",
    "runcore.cli.launch",
    "runcore.cli.help_cache",
    "runcore.fingerprint",
}


def run_traced(env: Dict[str, str], *args: str) -> Tuple[str, str, bool]:
    """``python -m runcore ARGS`` (status 0): stdout, stderr, and whether it was
    replayed: it imported no more than :data:`REPLAY_IMPORTS` of its own (no click, no
    pluggy, no plugin; ``-X importtime`` lists the imports on stderr)."""
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "runcore", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines()}
    ours = {m for m in imported if m.startswith(("runcore", "click", "pluggy"))}
    return r.stdout, r.stderr, ours <= REPLAY_IMPORTS


def runcore(env: Dict[str, str], *args: str) -> Tuple[str, bool]:
    """Output of ``python -m runcore ARGS``, and whether it was replayed."""
    out, _, replayed = run_traced(env, *args)
    return out, replayed


def fresh(env: Dict[str, str], *args: str) -> str:
    out, replayed = runcore(dict(env, RUNCORE_NO_CACHE="1"), *args)
    assert not replayed
    return out


def bump(path: Path) -> None:
    """Move a file's mtime on by a second (timestamps are coarse)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["run", "--help"],
        ["plugins"],
        ["plugins", "--json"],
        ["images", "import", "-h"],
        ["-n", "elsewhere", "ls", "-h"],
    ],
    ids=" ".join,
)
def test_help_is_replayed_exactly(env, args: List[str]) -> None:
    first, replayed = runcore(env, *args)
    assert not replayed
    second, replayed = runcore(env, *args)
    assert replayed
    assert second == first == fresh(env, *args)


@pytest.mark.parametrize("change", ["width", "environment", "config", "install", "flags"])
def test_a_changed_input_is_seen(env, tmp_path, change: str) -> None:
    runcore(env, "run", "--help")
    assert runcore(env, "run", "--help")[1]
    if change == "width":
        env["COLUMNS"] = "60"
    elif change == "environment":
        env["RUNCORE_DISABLE_PLUGINS"] = "seccomp"
    elif change == "config":
        config = tmp_path / "config.toml"
        config.write_text('[defaults]\nsnapshotter = "native"\n')
        bump(config)
    elif change == "install":
        write_dist(tmp_path / "site", "rc-hc", "1.0", {"hc": "hc_mod"}, modules={"hc_mod": HELLO})
    else:
        flags = tmp_path / "cache" / "flags.json"
        flags.write_text("{}")
        bump(flags)
    out, replayed = runcore(env, "run", "--help")
    assert not replayed
    assert out == fresh(env, "run", "--help")
    if change == "install":
        assert "--hc-greeting" in out
    if change == "config":
        assert "native" in out
    assert runcore(env, "run", "--help") == (out, True)


def test_nothing_is_kept_when_a_plugin_failed(env, tmp_path) -> None:
    write_dist(
        tmp_path / "site", "rc-broken", "1.0", {"hcb": "hcb_mod"}, modules={"hcb_mod": "1/0"}
    )
    first, _ = runcore(env, "--help")
    assert runcore(env, "--help") == (first, False)


def test_nothing_is_kept_when_a_warning_was_printed(env) -> None:
    """A warning of the plugin set (before the command runs) must come on every call."""
    env["RUNCORE_DISABLE_PLUGINS"] = "nosuch"
    for _ in range(2):
        _, err, replayed = run_traced(env, "--help")
        assert "names no installed plugin" in err
        assert not replayed


def test_editable_installs_are_not_replayed_unless_asked(env) -> None:
    del env["RUNCORE_HELP_CACHE"]
    runcore(env, "--help")
    assert not runcore(env, "--help")[1]  # this checkout is an editable install


@pytest.mark.parametrize("switch", ["RUNCORE_NO_CACHE=1", "RUNCORE_HELP_CACHE=0"])
def test_it_can_be_turned_off(env, tmp_path, switch: str) -> None:
    name, value = switch.split("=")
    env[name] = value
    runcore(env, "--help")
    assert not runcore(env, "--help")[1]
    assert not list((tmp_path / "cache").glob("help-*"))


@pytest.mark.parametrize(
    "argv,target",
    [
        (["--help"], "cli"),
        (["-h"], "cli"),
        (["--address", "/x.sock", "-n", "ns", "--debug", "run", "--help"], "run"),
        (["--address=/x.sock", "run", "-h"], "run"),
        (["images", "import", "--help"], "import"),
        (["plugins"], "plugins"),
        (["plugins", "--json", "--builtin"], "plugins"),
        # not help requests: a container's own -h, an option of the command, unknown words
        (["run", "busybox", "c1", "ls", "-h"], None),
        (["exec", "c1", "ls", "--help"], None),
        (["run", "--rm", "--help"], None),
        (["--help", "run"], None),
        (["nosuchcommand", "--help"], None),
        (["plugins", "--nosuchflag"], None),
        (["ls"], None),
        ([], None),
    ],
)
def test_only_pure_help_requests_are_kept(argv: List[str], target) -> None:
    from runcore.cli.main import cli

    command = help_cache._help_request(cli, argv)
    assert (command.name if command is not None else None) == target


def test_capture_keeps_only_a_clean_success(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RUNCORE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RUNCORE_NO_CACHE", raising=False)

    def failing() -> int:
        print("partial")
        return 2

    def noisy() -> None:
        print("text")
        print("a warning", file=sys.stderr)

    def clean() -> None:
        print("the help")

    assert help_cache.capture(["a"], failing, lambda: True) == 2
    help_cache.capture(["b"], noisy, lambda: True)
    help_cache.capture(["c"], clean, lambda: True)
    help_cache.capture(["d"], clean, lambda: False)
    assert capsys.readouterr() == ("partial\ntext\nthe help\nthe help\n", "a warning\n")
    assert help_cache.lookup(["a"]) is None
    assert help_cache.lookup(["b"]) is None
    assert help_cache.lookup(["c"]) == "the help\n"
    assert help_cache.lookup(["d"]) is None


def test_a_foreign_or_corrupt_file_is_ignored(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RUNCORE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RUNCORE_NO_CACHE", raising=False)
    help_cache.store(["x"], "kept\n")
    assert help_cache.lookup(["x"]) == "kept\n"
    (path,) = tmp_path.glob("help-*")
    path.write_bytes(b"\x00garbage")
    assert help_cache.lookup(["x"]) is None
    help_cache.store(["x"], "kept\n")
    if os.geteuid() == 0:
        os.chown(path, 12345, 12345)
        assert help_cache.lookup(["x"]) is None
