"""runcore nri serve against a real containerd 1.7.24 with CRI and NRI, driven through CRI."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.containerd


def stored_spec(daemon, container_id):
    """The OCI spec containerd stored for a CRI container (``ctr containers info``)."""
    info = json.loads(daemon.ctr("containers", "info", container_id, namespace="k8s.io").stdout)
    return info["Spec"]


def test_core_flags_from_pod_annotation_reach_spec_and_cgroup(cri_daemon, serve, pods):
    from cri import cgroup_file

    server = serve()
    pod = pods.run_pod("flags", {"runcore.io/memory-limit": "67108864",
                                 "runcore.io/cpu-shares": "512",
                                 "runcore.io/cpu-shares.container.second": "256"})
    first = pod.create("first")
    second = pod.create("second")
    spec = stored_spec(cri_daemon, first)
    assert spec["linux"]["resources"]["memory"]["limit"] == 67108864
    assert spec["linux"]["resources"]["cpu"]["shares"] == 512
    assert stored_spec(cri_daemon, second)["linux"]["resources"]["cpu"]["shares"] == 256
    pods.cri.start_container(first)
    path = spec["linux"]["cgroupsPath"]
    assert cgroup_file(path, "memory", "memory.limit_in_bytes") == "67108864"
    assert cgroup_file(path, "cpu", "cpu.shares") == "512"
    (decision,) = server.decisions("first")
    assert decision["decision"] == "adjusted"
    assert decision["plugins"] == ["core.resources"]
    assert decision["fields"] == ["memory.limit", "cpu.shares"]
