"""Shell completion through click's protocol, driven as the shells drive it."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import List

import pytest

from runcore.testing.cli import cli_env


def complete(
    words: str, cword: int, shell: str = "bash", **env: str
) -> subprocess.CompletedProcess:
    environ = cli_env()
    environ.update(
        _RUNCORE_COMPLETE=f"{shell}_complete", COMP_WORDS=words, COMP_CWORD=str(cword), **env
    )
    return subprocess.run(
        [sys.executable, "-m", "runcore"], env=environ, capture_output=True, text=True, timeout=60
    )


def values(r: subprocess.CompletedProcess) -> List[str]:
    # bash_complete prints "type,value" lines
    return [line.split(",", 1)[1] for line in r.stdout.splitlines() if "," in line]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script(shell: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "runcore", "completion", shell],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "_RUNCORE_COMPLETE" in r.stdout and f"{shell}_" in r.stdout


def test_commands_complete() -> None:
    r = complete("runcore st", 1)
    assert r.returncode == 0, r.stderr
    assert {"start", "stop"} <= set(values(r))


def test_plugin_flags_complete() -> None:
    r = complete("runcore run --se", 2)
    assert "--seccomp" in values(r)  # a first-party plugin's flag
    r = complete("runcore run --cn", 2)
    assert "--cni" in values(r)


def test_quiet_and_quick_without_containerd(tmp_path) -> None:
    address = str(tmp_path / "nothing.sock")
    for words, cword in ((f"runcore -a {address} start ", 4), (f"runcore -a {address} run ", 4)):
        started = time.monotonic()
        r = complete(words, cword)
        assert time.monotonic() - started < 20
        assert (r.returncode, r.stderr, values(r)) == (0, "", [])
