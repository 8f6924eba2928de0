"""runcore's pytest plugin as an out-of-tree plugin's suite uses it: opt-in, the
containerd fixtures from the installed package, skip/fail rules, configurable binaries."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

INNER = textwrap.dedent("""
    import pytest

    def test_ns(containerd, namespace, image):
        out = containerd.ctr("run", "--rm", image, "t1", "echo", "ok", namespace=namespace)
        assert out.stdout == "ok\\n"
""")


def _pytest(tmp_path, *args, ini="", env=None):
    (tmp_path / "test_inner.py").write_text(INNER)
    (tmp_path / "pytest.ini").write_text("[pytest]\n" + ini)
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RUNCORE_CONTAINERD_", "RUNCORE_REQUIRE")) and k != "CI"
    }
    environ["RUNCORE_CONTAINERD_VERSIONS"] = "1.7"
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=environ,
    )


def test_without_opting_in_there_are_no_fixtures(tmp_path):
    r = _pytest(tmp_path)
    assert r.returncode == 1
    assert "fixture 'containerd' not found" in r.stdout


@pytest.mark.containerd
@pytest.mark.parametrize("how", ["ini", "-p"])
def test_opting_in_gives_daemon_namespace_image_and_leak_check(tmp_path, how):
    if how == "ini":
        r = _pytest(tmp_path, ini="runcore_fixtures = containerd\n")
    else:
        r = _pytest(tmp_path, "-p", "runcore.testing.containerd")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


@pytest.mark.containerd
def test_leak_is_an_error(tmp_path):
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent("""
        def test_leaks(containerd, namespace, image):
            containerd.ctr("containers", "create", image, "leaked", namespace=namespace)
    """)
    )
    r = _pytest(tmp_path, "test_leak.py", ini="runcore_fixtures = containerd\n")
    assert r.returncode == 1
    assert "1 passed, 1 error" in r.stdout
    assert "leaked" in r.stdout


@pytest.mark.parametrize("ci,expected", [("", "skipped"), ("true", "error")])
def test_missing_binaries_skip_with_reason_or_fail_under_ci(tmp_path, ci, expected):
    empty = tmp_path / "bin"
    empty.mkdir()
    r = _pytest(
        tmp_path,
        f"--runcore-containerd-bin={empty}",
        ini="runcore_fixtures = containerd\n",
        env={"CI": ci} if ci else None,
    )
    assert f"1 {expected}" in r.stdout, r.stdout
    assert f"not found in {empty}" in r.stdout
    assert r.returncode == (0 if expected == "skipped" else 1)


@pytest.mark.containerd
def test_binary_dir_from_ini(tmp_path):
    bin_dir = (
        os.environ.get("RUNCORE_CONTAINERD_17_BIN") or "/opt/runcore/containerd-1.7.24/usr/bin"
    )
    if not os.path.exists(os.path.join(bin_dir, "containerd")):
        pytest.skip(f"no containerd in {bin_dir}")
    r = _pytest(
        tmp_path,
        ini=f"runcore_fixtures = containerd\nruncore_containerd_bin = {bin_dir}\n",
        env={"RUNCORE_CONTAINERD_VERSIONS": ""},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


def test_unknown_fixture_set_is_a_usage_error(tmp_path):
    r = _pytest(tmp_path, ini="runcore_fixtures = containerd nosuch\n")
    assert r.returncode == 4
    assert "runcore_fixtures: unknown fixture set 'nosuch'" in r.stderr
