"""--gpus in hook mode: PATH lookups as Go's exec.LookPath, the hook ctr 1.7 writes."""

import os
import subprocess
import sys

import click
import pytest

from runcore.context import COMMANDLINE, RunContext
from runcore.errors import UsageError
from runcore.spec_editor import SpecEditor
from runcore.testing.hooks import modules_after_import

import runcore_nvidia as plugin
from runcore_nvidia import hook
from runcore.api import GoInt
from runcore_nvidia.lookpath import LookPathError, look_path


def exe(path, body="#!/bin/sh\nexit 0\n", mode=0o755):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(mode)
    return path


def test_cli_args_as_ctr():
    assert hook.cli_args(["0", "1"]) == [
        "configure",
        "--device=0,1",
        "--compute",
        "--compat32",
        "--graphics",
        "--utility",
        "--video",
        "--display",
        "--pid={{pid}}",
        "{{rootfs}}",
    ]


def test_cli_args_general_rule():
    assert hook.cli_args(
        [],
        capabilities=("utility",),
        load_kmods=True,
        ldcache="/c",
        ldconfig="@/sbin/ldconfig",
        requirements=("cuda>=11.0",),
        no_cgroups=True,
    ) == [
        "--load-kmods",
        "--ldcache=/c",
        "configure",
        "--utility",
        "--ldconfig=@/sbin/ldconfig",
        "--require=cuda>=11.0",
        "--no-cgroups",
        "--pid={{pid}}",
        "{{rootfs}}",
    ]


def test_prestart_hook_shape():
    h = hook.prestart_hook(
        {"containerd": "/usr/bin/containerd", "cli": "/usr/bin/nvidia-container-cli"},
        [3, -1],
        environ={"B": "2", "A": "1"},
    )
    assert h == {
        "path": "/usr/bin/containerd",
        "args": [
            "containerd",
            "oci-hook",
            "--",
            "/usr/bin/nvidia-container-cli",
            "--load-kmods",
            "configure",
            "--device=3,-1",
            "--compute",
            "--compat32",
            "--graphics",
            "--utility",
            "--video",
            "--display",
            "--pid={{pid}}",
            "{{rootfs}}",
        ],
        "env": ["B=2", "A=1"],
    }


