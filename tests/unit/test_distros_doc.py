"""The examples of docs/distros.md work verbatim: every ```toml block is extracted from
the markdown and used as a configuration file with the installed first-party plugins."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runcore import config
from runcore.testing.cli import run_runcore

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "distros.md"


def toml_blocks():
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(), flags=re.S)


def rc(conf, *args, env=None):
    """``python -m runcore ARGS`` with ``conf`` as the admin configuration."""
    environ = {"RUNCORE_CONFIG": str(conf), "RUNCORE_CACHE_DIR": str(conf.parent / "cache")}
    return run_runcore(*args, env={**environ, **(env or {})})


def test_the_doc_has_its_examples():
    assert len(toml_blocks()) >= 2


def test_hardened_example_locks_what_it_says(tmp_path):
    pytest.importorskip("runcore_seccomp")
    pytest.importorskip("runcore_apparmor")
    conf = tmp_path / "config.toml"
    conf.write_text(toml_blocks()[0])
    cfg = config.load({"RUNCORE_CONFIG": str(conf)})
    assert cfg.locked == {"seccomp": str(conf)}
    assert cfg.defaults == {"seccomp": True, "snapshotter": "overlayfs"}
    assert cfg.disable == {"nvidia": str(conf)}
    assert set(cfg.required) == {"seccomp>=0.1", "apparmor"}
    line = next(i for i, l in enumerate(toml_blocks()[0].splitlines(), 1) if l.startswith("locked"))
    assert cfg.locked_lines["seccomp"] == f"{conf}:{line}"

    explained = rc(conf, "plugins", "--explain", "--json", env={"RUNCORE_DISABLE_PLUGINS": ""})
    assert explained.returncode == 0, explained.stderr
    doc = json.loads(explained.stdout)
    assert doc["problems"] == []
    rows = {r["id"]: r for r in doc["plugins"]}
    assert rows["nvidia"]["status"] == "disabled"
    defaults = {d["option"]: d for d in doc["defaults"]}
    assert defaults["seccomp"]["locked_by"] == str(conf)

    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    spec = rc(conf, "spec", "--rootfs", str(rootfs), "id", "true")
    assert spec.returncode == 0, spec.stderr
    assert "seccomp" in json.loads(spec.stdout)["linux"]  # the default applies
    # a locked flag: the command line may repeat its value, not change it
    assert rc(conf, "spec", "--rootfs", "--seccomp", str(rootfs), "id", "true").returncode == 0
    other = tmp_path / "p.json"
    other.write_text('{"defaultAction": "SCMP_ACT_ALLOW"}')


def test_lock_only_dropin_example(tmp_path):
    conf = tmp_path / "config.toml"
    conf.write_text(toml_blocks()[1])
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    refused = rc(conf, "spec", "--rootfs", "--snapshotter", "native", str(rootfs), "id", "true")
    assert refused.returncode == 1
    assert refused.stderr == f"runcore: option 'snapshotter' is locked by {conf}\n"
    assert rc(conf, "spec", "--rootfs", str(rootfs), "id", "true").returncode == 0


def test_lock_without_default_keeps_the_builtin_default(tmp_path):
    conf = tmp_path / "config.toml"
    conf.write_text('locked = ["privileged"]\n')
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    r = rc(conf, "spec", "--rootfs", "--privileged", str(rootfs), "id", "true")
    assert r.returncode == 1
    assert r.stderr == f"runcore: option 'privileged' is locked by {conf}\n"


@pytest.mark.parametrize(
    "text,table_key,line",
    [
        ('[plugins]\nenable = []\nlocked = ["seccomp"]\n', "unknown key 'locked' in [plugins]", 3),
        ('[plugins]\ndisabel = ["nvidia"]\n', "unknown key 'disabel' in [plugins]", 2),
        ('# c\nlockd = ["seccomp"]\n', "unknown key 'lockd'", 2),
        ("[default]\nseccomp = true\n", "unknown key 'default'", 1),
        ('[defaults]\nlocked = "seccomp"\n', "locked must be a list of option names", 2),
        (
            '[defaults]\nsnapshotter = "x"\nlocked = ["seccompp"]\n',
            "locked seccompp is not an option of runcore or of any installed plugin",
            3,
        ),
        (
            '[plugins]\nenable = ["a"]\n\n[plugins.extra]\nx = 1\n',
            "unknown key 'extra' in [plugins]",
            4,
        ),
    ],
)
def test_misplaced_or_unknown_key_is_an_error_with_file_and_line(tmp_path, text, table_key, line):
    conf = tmp_path / "config.toml"
    conf.write_text(text)
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    r = rc(conf, "spec", "--rootfs", str(rootfs), "id", "true")
    assert r.returncode == 1
    assert r.stderr.startswith(f"runcore: {conf}:{line}: "), r.stderr
    assert table_key in r.stderr
    assert r.stderr.count("\n") == 1
