"""The plugin's hooks and its command-line behaviour (``runcore spec --rootfs``, no daemon)."""

import json
import os

import pytest

from runcore.context import COMMANDLINE, RunContext
from runcore.errors import UsageError
from runcore.spec_editor import SpecEditor
from runcore.testing.hooks import modules_after_import
from runcore.testing.cli import run_runcore

import runcore_blockio as plugin


def make_ctx(**options):
    sources = {name: COMMANDLINE for name in options}
    opts = {"blockio_config_file": "", "blockio_class": ""}
    opts.update(options)
    return RunContext(command="create", options=opts, sources=sources)


def write(tmp_path, text):
    path = tmp_path / "blockio.yaml"
    path.write_text(text)
    return str(path)


def run_hooks(ctx):
    plugin.runcore_configure(ctx=ctx)
    spec = SpecEditor({"linux": {"resources": {"devices": []}}})
    with spec.attributed_to(plugin.PLUGIN):
        plugin.runcore_spec_resources(spec=spec, ctx=ctx)
    return spec.spec


def test_nothing_without_flags():
    assert run_hooks(make_ctx()) == {"linux": {"resources": {"devices": []}}}


def test_class_is_written_in_resources(tmp_path):
    path = write(tmp_path, "Classes:\n  gold:\n    - Weight: 400\n")
    spec = run_hooks(make_ctx(blockio_config_file=path, blockio_class="gold"))
    assert spec["linux"]["resources"]["blockIO"] == {"weight": 400}


def test_config_without_class_changes_nothing(tmp_path):
    path = write(tmp_path, "Classes:\n  gold:\n    - Weight: 400\n")
    assert "blockIO" not in run_hooks(make_ctx(blockio_config_file=path))["linux"]["resources"]


def test_class_without_config():
    with pytest.raises(UsageError) as exc:
        run_hooks(make_ctx(blockio_class="gold"))
    assert str(exc.value) == 'blockio-class error: no OCI BlockIO parameters for class "gold"'


def test_unknown_class(tmp_path):
    path = write(tmp_path, "Classes:\n  gold:\n    - Weight: 400\n")
    with pytest.raises(UsageError) as exc:
        run_hooks(make_ctx(blockio_config_file=path, blockio_class="Gold"))
    assert str(exc.value) == 'blockio-class error: no OCI BlockIO parameters for class "Gold"'


def test_empty_file_clears_classes(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(UsageError):
        run_hooks(make_ctx(blockio_config_file=path, blockio_class="gold"))


def test_bad_file_message(tmp_path):
    path = write(tmp_path, "Classes:\n  c:\n    - Weight: 5\n")
    with pytest.raises(UsageError) as exc:
        run_hooks(make_ctx(blockio_config_file=path, blockio_class="c"))
    assert str(exc.value) == (
        f'blockio-config-file error: failed to set configuration from file "{path}": '
        '1 error occurred: value of "Weight" (5) smaller than minimum (10)'
    )


def test_config_spec_ignores_the_flags(tmp_path):
    ctx = make_ctx(blockio_config_file=str(tmp_path / "missing"), blockio_class="x")
    ctx.sources["config"] = COMMANDLINE
    assert run_hooks(ctx) == {"linux": {"resources": {"devices": []}}}


def test_module_import_is_cheap():
    assert modules_after_import("runcore_blockio", "yaml") == []


# ------------------------------------------------------------------ through the CLI
@pytest.fixture
def rootfs(tmp_path):
    d = tmp_path / "rootfs"
    d.mkdir()
    return str(d)


def test_cli_spec_has_the_class(tmp_path, rootfs):
    path = write(
        tmp_path, "Classes:\n  c:\n    - Weight: 80\n    - Devices: [/dev/null]\n      Weight: 50\n"
    )
    r = run_runcore(
        "spec", "--rootfs", "--blockio-config-file", path, "--blockio-class", "c", rootfs, "id"
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["linux"]["resources"]["blockIO"] == {"weight": 80}
    assert r.stderr == (
        '[ blockio ] WARN: 1 error occurred:\n\t* file "/dev/null" is a character device\n\n'
        "[ blockio ] WARN: no matches on any of Devices: [/dev/null], parameters ignored\n"
    )


def test_cli_errors(tmp_path, rootfs):
    r = run_runcore("spec", "--rootfs", "--blockio-class", "c", rootfs, "id")
    assert r.returncode == 1
    assert r.stderr == 'runcore: blockio-class error: no OCI BlockIO parameters for class "c"\n'
    r = run_runcore(
        "spec", "--rootfs", "--blockio-config-file", str(tmp_path / "nope"), rootfs, "id"
    )
    assert r.returncode == 1
    assert r.stderr == (
        f'runcore: blockio-config-file error: failed to read config file "{tmp_path}/nope": '
        f"open {tmp_path}/nope: no such file or directory\n"
    )


def test_cli_explain_names_the_plugin(tmp_path, rootfs):
    path = write(tmp_path, "Classes:\n  c:\n    - Weight: 80\n")
    r = run_runcore(
        "spec",
        "--explain",
        "--rootfs",
        "--blockio-config-file",
        path,
        "--blockio-class",
        "c",
        rootfs,
        "id",
    )
    assert r.returncode == 0, r.stderr
    assert any(
        line.startswith("linux.resources.blockIO") and line.rstrip().endswith("blockio")
        for line in r.stdout.splitlines()
    ), r.stdout


# ------------------------------------------------------------------ a real loop device
def test_loop_device(tmp_path, loop_device):
    st = os.stat(loop_device)
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    path = write(
        tmp_path, f"Classes:\n  c:\n    - Devices: [{loop_device}]\n      ThrottleWriteBps: 2Mi\n"
    )
    ctx = make_ctx(blockio_config_file=path, blockio_class="c")
    if minor & 0xF:
        spec = run_hooks(ctx)
        assert spec["linux"]["resources"]["blockIO"] == {}
    else:
        spec = run_hooks(ctx)
        assert spec["linux"]["resources"]["blockIO"] == {
            "throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": 2 << 20}]
        }
