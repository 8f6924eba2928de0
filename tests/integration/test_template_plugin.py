"""The template plugin, installed from its folder into a fresh venv, works with runcore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "examples" / "runcore-plugin-template"


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    path = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [
        str(path / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    # --help, plugins and spec --rootfs need no grpc: the light dependencies are enough
    subprocess.run([*pip, "pluggy", "click", "packaging"], check=True, timeout=600)
    subprocess.run([*pip, "--no-deps", str(ROOT)], check=True, timeout=600)
    subprocess.run([*pip, "--no-deps", str(TEMPLATE)], check=True, timeout=600)
    return path


def runcore(venv, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNCORE_", "PYTHON"))}
    env["RUNCORE_CONFIG"] = ""
    return subprocess.run(
        [str(venv / "bin" / "runcore"), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_template_flag_listing_and_spec(venv, tmp_path):
    help_out = runcore(venv, "run", "--help")
    assert help_out.returncode == 0, help_out.stderr
    assert "--hello-greeting" in help_out.stdout
    rows = {r["id"]: r for r in json.loads(runcore(venv, "plugins", "--json").stdout)}
    assert rows["hello"]["status"] == "active"
    assert rows["hello"]["distribution"] == "runcore-hello"
    assert rows["hello"]["flags"] == ["--hello-greeting"]
    spec = runcore(venv, "spec", "--rootfs", "--hello-greeting", "hi", str(tmp_path), "id", "true")
    assert spec.returncode == 0, spec.stderr
    doc = json.loads(spec.stdout)
    assert doc["annotations"]["org.example.hello/greeting"] == "hi"
    assert "HELLO_GREETING=hi" in doc["process"]["env"]
