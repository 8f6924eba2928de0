"""Core flags seen from inside real containers (``runcore run --rm``, runc, busybox)."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

pytestmark = pytest.mark.containerd


@pytest.fixture
def run(rc):
    """``runcore run --rm ARGS IMAGE <a new id> CMD``."""
    counter = iter(range(1000))

    def go(*args: str, image: str, cmd=(), input: bytes = b"") -> subprocess.CompletedProcess:
        return rc.run("--rm", *args, image, f"f{next(counter)}", *cmd, input=input)

    return go


def out(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def test_read_only_root_refuses_writes(run, image):
    r = run("--read-only", image=image, cmd=["touch", "/newfile"])
    assert r.returncode != 0
    assert b"Read-only file system" in r.stderr
    assert out(run(image=image, cmd=["touch", "/newfile"])) == ""


@pytest.mark.parametrize(
    "flags,expected",
    [
        ([], (0, 0, {0, 10, 29})),
        (["-u", "alice"], (1000, 1001, {1001, 10, 50})),
        (["-u", "1000:50"], (1000, 50, {50})),
        (["--user", "bob"], (1002, 1002, {1002, 29})),
        (["-u", "99999"], (99999, 0, {0})),
    ],
)
def test_user_resolution(run, image, flags, expected):
    text = out(run(*flags, image=image, cmd=["sh", "-c", "id -u; id -g; id -G"]))
    uid, gid, groups = text.splitlines()
    assert (int(uid), int(gid), {int(g) for g in groups.split()}) == expected


def test_image_user_and_workdir(run, image_alice):
    assert out(run(image=image_alice, cmd=["sh", "-c", "id -u; pwd"])).split() == ["1000", "/work"]


def test_env_file_and_env(run, image, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("FROMFILE=1\nFOO=envfile\n# comment=kept\n")
    text = out(
        run(
            "--env-file",
            str(env_file),
            "--env",
            "EXTRA=2",
            "--env",
            "FOO",
            image=image,
            cmd=["env"],
        )
    )
    lines = set(text.splitlines())
    assert {"FROMFILE=1", "EXTRA=2", "# comment=kept", "KEEP=1"} <= lines
    # FOO alone drops the env-file's FOO, so the image's FOO=img stays (ctr's merge order)
    assert [l for l in lines if l.startswith("FOO=")] == ["FOO=img"]


def test_bind_mount(run, image, tmp_path):
    (tmp_path / "hello.txt").write_text("from the host\n")
    text = out(
        run(
            "--mount",
            f"type=bind,src={tmp_path},dst=/host,options=rbind:ro",
            image=image,
            cmd=["sh", "-c", "cat /host/hello.txt; touch /host/x || echo ro"],
        )
    )
    assert text.splitlines() == ["from the host", "ro"]
    assert not (tmp_path / "x").exists()


def test_net_host_sees_host_interfaces_and_hostname(run, image):
    host_ifaces = set(os.listdir("/sys/class/net"))
    text = out(
        run("--net-host", image=image, cmd=["sh", "-c", "ls /sys/class/net; echo H=$HOSTNAME"])
    )
    inside = set(text.split()[:-1])
    assert inside == host_ifaces
    assert text.split()[-1] == f"H={socket.gethostname()}"
    isolated = out(run(image=image, cmd=["ls", "/sys/class/net"])).split()
    assert isolated == ["lo"]


def test_privileged_has_all_caps_and_host_devices(run, image):
    text = out(
        run(
            "--privileged",
            image=image,
            cmd=["sh", "-c", "grep CapEff /proc/self/status; ls /dev | wc -l"],
        )
    )
    cap_line, count = text.splitlines()
    with open("/proc/self/status") as fh:
        mine = next(l for l in fh if l.startswith("CapEff")).split()[1]
    assert cap_line.split()[1] == mine
    assert int(count) > 20
    plain = out(run(image=image, cmd=["grep", "CapEff", "/proc/self/status"]))
    assert plain.split()[1] == "00000000a80425fb"  # ctr's default capability set
