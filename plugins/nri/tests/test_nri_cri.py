"""runcore nri serve against a real containerd 1.7.24 with CRI and NRI, driven through CRI."""

from __future__ import annotations

import json
import os

import pytest
from support.fixtures import _selected_versions

pytestmark = pytest.mark.containerd


def stored_spec(daemon, container_id):
    """The OCI spec containerd stored for a CRI container (``ctr containers info``)."""
    info = json.loads(daemon.ctr("containers", "info", container_id, namespace="k8s.io").stdout)
    return info["Spec"]


def test_core_flags_from_pod_annotation_reach_spec_and_cgroup(cri_daemon, serve, pods):
    from cri import cgroup_file

    server = serve()
    pod = pods.run_pod(
        "flags",
        {
            "runcore.io/memory-limit": "67108864",
            "runcore.io/cpu-shares": "512",
            "runcore.io/cpu-shares.container.second": "256",
        },
    )
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


def _only_sandbox_left(daemon, pod_id):
    """After a refused creation only the pod's sandbox container exists in k8s.io."""
    assert daemon.lines("containers", "ls", "-q", namespace="k8s.io") == [pod_id]


def test_distro_default_applies_to_unannotated_pod_and_lock_refuses(
    cri_daemon, serve, pods, tmp_path
):
    from cri import CRIError

    server = serve('locked = ["memory-limit"]\n\n[defaults]\nmemory-limit = 33554432\n')
    pod = pods.run_pod("plain")
    plain = pod.create("plain")
    assert stored_spec(cri_daemon, plain)["linux"]["resources"]["memory"]["limit"] == 33554432
    (decision,) = server.decisions("plain")
    assert decision["fields"] == ["memory.limit"] and decision["options"] == []

    same = pods.run_pod("same", {"runcore.io/memory-limit": "33554432"})
    assert (
        stored_spec(cri_daemon, same.create("same"))["linux"]["resources"]["memory"]["limit"]
        == 33554432
    )

    locked = pods.run_pod("locked", {"runcore.io/memory-limit": "67108864"})
    with pytest.raises(CRIError) as err:
        locked.create("locked")
    config = tmp_path / "runcore-0.toml"
    assert (
        f"runcore: option 'memory-limit' is locked by {config} (from annotation runcore.io/memory-limit)"
        in err.value.details
    )
    assert pods.cri.containers(locked.id) == []
    (refused,) = server.decisions("locked")
    assert refused["decision"] == "refused" and "is locked by" in refused["error"]


def test_seccomp_by_annotation_is_refused_unless_best_effort(cri_daemon, serve, pods):
    from cri import CRIError

    server = serve()
    pod = pods.run_pod("seccomp", {"runcore.io/seccomp": "true"})
    with pytest.raises(CRIError) as err:
        pod.create("confined")
    assert (
        "runcore: plugin 'seccomp' set linux.seccomp, which cannot be expressed through NRI "
        "v0.6.1 (containerd 1.7)"
    ) in err.value.details
    _only_sandbox_left(cri_daemon, pod.id)
    assert server.decisions("confined")[0]["decision"] == "refused"
    assert server.stop() == 0

    server = serve('[nri]\nbest_effort = ["seccomp"]\n')
    created = pod.create("best-effort")
    assert "seccomp" not in stored_spec(cri_daemon, created)["linux"]
    (decision,) = server.decisions("best-effort")
    assert decision["decision"] == "unchanged"
    assert decision["dropped"] == ["linux.seccomp (seccomp)"]


def test_bad_annotation_value_gives_the_cli_error_and_leaves_nothing(
    cri_daemon, serve, pods, tmp_path
):
    import subprocess
    import sys

    from cri import CRIError

    server = serve()
    pod = pods.run_pod("bad", {"runcore.io/memory-limit": "lots"})
    with pytest.raises(CRIError) as err:
        pod.create("bad")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "runcore",
            "spec",
            "--memory-limit",
            "lots",
            "--rootfs",
            str(tmp_path),
            "x",
        ],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1
    cli_message = cli.stderr.strip().split(" (see ")[0]  # the CLI adds its --help hint
    assert cli_message == (
        "runcore: Invalid value for '--memory-limit': strconv.ParseUint: "
        'parsing "lots": invalid syntax'
    )
    assert f"{cli_message} (from annotation runcore.io/memory-limit)" in err.value.details
    assert "\n" not in err.value.details
    assert pods.cri.containers(pod.id) == []
    _only_sandbox_left(cri_daemon, pod.id)
    unknown = pods.run_pod("unknown", {"runcore.io/memory-limt": "1"})
    with pytest.raises(CRIError) as err:
        unknown.create("unknown")
    assert (
        "runcore: No such option: --memory-limt (from annotation runcore.io/memory-limt)"
        in err.value.details
    )
    assert [d["decision"] for d in server.decisions()] == ["refused", "refused"]


