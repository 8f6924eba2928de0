"""Helpers of the cni plugin's tests: a private test network (see ``conftest.cni_net``)."""

import json
import os
import subprocess
from pathlib import Path

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
    r = subprocess.run(
        ["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True
    )
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
        env.update(
            {
                "RUNCORE_CNI_CONF_DIR": str(self.conf_dir),
                "RUNCORE_CNI_BIN_DIR": self.bin_path,
                "RUNCORE_CNI_CACHE_DIR": str(self.cache_dir),
            }
        )
        return env

    # what is left -----------------------------------------------------------
    def allocations(self):
        """host-local's reservations (one file per address) of this network."""
        folder = self.ipam_dir / self.name
        if not folder.is_dir():
            return []
        return sorted(
            p.name
            for p in folder.iterdir()
            if not p.name.startswith("last_reserved_ip") and p.name != "lock"
        )

    def cached(self):
        folder = self.cache_dir / "results"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def ports(self):
        return bridge_ports(self.bridge)

    def cleanup(self):
        if link_exists(self.bridge):
            subprocess.run(
                ["ip", "link", "delete", self.bridge, "type", "bridge"], capture_output=True
            )
