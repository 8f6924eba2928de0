"""The plugin through runcore's command line, without a daemon (runcore spec --rootfs)."""

import json

import pytest

from runcore.testing.cli import run_runcore


@pytest.fixture
def cdi(tmp_path):
    d = tmp_path / "cdi"
    d.mkdir()
    (d / "a.yaml").write_text("""
cdiVersion: 0.6.0
kind: vendor.com/class
annotations: {origin: test}
containerEdits: {env: [WIDE=1]}
devices:
  - name: one
    containerEdits:
      deviceNodes: [{path: /dev/one, hostPath: /dev/null}]
      env: [ONE=1]
  - name: two
    containerEdits:
      deviceNodes: [{path: /dev/two, hostPath: /dev/zero, permissions: r}]
""")
    (d / "bad.json").write_text("{")
    return str(d)


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / "rootfs").mkdir()
    return str(tmp_path / "rootfs")


def test_spec_with_cdi_devices(cdi, rootfs):
    r = run_runcore(
        "spec",
        "--rootfs",
        "--nvidia-cdi-spec-dirs",
        cdi,
        "--device",
        "vendor.com/class=all",
        "--device",
        "/dev/full",
        rootfs,
        "id",
    )
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert spec["process"]["env"][-2:] == ["WIDE=1", "ONE=1"]
    assert [d["path"] for d in spec["linux"]["devices"]] == ["/dev/one", "/dev/two", "/dev/full"]
    assert spec["linux"]["resources"]["devices"][-2]["access"] == "r"


def test_environment_variable_and_explain(cdi, rootfs):
    r = run_runcore(
        "spec",
        "--explain",
        "--rootfs",
        "--device",
        "vendor.com/class=one",
        rootfs,
        "id",
        env={"RUNCORE_CDI_SPEC_DIRS": cdi},
    )
    assert r.returncode == 0, r.stderr
    assert any(
        line.startswith("linux.devices") and "nvidia" in line for line in r.stdout.splitlines()
    )


def test_unknown_device_is_one_line(cdi, rootfs):
    r = run_runcore(
        "spec",
        "--rootfs",
        "--nvidia-cdi-spec-dirs",
        cdi,
        "--device",
        "vendor.com/class=three",
        rootfs,
        "id",
    )
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith(
        f"runcore: unresolvable CDI devices vendor.com/class=three (spec directories: {cdi})"
    )
    assert f"{cdi}/bad.json" in r.stderr


def test_not_a_cdi_name_is_the_core_error(rootfs):
    r = run_runcore("spec", "--rootfs", "--device", "/dev/nonexistent", rootfs, "id")
    assert r.returncode == 1
    assert "error stating device path" in r.stderr


def test_gpus_cdi_mode_from_the_configuration(cdi, rootfs, tmp_path):
    (tmp_path / "cdi" / "gpu.json").write_text(
        json.dumps(
            {
                "cdiVersion": "0.5.0",
                "kind": "nvidia.com/gpu",
                "devices": [{"name": "0", "containerEdits": {"env": ["GPU=0"]}}],
            }
        )
    )
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[defaults]\nnvidia_gpu_mode = "cdi"\nnvidia_cdi_spec_dirs = "{cdi}"\n')
    r = run_runcore(
        "spec", "--rootfs", "--gpus", "0", rootfs, "id", env={"RUNCORE_CONFIG": str(cfg)}
    )
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert "GPU=0" in spec["process"]["env"] and "hooks" not in spec
    r = run_runcore(
        "spec", "--rootfs", "--gpus", "1", rootfs, "id", env={"RUNCORE_CONFIG": str(cfg)}
    )
    assert r.returncode == 1 and "--gpus 1: unresolvable CDI devices nvidia.com/gpu=1" in r.stderr


def test_devices_command(cdi):
    r = run_runcore("devices", "--spec-dirs", cdi)
    assert r.returncode == 0
    assert r.stdout.splitlines() == [
        "DEVICE".ljust(20) + "  SPEC FILE",
        f"vendor.com/class=one  {cdi}/a.yaml",
        f"vendor.com/class=two  {cdi}/a.yaml",
    ]
    assert f"CDI spec {cdi}/bad.json: cannot parse" in r.stderr
    r = run_runcore("devices", "--json", env={"RUNCORE_CDI_SPEC_DIRS": cdi})
    doc = json.loads(r.stdout)
    assert [d["name"] for d in doc["devices"]] == ["vendor.com/class=one", "vendor.com/class=two"]
    assert doc["specDirs"] == [cdi] and doc["errors"][0]["spec"] == f"{cdi}/bad.json"


def test_plugin_is_listed():
    r = run_runcore("plugins")
    assert r.returncode == 0
    assert any(line.split()[:1] == ["nvidia"] for line in r.stdout.splitlines()), r.stdout
