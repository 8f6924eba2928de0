"""Reliability fixes of issue 18 with a real containerd: lost output (defect 4), orphans a
killed run leaves (defect 6), one-line messages (defect 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from runcore.testing.cli import run_process

pytestmark = pytest.mark.containerd

#: runcore killed (SIGKILL) after the snapshot was prepared, before the record exists.
KILLED_AFTER_PREPARE = r"""
import os, signal, sys
from runcore import runner
def die(ctx):
    os.kill(os.getpid(), signal.SIGKILL)
runner.build_spec = die
from runcore.cli.main import main
main(sys.argv[1:])
"""


def test_output_to_a_full_device(containerd, namespace, image, fifo_dir) -> None:
    argv = containerd.runcore_argv(
        "run",
        "--rm",
        "--fifo-dir",
        fifo_dir,
        image,
        "full1",
        "sh",
        "-c",
        "echo out; echo err >&2",
        namespace=namespace,
    )
    with open("/dev/full", "wb") as full:
        r = run_process(argv, stdout=full, stderr=subprocess.PIPE)
    assert r.returncode == 74
    assert r.stderr == (
        b"err\nruncore: output of the container lost: cannot write to "
        b"stdout: No space left on device\n"
    )
    with open("/dev/full", "wb") as full:
        r = run_process(argv, stdout=subprocess.PIPE, stderr=full)
    assert r.returncode == 74
    assert r.stdout == (
        b"out\nruncore: output of the container lost: cannot write to "
        b"stderr: No space left on device\n"
    )
    # a reader that goes away (| head) is not an error
    r = run_process(
        containerd.runcore_argv(
            "run",
            "--rm",
            "--fifo-dir",
            fifo_dir,
            image,
            "full2",
            "sh",
            "-c",
            "yes | head -c 1000000",
            namespace=namespace,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert r.returncode == 0, r.stderr


def test_rm_f_and_prune_remove_what_a_killed_run_left(containerd, namespace, image) -> None:
    for cid in ("orph1", "orph2"):
        r = run_process(
            [
                sys.executable,
                "-c",
                KILLED_AFTER_PREPARE,
                *containerd.runcore_argv("run", image, cid, "true", namespace=namespace)[3:],
            ]
        )
        assert r.returncode == -signal.SIGKILL, r.stderr
    leases = containerd.lines("leases", "ls", "-q", namespace=namespace)
    assert len(leases) == 2
    snaps = {
        key
        for key, _, kind in containerd.snapshots(namespace, "overlayfs")
        if kind.lower() == "active"
    }
    assert snaps == {"orph1", "orph2"}

    # a rerun names the way out; rm without -f says what is there
    r = run_process(containerd.runcore_argv("run", image, "orph1", "true", namespace=namespace))
    assert r.returncode == 1
    assert "runcore rm -f orph1" in r.stderr.decode() and r.stderr.count(b"\n") == 1
    r = run_process(containerd.runcore_argv("rm", "orph1", namespace=namespace))
    assert r.returncode == 1 and b"killed run left lease" in r.stderr

    r = run_process(containerd.runcore_argv("rm", "-f", "orph1", namespace=namespace))
    assert (r.returncode, r.stderr) == (0, b"")
    r = run_process(containerd.runcore_argv("prune", "--dry-run", namespace=namespace))
    assert r.returncode == 0
    assert r.stdout.decode().splitlines() == [
        f"would remove lease {lease} (container orph2)"
        for lease in containerd.lines("leases", "ls", "-q", namespace=namespace)
    ] + ["would remove snapshot overlayfs/orph2"]
    r = run_process(containerd.runcore_argv("prune", namespace=namespace))
    assert r.returncode == 0 and r.stdout.startswith(b"removed lease")
    assert containerd.lines("leases", "ls", "-q", namespace=namespace) == []
    # the id is usable again
    r = run_process(
        containerd.runcore_argv("run", "--rm", image, "orph1", "true", namespace=namespace)
    )
    assert r.returncode == 0, r.stderr


def test_rm_f_removes_an_orphan_fifo_dir(containerd, namespace, image) -> None:
    root = "/run/containerd/fifo"
    os.makedirs(root, exist_ok=True)
    orphan = os.path.join(root, "4242424242")
    os.mkdir(orphan)
    for stream in ("stdin", "stdout", "stderr"):
        os.mkfifo(os.path.join(orphan, f"orphfifo-{stream}"))
    r = run_process(containerd.runcore_argv("rm", "-f", "orphfifo", namespace=namespace))
    assert (r.returncode, r.stderr) == (0, b"")
    assert not os.path.exists(orphan)
    r = run_process(containerd.runcore_argv("rm", "-f", "orphfifo", namespace=namespace))
    assert (r.returncode, r.stderr) == (1, b'runcore: container "orphfifo": not found\n')


def test_messages_are_plain_one_liners(containerd, namespace, image, tmp_path) -> None:
    huge = "docker.io/library/" + "a" * 20000
    r = run_process(
        containerd.runcore_argv("run", "--rm", huge, "msg1", "true", namespace=namespace)
    )
    assert r.returncode == 1
    err = r.stderr.decode()
    assert err.startswith("runcore: ") and err.count("\n") == 1 and "Stream removed" not in err
    r = run_process(
        containerd.runcore_argv(
            "run",
            "--rm",
            "--log-uri",
            "binary:///nonexistent",
            image,
            "msg2",
            "true",
            namespace=namespace,
        )
    )
    assert r.returncode == 1
    err = r.stderr.decode()
    assert err.count("\n") == 1 and "fork/exec /nonexistent" in err, err
    # (no "is containerd running?" hint for permission denied: tests/unit)


def test_leak_check_blames_only_the_tests_own_fifo_dirs(
    containerd, namespace_name, busybox_archive
) -> None:
    """Another client's FIFO directory appearing meanwhile in the shared default root is
    not the test's leak; a leftover directory serving the test's own container still is."""
    import shutil

    from runcore.testing.daemon import (
        DEFAULT_FIFO_ROOT,
        check_leaks,
        cleanup_namespace,
        take_baseline,
    )

    ns = namespace_name
    containerd.ctr("images", "import", str(busybox_archive.path), namespace=ns)
    baseline = take_baseline(containerd)
    foreign = os.path.join(DEFAULT_FIFO_ROOT, "9999999991")
    mine = os.path.join(DEFAULT_FIFO_ROOT, "9999999992")
    try:
        r = run_process(
            containerd.runcore_argv(
                "run", "--rm", busybox_archive.name, "leaky", "true", namespace=ns
            )
        )
        assert r.returncode == 0, r.stderr
        for directory, name in ((foreign, "someone-else"), (mine, "leaky")):
            os.makedirs(directory)
            os.mkfifo(os.path.join(directory, f"{name}-stdout"))
        leaks = check_leaks(containerd, ns, baseline, settle=0)
        fifo_leaks = [line for line in leaks if "FIFO" in line]
        assert fifo_leaks == [f"new FIFO dirs in {DEFAULT_FIFO_ROOT}: ['9999999992']"], leaks
    finally:
        baseline.close()
        shutil.rmtree(foreign, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
        cleanup_namespace(containerd, ns)