def test_environment_is_the_whole_process_environment_in_order():
    code = "import runcore_nvidia.hook as h, json; print(json.dumps(h.environ_list()))"
    env = {"ZZZ": "1", "PATH": os.environ["PATH"], "AAA": "x=y", "EMPTY": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    import json

    got = json.loads(out.stdout)
    # Python may add nothing; the block order is kept
    assert [e for e in got if e.split("=")[0] in env] == [
        "ZZZ=1",
        f"PATH={os.environ['PATH']}",
        "AAA=x=y",
        "EMPTY=",
    ]


# ------------------------------------------------------------------ LookPath
def test_look_path_first_match_and_cleaning(tmp_path):
    exe(tmp_path / "a" / "tool")
    exe(tmp_path / "b" / "tool")
    env = {"PATH": f"{tmp_path}/missing:{tmp_path}/x/../a/:{tmp_path}/b"}
    assert look_path("tool", env) == f"{tmp_path}/a/tool"


def test_look_path_skips_directories_and_non_executables(tmp_path):
    (tmp_path / "a" / "tool").mkdir(parents=True)
    exe(tmp_path / "b" / "tool", mode=0o644)
    exe(tmp_path / "c" / "tool")
    env = {"PATH": f"{tmp_path}/a:{tmp_path}/b:{tmp_path}/c"}
    if os.geteuid() == 0:
        # root may execute a file only if some x bit is set
        assert look_path("tool", env) == f"{tmp_path}/c/tool"
    else:  # pragma: no cover
        assert look_path("tool", env) == f"{tmp_path}/c/tool"


def test_look_path_keeps_symlinks(tmp_path):
    real = exe(tmp_path / "real" / "tool")
    (tmp_path / "bin").mkdir()
    os.symlink(real, tmp_path / "bin" / "tool")
    assert look_path("tool", {"PATH": f"{tmp_path}/bin"}) == f"{tmp_path}/bin/tool"


@pytest.mark.parametrize("path_value", [None, "", ":"])
def test_look_path_not_found(path_value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {} if path_value is None else {"PATH": path_value}
    with pytest.raises(LookPathError) as exc:
        look_path("nvidia-container-cli", env)
    assert str(exc.value) == 'exec: "nvidia-container-cli": executable file not found in $PATH'


def test_look_path_refuses_the_current_directory(tmp_path, monkeypatch):
    exe(tmp_path / "containerd")
    exe(tmp_path / "rel" / "containerd")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LookPathError) as exc:
        look_path("containerd", {"PATH": "::/nonexistent"})
    assert str(exc.value) == "containerd resolves to executable in current directory (./containerd)"
    with pytest.raises(LookPathError) as exc:
        look_path("containerd", {"PATH": "rel"})
    assert (
        str(exc.value)
        == "containerd resolves to executable in current directory (./rel/containerd)"
    )


# ------------------------------------------------------------------ --gpus parsing
@pytest.mark.parametrize("text,value", [("0", 0), ("+1", 1), ("-1", -1), ("007", 7)])
def test_gpu_ids_as_atoi(text, value):
    assert GoInt("int", base=10, func="Atoi").convert(text, None, None) == value


@pytest.mark.parametrize("text", ["x", "0x1", " 1", "1_0", "1.0", "", "0,1", "9223372036854775808"])
def test_gpu_ids_refused(text):
    with pytest.raises(click.BadParameter):
        GoInt("int", base=10, func="Atoi").convert(text, None, None)


# ------------------------------------------------------------------ hooks of the plugin
def make_ctx(**options):
    sources = {name: COMMANDLINE for name in options}
    opts = {"gpus": (), "nvidia_gpu_mode": "hook", "nvidia_cdi_spec_dirs": "/nonexistent"}
    opts.update(options)
    return RunContext(command="create", options=opts, sources=sources)


def spec_after(ctx):
    plugin.runcore_configure(ctx=ctx)
    spec = SpecEditor({"process": {"user": {"uid": 0, "gid": 0}}})
    with spec.attributed_to(plugin.PLUGIN):
        plugin.runcore_spec_mounts(spec=spec, ctx=ctx)
    return spec.spec


@pytest.fixture
def tools(tmp_path, monkeypatch):
    containerd = exe(tmp_path / "ctd" / "containerd")
    cli = exe(tmp_path / "nv" / "nvidia-container-cli")
    monkeypatch.setenv("PATH", f"{tmp_path}/ctd:{tmp_path}/nv")
    return str(containerd), str(cli)


def test_no_gpus_no_hook():
    assert spec_after(make_ctx()) == {"process": {"user": {"uid": 0, "gid": 0}}}


def test_gpus_hook(tools):
    containerd, cli = tools
    spec = spec_after(make_ctx(gpus=(0, 1)))
    (h,) = spec["hooks"]["prestart"]
    assert h["path"] == containerd
    assert h["args"][:6] == ["containerd", "oci-hook", "--", cli, "--load-kmods", "configure"]
    assert h["args"][6] == "--device=0,1"
    assert h["env"] == [f"{k}={v}" for k, v in os.environ.items()]


@pytest.mark.parametrize("missing,name", [("ctd", "containerd"), ("nv", "nvidia-container-cli")])
def test_missing_binaries_fail_in_configure(tools, tmp_path, missing, name):
    os.remove(tmp_path / missing / name)
    with pytest.raises(UsageError) as exc:
        plugin.runcore_configure(ctx=make_ctx(gpus=(0,)))
    assert exc.value.message == f'exec: "{name}": executable file not found in $PATH'
    assert "nvidia-container-cli" in exc.value.hint


def test_containerd_is_looked_up_first(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as exc:
        plugin.runcore_configure(ctx=make_ctx(gpus=(0,)))
    assert '"containerd"' in exc.value.message


def test_config_file_ignores_gpus(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    ctx = make_ctx(gpus=(0,))
    ctx.sources["config"] = COMMANDLINE
    assert "hooks" not in spec_after(ctx)


def test_module_import_is_cheap():
    assert modules_after_import("runcore_nvidia", "yaml") == []