CDI_SPEC = """\
cdiVersion: "0.5.0"
kind: example.com/dev
devices:
  - name: one
    containerEdits:
      env: [CDI_ONE=hello]
      deviceNodes:
        - path: /dev/example-null
          hostPath: /dev/null
      mounts:
        - hostPath: {shared}
          containerPath: /cdi-mnt
          options: [rbind, ro]
      hooks:
        - hookName: createRuntime
          path: /bin/sh
          args: [sh, -c, "cat > {marker}"]
"""


def test_cdi_device_from_annotation_becomes_plain_adjustments(cri_daemon, serve, pods, tmp_path):
    cdi = tmp_path / "cdi"
    cdi.mkdir()
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello.txt").write_text("from the host\n")
    marker = tmp_path / "cdi-hook-ran"
    (cdi / "example.yaml").write_text(CDI_SPEC.format(shared=shared, marker=marker))
    server = serve(f'[defaults]\nnvidia-cdi-spec-dirs = "{cdi}"\n')
    pod = pods.run_pod("cdi", {"runcore.io/device": "example.com/dev=one"})
    container = pod.create("gpu")
    spec = stored_spec(cri_daemon, container)
    assert {"path": "/dev/example-null", "type": "c", "major": 1, "minor": 3}.items() <= next(
        d for d in spec["linux"]["devices"] if d["path"] == "/dev/example-null"
    ).items()
    assert any(
        m["destination"] == "/cdi-mnt" and m["source"] == str(shared) for m in spec["mounts"]
    )
    assert "CDI_ONE=hello" in spec["process"]["env"]
    assert spec["hooks"]["createRuntime"][-1]["path"] == "/bin/sh"
    pods.cri.start_container(container)
    assert marker.exists() and json.loads(marker.read_text())["id"] == container
    out = pods.cri.exec_sync(
        container,
        [
            "sh",
            "-c",
            "test -c /dev/example-null && echo node-ok; echo $CDI_ONE; cat /cdi-mnt/hello.txt",
        ],
    )
    assert out.exit_code == 0, out.stderr
    assert out.stdout.decode().splitlines() == ["node-ok", "hello", "from the host"]
    (decision,) = server.decisions("gpu")
    assert decision["plugins"] == ["nvidia"]
    assert set(decision["fields"]) == {
        "env[CDI_ONE]",
        "mounts[/cdi-mnt]",
        "hooks.createRuntime+1",
        "devices[/dev/example-null]",
    }


def test_third_party_plugin_rlimits_and_oci_hook(cri_daemon, serve, pods, tmp_path):
    marker = tmp_path / "hook-state.json"
    server = serve()
    pod = pods.run_pod(
        "thirdparty",
        {"runcore.io/nritest-nofile": "512", "runcore.io/nritest-hook-file": str(marker)},
    )
    container = pod.create("limited")
    spec = stored_spec(cri_daemon, container)
    assert {"type": "RLIMIT_NOFILE", "hard": 512, "soft": 512} in spec["process"]["rlimits"]
    pods.cri.start_container(container)
    assert json.loads(marker.read_text())["id"] == container
    out = pods.cri.exec_sync(container, ["sh", "-c", "ulimit -n; ulimit -Hn"])
    assert out.stdout.decode().split() == ["512", "512"]
    (decision,) = server.decisions("limited")
    assert decision["plugins"] == ["nritest"]
    assert decision["fields"] == ["hooks.createRuntime+1", "rlimits[RLIMIT_NOFILE]"]


