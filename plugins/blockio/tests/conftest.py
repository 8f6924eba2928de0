"""Shared fixtures of the blockio tests: runcore's (private containerd, namespaces, images)
and a real block device."""

import os
import shutil
import subprocess

import pytest

from runcore.testing.containerd import *  # noqa: F401,F403


@pytest.fixture(scope="module")
def loop_device(tmp_path_factory):
    """A 1 MiB loop device (``losetup``), detached after the module; skipped without root."""
    if os.geteuid() != 0 or shutil.which("losetup") is None:
        pytest.skip("losetup needs root")
    backing = tmp_path_factory.mktemp("loop") / "loop.img"
    with open(backing, "wb") as fh:
        fh.truncate(1 << 20)
    r = subprocess.run(["losetup", "-f", "--show", str(backing)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"losetup failed: {r.stderr.strip()}")
    path = r.stdout.strip()
    try:
        yield path
    finally:
        subprocess.run(["losetup", "-d", path], capture_output=True)
