"""The owner label of runcore's import leases: which imports are certainly gone."""

from __future__ import annotations

import os
import subprocess
import sys

from runcore.images import import_lease


def test_a_running_import_is_not_dead() -> None:
    assert not import_lease.owner_is_dead(import_lease.owner())


def test_an_exited_process_is_dead() -> None:
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        value = import_lease.owner(p.pid)
        assert not import_lease.owner_is_dead(value)
    finally:
        p.kill()
        p.wait()
    assert import_lease.owner_is_dead(value)


def test_a_reused_pid_is_dead() -> None:
    boot, pidns, pid, started = import_lease.owner().split("/")
    assert started.isdigit()
    assert import_lease.owner_is_dead(f"{boot}/{pidns}/{pid}/{int(started) + 1}")


def test_another_boot_is_dead_another_pid_namespace_unknown() -> None:
    boot, pidns, pid, started = import_lease.owner().split("/")
    assert import_lease.owner_is_dead(f"00000000-0000-0000-0000-000000000000/{pidns}/{pid}/1")
    assert not import_lease.owner_is_dead(f"{boot}/pid:[1]/{os.getpid() + 99999}/1")


def test_labels_runcore_did_not_write_are_left_alone() -> None:
    for value in ["", "x", "a/b/c", "a/b/notapid/1", "/pid:[1]/1/1"]:
        assert not import_lease.owner_is_dead(value)
