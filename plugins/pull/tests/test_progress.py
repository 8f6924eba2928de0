"""Progress: live bars on a terminal, one line per finished blob otherwise, nothing with -q."""

import os
import pty
import subprocess

from pull_support import runcore
from support import registry as reg
from support.daemon import _clean_env


def _unique(registry, tmp_path, repo):
    archive, _ = reg.build_unique_archive(tmp_path / "u.tar", mib=3, layers=2)
    registry.push(archive, "unique", repo)
    return reg.image_blobs(archive), f"{registry.host}/{repo}"


def test_lines_when_not_a_terminal(containerd, namespace, plain_registry, tmp_path):
    blobs, ref = _unique(plain_registry, tmp_path, "test/progress-lines:v1")
    r = runcore(containerd, "pull", ref, namespace=namespace)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for digest in blobs["layers"]:
        assert any(l.startswith(f"layer-{digest}: done 3.0 MiB") for l in lines), r.stdout
    assert any(l.startswith("unpacking linux/amd64 ") for l in lines)
    assert any(l.startswith("done: ") for l in lines)
    assert "\r" not in r.stdout and "\x1b" not in r.stdout
    assert r.stderr == ""


def test_quiet(containerd, namespace, plain_registry, tmp_path):
    _, ref = _unique(plain_registry, tmp_path, "test/progress-quiet:v1")
    r = runcore(containerd, "pull", "--quiet", ref, namespace=namespace)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_bars_on_a_terminal(containerd, namespace, plain_registry, tmp_path):
    blobs, ref = _unique(plain_registry, tmp_path, "test/progress-tty:v1")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        containerd.runcore_argv("pull", ref, namespace=namespace),
        stdout=slave,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=_clean_env(),
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(120) == 0, proc.stderr.read()
    text = out.decode(errors="replace")
    assert "\r" in text  # live redraws
    assert f"layer {blobs['layers'][0].split(':')[1][:12]}" in text
    assert "3.00M/3.00M" in text
    assert "B/s" in text
