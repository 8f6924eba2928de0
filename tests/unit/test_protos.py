"""The committed stubs under runcore/_pb/ are exactly what scripts/gen-protos.sh makes."""

from __future__ import annotations

import filecmp
import importlib
import importlib.util
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "runcore" / "_pb"

_HAVE_TOOLS = importlib.util.find_spec("grpc_tools") is not None
_IN_CI = os.environ.get("CI", "").lower() == "true"


def _tree(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.skipif(not _HAVE_TOOLS and not _IN_CI, reason="grpcio-tools is not installed")
def test_committed_stubs_match_regeneration(tmp_path: Path) -> None:
    if not _HAVE_TOOLS:
        pytest.fail("grpcio-tools must be installed in CI to check runcore/_pb")
    proc = subprocess.run(
        ["sh", str(REPO / "scripts" / "gen-protos.sh"), str(tmp_path)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    fresh = tmp_path / "runcore" / "_pb"
    committed, regenerated = _tree(GENERATED), _tree(fresh)
    assert committed == regenerated, (
        "file lists differ; run scripts/gen-protos.sh and commit: "
        f"missing={sorted(regenerated - committed)} extra={sorted(committed - regenerated)}"
    )
    differing = [
        name
        for name in sorted(committed)
        if not filecmp.cmp(GENERATED / name, fresh / name, shallow=False)
    ]
    assert not differing, (
        "stale generated code (or a different grpcio-tools than the one that "
        f"generated it); run scripts/gen-protos.sh and commit: {differing}"
    )


def test_generated_modules_import_without_grpc_in_messages() -> None:
    """Every *_pb2 module imports; message modules do not need grpc."""
    import runcore._pb as pb

    for info in pkgutil.walk_packages(pb.__path__, "runcore._pb."):
        if info.name.endswith("_pb2_grpc"):
            continue
        importlib.import_module(info.name)


def test_wire_names_match_containerd() -> None:
    from runcore._pb.containerd.runc.options import oci_pb2
    from runcore._pb.containerd.services.content.v1 import content_pb2
    from runcore._pb.containerd.services.tasks.v1 import tasks_pb2
    from runcore._pb.containerd.types.task import task_pb2
    from runcore._pb.runtimeoptions.v1 import api_pb2

    assert oci_pb2.Options.DESCRIPTOR.full_name == "containerd.runc.v1.Options"
    assert api_pb2.Options.DESCRIPTOR.full_name == "runtimeoptions.v1.Options"
    assert tasks_pb2.DESCRIPTOR.services_by_name["Tasks"].full_name == (
        "containerd.services.tasks.v1.Tasks"
    )
    fields = {f.name: f.number for f in oci_pb2.Options.DESCRIPTOR.fields}
    assert fields == {
        "no_pivot_root": 1,
        "no_new_keyring": 2,
        "shim_cgroup": 3,
        "io_uid": 4,
        "io_gid": 5,
        "binary_name": 6,
        "root": 7,
        "systemd_cgroup": 9,
        "criu_image_path": 10,
        "criu_work_path": 11,
        "task_api_address": 12,
        "task_api_version": 13,
    }
    assert task_pb2.Status.Value("STOPPED") == 3
    assert content_pb2.WriteAction.Value("COMMIT") == 2
    req = tasks_pb2.CreateTaskRequest(container_id="c", stdin="/x", terminal=True)
    assert req.SerializeToString() == b'\n\x01c"\x02/x8\x01'
