"""Fixtures of the cni plugin's tests.

The containerd fixtures (``containerd``, ``namespace`` with its leak check, ``image``)
come from the core's ``tests/support``. ``cni_net`` gives a test its own network: a
configuration directory in a temporary folder with a bridge + host-local list (its own
bridge name, a private /24 in 10.199.0.0/16, host-local's files in the test's own
folder), a cache directory, and the environment that points runcore at them. The
bridge is deleted afterwards. Nothing in these tests sends a packet anywhere: they look
at interfaces with ``ip`` only.
"""
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[3] / "tests"
for _path in (_TESTS, Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from support.fixtures import *  # noqa: E402,F401,F403

REQUIRED_PLUGINS = ("bridge", "host-local", "loopback")


def cni_bin_dir():
    """Where Debian's plugins are (bootstrap links them into /opt/cni/bin)."""
    for d in ("/opt/cni/bin", "/usr/lib/cni"):
        if all(os.access(os.path.join(d, p), os.X_OK) for p in REQUIRED_PLUGINS):
            return d
    return None


def link_exists(name):
    return subprocess.run(["ip", "link", "show", "dev", name], capture_output=True).returncode == 0


def bridge_ports(bridge):
    """Interfaces enslaved to ``bridge`` (the host ends of the veths)."""
    r = subprocess.run(["ip", "-j", "link", "show", "master", bridge], capture_output=True,
                       text=True)
    if r.returncode != 0 or not r.stdout.strip():
        return []
    return [link["ifname"] for link in json.loads(r.stdout)]


class CniNet:
    """One test network (see the module doc)."""

    def __init__(self, root: Path, bin_dir: str, n: int):
        self.root = root
        self.bin_dir = bin_dir
        self.conf_dir = root / "net.d"
        self.ipam_dir = root / "ipam"
        self.cache_dir = root / "cache"
        self.fake_bin = root / "bin"
        self.third = 1 + n % 250
        self.subnet = f"10.199.{self.third}.0/24"
        self.gateway = f"10.199.{self.third}.1"
        self.bridge = f"rcnt{os.getpid() % 10000}x{n % 1000}"[:15]
        self.name = f"rcnet-{n}"
        self.conf_dir.mkdir()
        self.fake_bin.mkdir()

    # configurations ---------------------------------------------------------
    def bridge_plugin(self, **extra):
        plugin = {
            "type": "bridge",
            "bridge": self.bridge,
            "isGateway": False,
            "ipMasq": False,
            "ipam": {
                "type": "host-local",
                "dataDir": str(self.ipam_dir),
                "ranges": [[{"subnet": self.subnet}]],
                "routes": [{"dst": "0.0.0.0/0", "gw": self.gateway}],
            },
        }
        plugin.update(extra)
        return plugin

    def write_list(self, plugins, version="1.0.0", filename="10-test.conflist", **extra):
        data = {"cniVersion": version, "name": self.name, "plugins": plugins, **extra}
        path = self.conf_dir / filename
        path.write_text(json.dumps(data, indent=2))
        return path

    def write_conf(self, plugin, version="1.0.0", filename="10-test.conf"):
        data = {"cniVersion": version, "name": self.name, **plugin}
        path = self.conf_dir / filename
        path.write_text(json.dumps(data, indent=2))
        return path

    def fake_plugin(self, name, script):
        """A plugin (shell script) in the fake bin dir, searched before the real ones."""
        path = self.fake_bin / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)
        return path

    # what runcore is given --------------------------------------------------
    @property
    def bin_path(self):
        return f"{self.fake_bin}:{self.bin_dir}"

    @property
    def env(self):
        env = dict(os.environ)
        env.update({
            "RUNCORE_CNI_CONF_DIR": str(self.conf_dir),
            "RUNCORE_CNI_BIN_DIR": self.bin_path,
            "RUNCORE_CNI_CACHE_DIR": str(self.cache_dir),
        })
        return env

    # what is left -----------------------------------------------------------
    def allocations(self):
        """host-local's reservations (one file per address) of this network."""
        folder = self.ipam_dir / self.name
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if not p.name.startswith("last_reserved_ip") and p.name != "lock")

    def cached(self):
        folder = self.cache_dir / "results"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def ports(self):
        return bridge_ports(self.bridge)

    def cleanup(self):
        if link_exists(self.bridge):
            subprocess.run(["ip", "link", "delete", self.bridge, "type", "bridge"],
                           capture_output=True)


_nets = itertools.count(1)


@pytest.fixture
def cni_net(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("CNI tests need root")
    bin_dir = cni_bin_dir()
    if bin_dir is None:
        pytest.skip("Debian's containernetworking-plugins (bridge, host-local, loopback) "
                    "are not installed (scripts/bootstrap.sh)")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is missing")
    net = CniNet(tmp_path, bin_dir, next(_nets) + (os.getpid() % 100) * 2)
    try:
        yield net
    finally:
        net.cleanup()
