"""Parity with ctr 1.7.24 (goresctrl v0.3.0): the same blockio flags store the same spec.

Each case creates one container with ``ctr run -d --null-io`` and one with
``runcore create`` in one namespace and compares ``ctr containers info`` (ids
replaced), plus the ``[ blockio ]`` warnings both print. Devices: a loop device made
with losetup, /dev/loop1 (a "partition" for v0.3.0), /dev/vda when present (254:0),
/dev/null (a character device).
"""

from __future__ import annotations

import os

import pytest

from runcore.testing import parity  # noqa: E402

pytestmark = [pytest.mark.containerd, pytest.mark.parametrize("containerd", ["1.7"], indirect=True)]


def _vda():
    return "/dev/vda" if os.path.exists("/dev/vda") else None


def _configs(loop):
    vda = _vda() or loop
    return {
        "weight-only": "Classes:\n  c:\n    - Weight: 80\n",
        "loop-throttle": f"Classes:\n  c:\n    - Devices: [{loop}]\n      ThrottleReadBps: 50M\n"
        f"      ThrottleWriteBps: 1Mi\n      ThrottleReadIOPS: 10k\n"
        f"      ThrottleWriteIOPS: 1500m\n",
        "vda-and-loop": f"Classes:\n  c:\n    - Weight: 80\n    - Devices: [{vda}]\n      ThrottleReadBps: 50M\n"
        f"    - Devices: [{loop}]\n      ThrottleWriteIOPS: 10k\n"
        f"    - Devices: [{vda}]\n      ThrottleReadBps: 1M\n",
        "skipped-devices": "Classes:\n  c:\n    - Devices: [/dev/loop1, /dev/null, /etc/hostname, /dev/none*]\n"
        "      ThrottleReadBps: 1M\n    - Weight: 100\n",
        "case-and-units": f"classes:\n  c:\n    - devices: [{loop}]\n      THROTTLEWRITEBPS: 0.5Ki\n"
        f"      throttlereadiops: '7'\n",
        "empty-class": "Classes:\n  c: []\n",
        "one-item-two-devices": f"Classes:\n  c:\n    - Devices: [{vda}, {loop}]\n"
        f"      ThrottleReadBps: 50M\n      ThrottleWriteIOPS: 10k\n",
    }


CASES = [
    "weight-only",
    "loop-throttle",
    "vda-and-loop",
    "skipped-devices",
    "case-and-units",
    "empty-class",
    "one-item-two-devices",
]


def _sorted_block_io(record):
    """Devices of one item come in Go map order (random): sort the device lists."""
    block_io = (
        (record or {}).get("Spec", {}).get("linux", {}).get("resources", {}).get("blockIO", {})
    )
    for key, value in block_io.items():
        if isinstance(value, list):
            value.sort(key=lambda d: (d["major"], d["minor"]))
    return record


def _warnings(stderr: str):
    return [line for line in stderr.splitlines() if not line.startswith(("ctr: ", "runcore: "))]


@pytest.mark.parametrize("case", CASES)
def test_class_parity(case, containerd, namespace, image, loop_device, tmp_path):
    cfg = tmp_path / "blockio.yaml"
    cfg.write_text(_configs(loop_device)[case])
    flags = ["--blockio-config-file", str(cfg), "--blockio-class", "c"]
    ctr, rc = parity.compare(containerd, namespace, flags, image)
    assert ctr.record is not None, ctr.stderr
    assert rc.ok, rc.stderr
    assert parity.diff(_sorted_block_io(ctr.record), _sorted_block_io(rc.record)) == []
    # Go walks maps in random order: the same warning lines, maybe in another order
    assert sorted(_warnings(rc.stderr)) == sorted(_warnings(ctr.stderr))


@pytest.mark.parametrize(
    "text,flags_extra,needle",
    [
        ("Classes:\n  c:\n    - Weight: 5\n      ThrottleReadBps: x\n", [], "2 errors occurred:"),
        ("Classes:\n  c:\n    - ThrottleReadBps: 1M\n", [], "Devices not listed"),
        (
            "Classes:\n  c:\n    - Weight: 100\n",
            ["--blockio-class", "d"],
            'no OCI BlockIO parameters for class "d"',
        ),
        ("Classes: 5\n", [], "cannot unmarshal number"),
    ],
)
def test_error_parity(text, flags_extra, needle, containerd, namespace, image, tmp_path):
    cfg = tmp_path / "blockio.yaml"
    cfg.write_text(text)
    flags = ["--blockio-config-file", str(cfg), *(flags_extra or ["--blockio-class", "c"])]
    ctr, rc = parity.compare(containerd, namespace, flags, image)
    assert not ctr.ok and not rc.ok
    assert ctr.record is None and rc.record is None
    assert needle in ctr.stderr
    # ctr prints go-multierror's indented list; runcore the same errors on one line
    ctr_errors = [l.strip()[2:] for l in ctr.stderr.splitlines() if l.strip().startswith("* ")]
    assert "\n" not in rc.stderr, rc.stderr  # Outcome.stderr is stripped: one line
    for error in ctr_errors:
        assert error in rc.stderr
    assert (
        rc.stderr.split(" occurred:")[0].replace("runcore: ", "ctr: ", 1)
        == ctr.stderr.split(" occurred:")[0]
    )


def test_missing_file_parity(containerd, namespace, image, tmp_path):
    flags = ["--blockio-config-file", str(tmp_path / "nope.yaml"), "--blockio-class", "c"]
    ctr, rc = parity.compare(containerd, namespace, flags, image)
    assert not ctr.ok and not rc.ok
    assert rc.stderr.replace("runcore: ", "ctr: ", 1) == ctr.stderr


def test_container_with_weight_class_runs(containerd, namespace, image, tmp_path):
    cfg = tmp_path / "blockio.yaml"
    cfg.write_text("Classes:\n  gold:\n    - Weight: 300\n")
    r = containerd.runcore(
        "run",
        "--rm",
        "--blockio-config-file",
        str(cfg),
        "--blockio-class",
        "gold",
        image,
        "bio-run",
        "sh",
        "-c",
        "cat /proc/self/cgroup; echo ok",
        namespace=namespace,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("ok")