def test_hanging_or_crashing_plugin_fails_only_its_container(cri_daemon, serve, pods):
    from cri import CRIError

    server = serve()
    slow = pods.run_pod("slow", {"runcore.io/nritest-sleep": "5"})
    with pytest.raises(CRIError) as err:
        slow.create("slow")
    import re

    # 75% of the deadline containerd sent (2 s minus the time the request took to arrive)
    assert re.search(
        r"runcore: the plugins did not finish within 1\.[0-5]\ds \(NRI request "
        r"timeout [12]\.\d\ds\); creation refused",
        err.value.details,
    ), err.value.details
    crash = pods.run_pod("crash", {"runcore.io/nritest-crash": "true"})
    with pytest.raises(CRIError) as err:
        crash.create("crash")
    assert (
        "runcore: plugin 'nritest' failed in runcore_spec_resources: RuntimeError: nritest crashed on purpose"
        in err.value.details
    )
    fine = pods.run_pod("fine", {"runcore.io/memory-limit": "67108864"})
    container = fine.create("fine")  # the slow plugin is still sleeping in its thread
    assert stored_spec(cri_daemon, container)["linux"]["resources"]["memory"]["limit"] == 67108864
    assert [d["decision"] for d in server.decisions()] == ["refused", "refused", "adjusted"]
    assert "connection lost" not in "\n".join(server.lines)


def test_two_pods_created_concurrently(cri_daemon, serve, pods):
    from concurrent.futures import ThreadPoolExecutor

    server = serve()

    def make(limit):
        pod = pods.run_pod(f"conc-{limit}", {"runcore.io/memory-limit": str(limit)})
        return limit, pod.create(f"conc-{limit}")

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(make, [33554432, 67108864]))
    for limit, container in results:
        assert stored_spec(cri_daemon, container)["linux"]["resources"]["memory"]["limit"] == limit
    assert sorted(d["container"] for d in server.decisions()) == ["conc-33554432", "conc-67108864"]


def test_containerd_restart_then_next_pod_still_adjusted(cri_daemon, serve, pods):
    from cri import restart_daemon

    server = serve()
    before = len(server.lines)
    restart_daemon(cri_daemon, pods.cri)
    server.wait_for(lambda line: '"connection lost; reconnecting"' in line, start=before)
    server.wait_for(lambda line: '"synchronized"' in line, start=before)
    import time

    time.sleep(0.3)
    pod = pods.run_pod("after-restart", {"runcore.io/cpu-shares": "300"})
    container = pod.create("after")
    assert stored_spec(cri_daemon, container)["linux"]["resources"]["cpu"]["shares"] == 300


def test_sigterm_unregisters_and_exits_zero_text_log(cri_daemon, serve, pods):
    server = serve(log_format="text")
    pod = pods.run_pod("text", {"runcore.io/memory-limit": "67108864"})
    pod.create("text")
    line = server.wait_for(lambda l: "info: container" in l)
    assert (
        "container=text" in line and "decision=adjusted" in line and "fields=memory.limit" in line
    )
    assert server.stop() == 0
    assert "info: unregistered; exiting" in server.lines[-1]
    other = pods.run_pod("unadjusted", {"runcore.io/memory-limit": "67108864"})
    container = other.create("unadjusted")  # containerd forgot the plugin: no adjustment
    assert "limit" not in stored_spec(cri_daemon, container)["linux"]["resources"].get("memory", {})


