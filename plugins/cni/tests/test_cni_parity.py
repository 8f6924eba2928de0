"""Parity with ctr 1.7.24 for --cni, and ctr and runcore removing each other's networks.

ctr's CNI directories are fixed (/etc/cni/net.d, /opt/cni/bin), so these tests write a
test network into /etc/cni/net.d – only when it holds no configuration of its own (they
skip otherwise) – and remove it afterwards. The network is the tests' own: its own
bridge, a private 10.199.N.0/24, host-local's files in the test's folder.
"""

import json
import os
import subprocess
import time

import pytest

from runcore.testing import parity  # noqa: E402

from cni_support import REQUIRED_PLUGINS  # noqa: E402

pytestmark = pytest.mark.containerd

ETC = "/etc/cni/net.d"
CTR_BIN = "/opt/cni/bin"
LIBCNI_RESULTS = "/var/lib/cni/results"
EXTENSION = {
    "ctr.cni-containerd.metadata": {
        "type_url": "github.com/containerd/containerd/cmd/ctr/commands/NetworkMetaData",
        "value": "eyJFbmFibGVDbmkiOnRydWV9",  # base64 of {"EnableCni":true}
    }
}


@pytest.fixture
def etc_net(cni_net):
    """The test network as ctr's default network (in /etc/cni/net.d)."""
    if not all(os.access(os.path.join(CTR_BIN, p), os.X_OK) for p in REQUIRED_PLUGINS):
        pytest.skip(f"ctr needs the CNI plugins in {CTR_BIN} (scripts/bootstrap.sh)")
    created_dir = not os.path.isdir(ETC)
    if not created_dir:
        existing = [
            n for n in os.listdir(ETC) if os.path.splitext(n)[1] in (".conf", ".conflist", ".json")
        ]
        if existing:
            pytest.skip(f"{ETC} has a configuration of this host ({existing[0]}); not replacing it")
    os.makedirs(ETC, exist_ok=True)
    path = os.path.join(ETC, "10-runcore-test.conflist")
    with open(path, "w") as handle:
        json.dump(
            {"cniVersion": "1.0.0", "name": cni_net.name, "plugins": [cni_net.bridge_plugin()]},
            handle,
        )
    env_before = {
        k: os.environ.get(k)
        for k in ("RUNCORE_CNI_CONF_DIR", "RUNCORE_CNI_BIN_DIR", "RUNCORE_CNI_CACHE_DIR")
    }
    # runcore (also through support.parity) then sees what ctr sees.
    os.environ.pop("RUNCORE_CNI_CONF_DIR", None)
    os.environ.pop("RUNCORE_CNI_BIN_DIR", None)
    os.environ["RUNCORE_CNI_CACHE_DIR"] = str(cni_net.cache_dir)
    try:
        yield cni_net
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.unlink(path)
        if created_dir:
            try:
                os.rmdir(ETC)
            except OSError:
                pass
        for name in _libcni_results(cni_net):
            os.unlink(os.path.join(LIBCNI_RESULTS, name))


def _libcni_results(net):
    try:
        return [n for n in os.listdir(LIBCNI_RESULTS) if n.startswith(net.name + "-")]
    except FileNotFoundError:
        return []


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_record_parity(containerd, namespace, image, etc_net):
    """ctr run -d --cni and runcore create --cni store the same record."""
    ctr, rc = parity.compare(containerd, namespace, ["--cni"], image, ["sleep", "1000"])
    assert ctr.ok, f"ctr failed: {ctr.stderr}"
    assert rc.ok, f"runcore failed: {rc.stderr}"
    problems = parity.diff(ctr.record, rc.record) + parity.diff(
        ctr.snapshot, rc.snapshot, "snapshot"
    )
    assert not problems, "\n".join(problems)
    assert rc.record["Extensions"] == EXTENSION
    # ctr's network went with `ctr tasks kill` (it reads the extension)
    assert etc_net.allocations() == []
    assert _wait(lambda: etc_net.ports() == [])


@pytest.mark.parametrize("containerd", ["1.7"], indirect=True)
def test_run_parity_and_cross_removal(containerd, namespace, image, etc_net):
    """Detached runs of both tools: same record, both networks set up; runcore rm removes
    ctr's network, ctr tasks kill removes runcore's."""
    ctr = parity.ctr_run(containerd, namespace, ["--cni"], image, "ctr-1", ["sleep", "1000"])
    assert ctr.ok, ctr.stderr
    r = subprocess.run(
        containerd.runcore_argv(
            "run", "-d", "--null-io", "--cni", image, "rc-1", "sleep", "1000", namespace=namespace
        ),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert r.returncode == 0, r.stderr
        rc_record = json.loads(
            containerd.ctr("containers", "info", "rc-1", namespace=namespace).stdout.replace(
                "rc-1", "<ID>"
            )
        )
        for key in parity.VOLATILE:
            rc_record.pop(key, None)
        problems = parity.diff(ctr.record, rc_record)
        assert not problems, "\n".join(problems)
        assert len(etc_net.allocations()) == 2
        assert len(etc_net.ports()) == 2
        assert _libcni_results(etc_net) == [f"{etc_net.name}-{namespace}-ctr-1-eth0"]
        assert etc_net.cached() == [f"{etc_net.name}-{namespace}-rc-1-eth0"]

        # runcore rm -f on ctr's container: the extension + libcni's cached result
        r = containerd.runcore("rm", "-f", "ctr-1", namespace=namespace, check=False)
        assert r.returncode == 0 and not r.stderr, r.stderr
        assert len(etc_net.allocations()) == 1
        assert _libcni_results(etc_net) == []
        assert _wait(lambda: len(etc_net.ports()) == 1)

        # ctr tasks kill on runcore's container removes its network too
        parity.remove_ctr_container(containerd, namespace, "rc-1")
        assert etc_net.allocations() == []
        assert _wait(lambda: etc_net.ports() == [])
    finally:
        parity.remove_ctr_container(containerd, namespace, "ctr-1")
        parity.remove_ctr_container(containerd, namespace, "rc-1")
        for name in etc_net.cached():  # ctr does not know runcore's cache
            os.unlink(etc_net.cache_dir / "results" / name)
