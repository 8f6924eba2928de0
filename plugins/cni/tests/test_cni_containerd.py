"""--cni with a real containerd and Debian's CNI plugins (bridge + host-local, loopback).

Every test writes its own network (``cni_net``: own bridge, a private 10.199.N.0/24, its
own host-local directory and result cache) and looks at interfaces with ``ip`` only; no
packet is sent anywhere. Checked each time: what the container sees (eth0 with an address
from the range, the default route), and that afterwards nothing is left – no host-local
reservation, no veth on the bridge, no cached result, and (the ``namespace`` fixture's
leak check) no container, task, snapshot or netns.
"""

import re
import subprocess
import time

import pytest

pytestmark = [
    pytest.mark.containerd,
    pytest.mark.parametrize("containerd", ["1.7"], indirect=True),
]

SHOW = "ip -o -4 addr show dev eth0; ip route"


def runcore(daemon, namespace, net, *args, timeout=120):
    return subprocess.run(
        daemon.runcore_argv(*args, namespace=namespace),
        env=net.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def wait_for(predicate, timeout=10.0):
    """The kernel removes a dead namespace's veth asynchronously."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def assert_all_gone(net):
    assert net.allocations() == [], "host-local reservation left behind"
    assert wait_for(lambda: net.ports() == []), f"veth left on {net.bridge}: {net.ports()}"
    assert net.cached() == [], "cached result left behind"


def assert_eth0(net, output):
    match = re.search(rf"inet (10\.199\.{net.third}\.\d+)/24", output)
    assert match, f"no address from {net.subnet} on eth0:\n{output}"
    assert re.search(rf"default via {re.escape(net.gateway)} dev eth0", output), output
    return match.group(1)


def test_foreground_run_attaches_and_detaches(containerd, namespace, image, cni_net):
    cni_net.write_list([cni_net.bridge_plugin()])
    r = runcore(
        containerd, namespace, cni_net, "run", "--rm", "--cni", image, "c1", "sh", "-c", SHOW
    )
    assert r.returncode == 0, r.stderr
    assert_eth0(cni_net, r.stdout)
    assert_all_gone(cni_net)


def test_foreground_run_without_rm_keeps_only_the_record(containerd, namespace, image, cni_net):
    cni_net.write_list([cni_net.bridge_plugin()])
    r = runcore(
        containerd, namespace, cni_net, "run", "--cni", image, "c1", "sh", "-c", SHOW + "; exit 3"
    )
    assert r.returncode == 3, r.stderr
    assert_eth0(cni_net, r.stdout)
    assert_all_gone(cni_net)
    r = runcore(containerd, namespace, cni_net, "rm", "c1")
    assert r.returncode == 0 and not r.stderr, r.stderr


def test_flags_and_single_conf(containerd, namespace, image, cni_net, tmp_path):
    """--cni-conf-dir/--cni-bin-dir instead of the environment; a .conf is a list of one;
    the first file in lexical order wins."""
    conf_dir = tmp_path / "flags.d"
    conf_dir.mkdir()
    plugin = cni_net.bridge_plugin()
    (conf_dir / "20-other.conflist").write_text('{"broken": ')  # never read
    import json

    (conf_dir / "10-first.conf").write_text(
        json.dumps({"cniVersion": "0.4.0", "name": cni_net.name, **plugin})
    )
    env_net = cni_net
    r = subprocess.run(
        containerd.runcore_argv(
            "run",
            "--rm",
            "--cni",
            "--cni-conf-dir",
            str(conf_dir),
            "--cni-bin-dir",
            env_net.bin_dir,
            image,
            "c1",
            "sh",
            "-c",
            SHOW,
            namespace=namespace,
        ),
        env={
            **env_net.env,
            "RUNCORE_CNI_CONF_DIR": "/nonexistent",
            "RUNCORE_CNI_BIN_DIR": "/nonexistent",
        },
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    assert_eth0(cni_net, r.stdout)
    assert_all_gone(cni_net)


def test_chained_list_with_loopback(containerd, namespace, image, cni_net):
    """bridge then loopback in one list (loopback passes bridge's result on)."""
    cni_net.write_list([cni_net.bridge_plugin(), {"type": "loopback"}])
    r = runcore(
        containerd,
        namespace,
        cni_net,
        "run",
        "--rm",
        "--cni",
        image,
        "c1",
        "sh",
        "-c",
        SHOW + "; ip -o -4 addr show dev lo",
    )
    assert r.returncode == 0, r.stderr
    assert_eth0(cni_net, r.stdout)
    assert "inet 127.0.0.1/8" in r.stdout
    assert_all_gone(cni_net)


def test_loopback_only_conf(containerd, namespace, image, cni_net):
    cni_net.write_conf({"type": "loopback"}, version="0.3.1")
    r = runcore(
        containerd,
        namespace,
        cni_net,
        "run",
        "--rm",
        "--cni",
        image,
        "c1",
        "sh",
        "-c",
        "ip -o -4 addr show dev lo; ip -o link show dev eth0 || echo no-eth0",
    )
    assert r.returncode == 0, r.stderr
    assert "inet 127.0.0.1/8" in r.stdout
    assert "no-eth0" in r.stdout
    assert cni_net.cached() == []


def test_detached_container_removed_by_rm(containerd, namespace, image, cni_net):
    cni_net.write_list([cni_net.bridge_plugin()])
    r = runcore(
        containerd,
        namespace,
        cni_net,
        "run",
        "-d",
        "--null-io",
        "--cni",
        image,
        "d1",
        "sleep",
        "1000",
    )
    assert r.returncode == 0, r.stderr
    assert len(cni_net.allocations()) == 1
    assert len(cni_net.ports()) == 1
    assert len(cni_net.cached()) == 1
    # CHECK while it runs
    r = runcore(containerd, namespace, cni_net, "cni", "check", "d1")
    assert r.returncode == 0, r.stderr
    assert f"network '{cni_net.name}' ok" in r.stdout
    # runcore rm finds the network from its cache, even without the run's environment
    r = subprocess.run(
        containerd.runcore_argv("rm", "-f", "d1", namespace=namespace),
        env={**cni_net.env, "RUNCORE_CNI_CONF_DIR": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr, r.stderr
    assert_all_gone(cni_net)


def test_failing_plugin_is_undone(containerd, namespace, image, cni_net, fifo_dir):
    """bridge + host-local succeed, the next plugin fails: one clear line, and DEL undoes
    the address and the veth; --rm removes task and container."""
    cni_net.fake_plugin(
        "rcfail",
        """
cat >/dev/null
if [ "$CNI_COMMAND" = ADD ]; then
  echo '{"cniVersion":"1.0.0","code":7,"msg":"rcfail refuses","details":"on purpose"}'
  exit 1
fi
exit 0
""",
    )
    cni_net.write_list([cni_net.bridge_plugin(), {"type": "rcfail"}])
    r = runcore(
        containerd,
        namespace,
        cni_net,
        "run",
        "--rm",
        "--cni",
        "--fifo-dir",
        fifo_dir,
        image,
        "f1",
        "true",
    )
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0] == (
        f'runcore: cni network "{cni_net.name}" '
        f'({cni_net.conf_dir}/10-test.conflist): plugin "rcfail" failed (add): '
        "rcfail refuses; on purpose (CNI error 7: invalid network config)"
    )
    assert_all_gone(cni_net)
    assert containerd.lines("containers", "ls", "-q", namespace=namespace) == []


def test_failing_ipam_is_undone(containerd, namespace, image, cni_net):
    """host-local has no address left (a /30 with one usable address, already taken):
    bridge fails ADD after creating the veth; DEL removes it."""
    plugin = cni_net.bridge_plugin()
    third = cni_net.third
    plugin["ipam"]["ranges"] = [
        [
            {
                "subnet": f"10.199.{third}.0/30",
                "rangeStart": f"10.199.{third}.2",
                "rangeEnd": f"10.199.{third}.2",
            }
        ]
    ]
    plugin["ipam"]["routes"] = []
    cni_net.write_list([plugin])
    r = runcore(
        containerd,
        namespace,
        cni_net,
        "run",
        "-d",
        "--null-io",
        "--cni",
        image,
        "a1",
        "sleep",
        "1000",
    )
    assert r.returncode == 0, r.stderr
    assert len(cni_net.allocations()) == 1
    r = runcore(containerd, namespace, cni_net, "run", "--rm", "--cni", image, "a2", "true")
    assert r.returncode == 1
    assert 'plugin "bridge" failed (add)' in r.stderr, r.stderr
    assert "no IP addresses available" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert len(cni_net.allocations()) == 1  # a1's only
    assert wait_for(lambda: len(cni_net.ports()) == 1), cni_net.ports()
    assert containerd.lines("containers", "ls", "-q", namespace=namespace) == ["a1"]
    r = runcore(containerd, namespace, cni_net, "rm", "-f", "a1")
    assert r.returncode == 0 and not r.stderr, r.stderr
    assert_all_gone(cni_net)


def test_missing_plugin_refused_before_anything_exists(containerd, namespace, image, cni_net):
    cni_net.write_list([{"type": "rc-no-such-plugin"}])
    r = runcore(containerd, namespace, cni_net, "run", "--rm", "--cni", image, "m1", "true")
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f'runcore: failed to find plugin "rc-no-such-plugin" in path '
        f"[{cni_net.fake_bin} {cni_net.bin_dir}]"
    )
    assert containerd.lines("containers", "ls", "-q", namespace=namespace) == []


def test_no_config_refused_before_anything_exists(containerd, namespace, image, cni_net):
    r = runcore(containerd, namespace, cni_net, "run", "--cni", image, "n1", "true")
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f"runcore: no network config found in {cni_net.conf_dir}: cni plugin not initialized"
    )
    assert containerd.lines("containers", "ls", "-q", namespace=namespace) == []


def test_net_host_refused(containerd, namespace, image, cni_net):
    cni_net.write_list([cni_net.bridge_plugin()])
    r = runcore(
        containerd, namespace, cni_net, "run", "--rm", "--cni", "--net-host", image, "h1", "true"
    )
    assert r.returncode == 1
    assert "--cni cannot be used with --net-host" in r.stderr
    assert containerd.lines("containers", "ls", "-q", namespace=namespace) == []


def test_exited_detached_container_removed_by_rm(containerd, namespace, image, cni_net):
    """A detached task that ended keeps its address until the container is removed."""
    import json

    cni_net.write_list([cni_net.bridge_plugin()])
    r = runcore(
        containerd, namespace, cni_net, "run", "-d", "--null-io", "--cni", image, "e1", "true"
    )
    assert r.returncode == 0, r.stderr

    def stopped():
        rows = json.loads(runcore(containerd, namespace, cni_net, "ls", "--json").stdout)
        return rows and rows[0]["status"] == "stopped"

    assert wait_for(stopped, timeout=30)
    assert len(cni_net.allocations()) == 1
    r = runcore(containerd, namespace, cni_net, "rm", "e1")
    assert r.returncode == 0 and not r.stderr, r.stderr
    assert_all_gone(cni_net)


def test_interrupted_after_add_is_undone(containerd, namespace, image, cni_net, tmp_path):
    """SIGTERM while the plugins run: ADD finishes, the task never starts, and the
    network (added in full) is removed with the task."""
    import signal
    import sys

    marker = tmp_path / "adding"
    script = cni_net.fake_bin / "rcslow"
    script.write_text(f"""#!{sys.executable}
import json, os, sys, time
conf = json.load(sys.stdin)
if os.environ["CNI_COMMAND"] == "ADD":
    open({str(marker)!r}, "w").close()
    time.sleep(2)
    print(json.dumps(conf["prevResult"]))
""")
    script.chmod(0o755)
    cni_net.write_list([cni_net.bridge_plugin(), {"type": "rcslow"}])
    proc = subprocess.Popen(
        containerd.runcore_argv("run", "--rm", "--cni", image, "i1", "true", namespace=namespace),
        env=cni_net.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(marker.exists, timeout=60), "ADD never reached the slow plugin"
        assert len(cni_net.allocations()) == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM before the task started" in err
    assert "warning" not in err, err
    assert_all_gone(cni_net)


def test_created_container_gets_its_network_at_start_and_loses_it_at_stop(
    containerd, namespace, image, cni_net
):
    """``create --cni`` stores the extension only; ``runcore start`` reads it from the stored
    record and adds the default network; ``stop`` removes it; ``start`` again re-adds it."""
    cni_net.write_list([cni_net.bridge_plugin()])
    r = runcore(containerd, namespace, cni_net, "create", "--cni", image, "s1", "sleep", "1000")
    assert r.returncode == 0, r.stderr
    assert cni_net.allocations() == []
    for _ in range(2):
        r = runcore(containerd, namespace, cni_net, "start", "-d", "--null-io", "s1")
        assert r.returncode == 0, r.stderr
        assert len(cni_net.allocations()) == 1 and len(cni_net.cached()) == 1
        r = runcore(containerd, namespace, cni_net, "exec", "s1", "sh", "-c", SHOW)
        assert r.returncode == 0, r.stderr
        assert_eth0(cni_net, r.stdout)
        r = runcore(containerd, namespace, cni_net, "stop", "-t", "1", "s1")
        assert r.returncode == 0, r.stderr
        assert_all_gone(cni_net)
    r = runcore(containerd, namespace, cni_net, "rm", "s1")
    assert r.returncode == 0, r.stderr


def test_created_container_started_in_the_foreground_loses_its_network_at_exit(
    containerd, namespace, image, cni_net, fifo_dir
):
    cni_net.write_list([cni_net.bridge_plugin()])
    r = runcore(containerd, namespace, cni_net, "create", "--cni", image, "s2", "sh", "-c", SHOW)
    assert r.returncode == 0, r.stderr
    r = runcore(containerd, namespace, cni_net, "start", "--rm", "--fifo-dir", fifo_dir, "s2")
    assert r.returncode == 0, r.stderr
    assert_eth0(cni_net, r.stdout)
    assert_all_gone(cni_net)