def test_blockio_class_is_passed_by_name(cri_daemon, serve, pods, tmp_path):
    """The blockio plugin's class travels as NRI's class *name*; containerd resolves it
    with its own class file: refused while containerd has none, applied once it loads
    the same file."""
    from cri import CRIError, restart_daemon

    classes = tmp_path / "blockio.yaml"
    classes.write_text("Classes:\n  gold:\n    - Weight: 400\n")
    server = serve(f'[defaults]\nblockio-config-file = "{classes}"\n')
    pod = pods.run_pod("blockio", {"runcore.io/blockio-class": "gold"})
    with pytest.raises(CRIError) as err:
        pod.create("without")
    assert (
        'failed to adjust BlockIO class in OCI Spec: no OCI BlockIO parameters for class "gold"'
        in err.value.details
    )
    assert server.decisions("without")[0]["fields"] == ["blockio_class"]
    config = open(cri_daemon.config_path).read()
    try:
        with open(cri_daemon.config_path, "a") as fh:
            fh.write(
                f'  [plugins."io.containerd.service.v1.tasks-service"]\n'
                f'    blockio_config_file = "{classes}"\n'
            )
        before = len(server.lines)
        restart_daemon(cri_daemon, pods.cri)
        server.wait_for(lambda line: '"synchronized"' in line, start=before)
        import time

        time.sleep(0.3)
        container = pod.create("with")
        assert stored_spec(cri_daemon, container)["linux"]["resources"]["blockIO"] == {
            "weight": 400
        }
    finally:
        open(cri_daemon.config_path, "w").write(config)
        restart_daemon(cri_daemon, pods.cri)


@pytest.mark.skipif("1.6" not in _selected_versions(), reason="containerd 1.6 not selected")
@pytest.mark.parametrize("containerd", ["1.6"], indirect=True)
def test_serve_against_containerd_16_says_it_has_no_nri(containerd, tmp_path):
    """The shared 1.6 test daemon: no NRI socket, and serve says why instead of waiting."""
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text("")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "runcore",
            "--address",
            containerd.address,
            "nri",
            "serve",
            "--socket",
            str(tmp_path / "nri.sock"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RUNCORE_CONFIG": str(config)},
    )
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"runcore: containerd {containerd.full_version} at {containerd.address} "
        "has no NRI plugin socket"
    )
    assert "needs containerd 1.7 or later with NRI enabled" in last


def test_sigterm_answers_the_request_in_flight_first(cri_daemon, serve, pods, tmp_path):
    import threading
    import time

    server = serve()
    started = tmp_path / "started"
    pod = pods.run_pod(
        "inflight",
        {
            "runcore.io/nritest-sleep": "0.8",
            "runcore.io/nritest-started-file": str(started),
            "runcore.io/memory-limit": "67108864",
        },
    )
    result = {}
    creator = threading.Thread(target=lambda: result.setdefault("id", pod.create("inflight")))
    creator.start()
    deadline = time.monotonic() + 30
    while not started.exists():  # the request is in the plugins now (they sleep 0.8 s)
        assert time.monotonic() < deadline, "the request never reached the plugins"
        time.sleep(0.02)
    assert server.stop() == 0
    creator.join(30)
    spec = stored_spec(cri_daemon, result["id"])
    assert spec["linux"]["resources"]["memory"]["limit"] == 67108864
    assert server.decisions("inflight")[0]["decision"] == "adjusted"


def test_plugin_disabled_with_p_no_is_not_run(cri_daemon, serve, pods):
    from cri import CRIError

    server = serve(global_args=["-p", "no:nritest"])
    starting = next(r for r in server.records() if r["msg"] == "starting")
    assert "nritest" not in starting["plugins"] and "core.resources" in starting["plugins"]
    pod = pods.run_pod("disabled", {"runcore.io/nritest-nofile": "512"})
    with pytest.raises(CRIError) as err:
        pod.create("disabled")
    assert (
        "runcore: --nritest-nofile is not available: plugin 'nritest' is disabled by "
        "-p no:nritest (from annotation runcore.io/nritest-nofile)" in err.value.details
    )


def test_annotation_removed_by_a_plugin_is_removed_from_the_spec(cri_daemon, serve, pods):
    """NRI v0.6.1 honours the removal marker for annotations (not for env, mounts, devices)."""
    server = serve()
    key = "io.kubernetes.cri.image-name"
    pod = pods.run_pod(
        "drop",
        {
            "runcore.io/nritest-drop-annotation": key,
            "runcore.io/annotation": "org.example/added=yes",
        },
    )
    container = pod.create("dropped")
    annotations = stored_spec(cri_daemon, container)["annotations"]
    assert key not in annotations and annotations["org.example/added"] == "yes"
    other = pods.run_pod("keep").create("kept")
    assert stored_spec(cri_daemon, other)["annotations"][key] == "docker.io/library/rcbox:latest"
    (decision,) = server.decisions("dropped")
    assert f"annotations[-{key}]" in decision["fields"]
