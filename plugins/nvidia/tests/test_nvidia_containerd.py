"""With a private containerd: --gpus parity with ctr 1.7.24 (a stand-in
nvidia-container-cli on PATH for both), and real containers with CDI devices."""

from __future__ import annotations

import json
import os

import pytest

from runcore.testing import parity  # noqa: E402

pytestmark = [pytest.mark.containerd, pytest.mark.parametrize("containerd", ["1.7"], indirect=True)]

STANDIN = "#!/bin/sh\n# stand-in for libnvidia-container's CLI: accept anything\nexit 0\n"


@pytest.fixture
def gpu_path(tmp_path, containerd):
    """PATH with a stand-in nvidia-container-cli and the oracle's containerd first."""
    bindir = tmp_path / "nvbin"
    bindir.mkdir()
    cli = bindir / "nvidia-container-cli"
    cli.write_text(STANDIN)
    cli.chmod(0o755)
    oracle_bin = os.path.dirname(containerd.ctr_path)
    return f"{bindir}:{oracle_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"


@pytest.mark.parametrize(
    "flags",
    [
        ["--gpus", "0"],
        ["--gpus", "0", "--gpus", "3", "--gpus", "+7"],
        ["--gpus", "1", "--privileged", "--env", "X=1"],
    ],
)
def test_gpus_hook_parity(flags, containerd, namespace, image, gpu_path):
    env = {"PATH": gpu_path, "RUNCORE_PARITY_MARK": "same for both"}
    ctr, rc = parity.compare(containerd, namespace, flags, image, env=env)
    assert ctr.record is not None, ctr.stderr
    assert rc.ok, rc.stderr
    assert parity.diff(ctr.record, rc.record) == []
    (hook,) = rc.record["Spec"]["hooks"]["prestart"]
    assert hook["path"] == os.path.join(os.path.dirname(containerd.ctr_path), "containerd")
    assert "RUNCORE_PARITY_MARK=same for both" in hook["env"]


def test_gpus_without_nvidia_container_cli(containerd, namespace, image, tmp_path):
    env = {"PATH": f"{os.path.dirname(containerd.ctr_path)}:/usr/bin:/bin"}
    ctr, rc = parity.compare(containerd, namespace, ["--gpus", "0"], image, env=env)
    assert not ctr.ok and not rc.ok
    assert ctr.record is None and rc.record is None
    expected = 'exec: "nvidia-container-cli": executable file not found in $PATH'
    assert ctr.stderr == f"ctr: {expected}"
    assert rc.stderr.startswith(f"runcore: {expected} (")


# ------------------------------------------------------------------ CDI
def _cdi_dir(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello.txt").write_text("from the host\n")
    cdi = tmp_path / "cdi"
    cdi.mkdir()
    (cdi / "vendor.yaml").write_text(f"""
cdiVersion: "0.5.0"
kind: vendor.com/class
containerEdits:
  env: [VENDOR_WIDE=1]
devices:
  - name: null0
    containerEdits:
      env: [CDI_TEST=hello]
      deviceNodes:
        - path: /dev/cdi-null
          hostPath: /dev/null
      mounts:
        - hostPath: {shared}
          containerPath: /cdi-mnt
          options: [rbind, ro]
""")
    (cdi / "nvidia.json").write_text(
        json.dumps(
            {
                "cdiVersion": "0.5.0",
                "kind": "nvidia.com/gpu",
                "devices": [
                    {
                        "name": "0",
                        "containerEdits": {
                            "deviceNodes": [{"path": "/dev/nvidia0", "hostPath": "/dev/zero"}],
                            "env": ["NVIDIA_VISIBLE_DEVICES=void"],
                        },
                    }
                ],
            }
        )
    )
    return str(cdi)


def test_cdi_device_in_a_real_container(containerd, namespace, image, tmp_path):
    env_dirs = _cdi_dir(tmp_path)
    script = (
        "test -c /dev/cdi-null && echo node-ok; echo env=$CDI_TEST/$VENDOR_WIDE; "
        "cat /cdi-mnt/hello.txt; echo x > /dev/cdi-null && echo writable"
    )
    r = containerd.runcore(
        "run",
        "--rm",
        "--nvidia-cdi-spec-dirs",
        env_dirs,
        "--device",
        "vendor.com/class=null0",
        image,
        "cdi-run",
        "sh",
        "-c",
        script,
        namespace=namespace,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["node-ok", "env=hello/1", "from the host", "writable"]


def test_gpus_through_cdi(containerd, namespace, image, tmp_path, monkeypatch):
    script = (
        "test -c /dev/nvidia0 && head -c 3 /dev/nvidia0 | od -An -tx1; echo $NVIDIA_VISIBLE_DEVICES"
    )
    monkeypatch.setenv("RUNCORE_CDI_SPEC_DIRS", str(tmp_path / "empty"))
    r = containerd.runcore(
        "run",
        "--rm",
        "--nvidia-gpu-mode",
        "cdi",
        "--gpus",
        "0",
        image,
        "cdi-gpu",
        "sh",
        "-c",
        script,
        namespace=namespace,
        check=False,
    )
    assert r.returncode == 1
    assert r.stderr.startswith("runcore: --gpus 0: unresolvable CDI devices nvidia.com/gpu=0")
    monkeypatch.setenv("RUNCORE_CDI_SPEC_DIRS", _cdi_dir(tmp_path))
    r = containerd.runcore(
        "run",
        "--rm",
        "--nvidia-gpu-mode",
        "cdi",
        "--gpus",
        "0",
        image,
        "cdi-gpu",
        "sh",
        "-c",
        script,
        namespace=namespace,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["00", "00", "00", "void"]


@pytest.mark.parametrize(
    "device,needle",
    [
        ("vendor.com/class=nope", "unresolvable CDI devices vendor.com/class=nope"),
        ("other.com/x=all", "unresolvable CDI devices other.com/x=all"),
    ],
)
def test_cdi_errors_create_nothing(device, needle, containerd, namespace, image, tmp_path):
    dirs = _cdi_dir(tmp_path)
    r = containerd.runcore(
        "create",
        "--nvidia-cdi-spec-dirs",
        dirs,
        "--device",
        device,
        image,
        "cdi-err",
        namespace=namespace,
        check=False,
    )
    assert r.returncode == 1
    assert needle in r.stderr and r.stderr.count("\n") == 1
    assert containerd.ctr("containers", "ls", "-q", namespace=namespace).stdout.strip() == ""
