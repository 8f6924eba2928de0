"""The committed stubs are what plugins/nri/gen-protos.sh makes from plugins/nri/protos/."""

from __future__ import annotations

import filecmp
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1]
GENERATED = [PLUGIN / "runcore_nri" / "_pb", PLUGIN / "tests" / "nri_cri_testing"]

_HAVE_TOOLS = importlib.util.find_spec("grpc_tools") is not None
_IN_CI = os.environ.get("CI", "").lower() == "true"


def _tree(root: Path) -> set:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.skipif(not _HAVE_TOOLS and not _IN_CI, reason="grpcio-tools is not installed")
def test_committed_stubs_match_regeneration(tmp_path: Path) -> None:
    if not _HAVE_TOOLS:
        pytest.fail("grpcio-tools must be installed in CI to check runcore-nri's stubs")
    proc = subprocess.run(
        ["sh", str(PLUGIN / "gen-protos.sh"), str(tmp_path)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    for committed_root in GENERATED:
        fresh_root = tmp_path / committed_root.relative_to(PLUGIN)
        committed, fresh = _tree(committed_root), _tree(fresh_root)
        assert committed == fresh, f"run plugins/nri/gen-protos.sh and commit ({committed_root})"
        stale = [
            n
            for n in sorted(committed)
            if not filecmp.cmp(committed_root / n, fresh_root / n, shallow=False)
        ]
        assert not stale, f"stale generated code; run plugins/nri/gen-protos.sh and commit: {stale}"


def test_wire_names_and_numbers_of_nri_v0_6_1() -> None:
    from runcore_nri._pb.nri.v1alpha1 import api_pb2

    services = api_pb2.DESCRIPTOR.services_by_name
    assert services["Runtime"].full_name == "nri.pkg.api.v1alpha1.Runtime"
    assert sorted(m.name for m in services["Plugin"].methods) == [
        "Configure",
        "CreateContainer",
        "Shutdown",
        "StateChange",
        "StopContainer",
        "Synchronize",
        "UpdateContainer",
    ]
    numbers = {f.name: f.number for f in api_pb2.ContainerAdjustment.DESCRIPTOR.fields}
    assert numbers == {
        "annotations": 2,
        "mounts": 3,
        "env": 4,
        "hooks": 5,
        "linux": 6,
        "rlimits": 7,
    }
    assert {f.name: f.number for f in api_pb2.LinuxContainerAdjustment.DESCRIPTOR.fields} == {
        "devices": 1,
        "resources": 2,
        "cgroups_path": 3,
    }
    assert api_pb2.ConfigureResponse.DESCRIPTOR.fields_by_name["events"].number == 2
    assert "pids" not in api_pb2.LinuxResources.DESCRIPTOR.fields_by_name
    assert api_pb2.Event.Value("CREATE_CONTAINER") == 4
    assert {f.name: f.number for f in api_pb2.Container.DESCRIPTOR.fields}["rlimits"] == 13


def test_cri_subset_names() -> None:
    sys.path.insert(0, str(PLUGIN / "tests"))
    from nri_cri_testing.runtime.v1 import api_pb2 as cri

    assert cri.PodSandboxConfig.DESCRIPTOR.full_name == "runtime.v1.PodSandboxConfig"
    assert cri.ContainerConfig.DESCRIPTOR.fields_by_name["linux"].number == 15
    assert cri.ContainerConfig.DESCRIPTOR.fields_by_name["annotations"].number == 10
