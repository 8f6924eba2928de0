"""Fixtures of the cni plugin's tests.

The containerd fixtures (``containerd``, ``namespace`` with its leak check, ``image``)
come from ``runcore.testing.containerd``. ``cni_net`` gives a test its own network: a
configuration directory in a temporary folder with a bridge + host-local list (its own
bridge name, a private /24 in 10.199.0.0/16, host-local's files in the test's own
folder), a cache directory, and the environment that points runcore at them. The
bridge is deleted afterwards. Nothing in these tests sends a packet anywhere: they look
at interfaces with ``ip`` only.
"""

import itertools
import os
import shutil

import pytest
from cni_support import CniNet, cni_bin_dir

from runcore.testing.containerd import *  # noqa: F401,F403

_nets = itertools.count(1)


@pytest.fixture
def cni_net(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("CNI tests need root")
    bin_dir = cni_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "Debian's containernetworking-plugins (bridge, host-local, loopback) "
            "are not installed (scripts/bootstrap.sh)"
        )
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is missing")
    net = CniNet(tmp_path, bin_dir, next(_nets) + (os.getpid() % 100) * 2)
    try:
        yield net
    finally:
        net.cleanup()
