"""Failures: one line, non-zero, and nothing left but what ctr would also keep."""

import os
import signal
import socket
import subprocess
import time

import pytest

from pull_support import active_ingests, listing, one_line_error, runcore
from support import registry as reg


def _content(containerd, namespace):
    return {row.split()[0] for row in listing(containerd, namespace)["content ls"][1:]}


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_registry_down(containerd, namespace):
    start = time.monotonic()
    r = runcore(
        containerd,
        "pull",
        f"127.0.0.1:{_free_port()}/test/single:v1",
        namespace=namespace,
        timeout=120,
    )
    line = one_line_error(r)
    assert "connection refused" in line.lower()
    assert time.monotonic() - start < 60
    assert active_ingests(containerd, namespace) == []


def test_unknown_tag_and_repository(containerd, namespace, plain_registry):
    for ref in (f"{plain_registry.host}/test/single:nope", f"{plain_registry.host}/no/such:v1"):
        line = one_line_error(runcore(containerd, "pull", ref, namespace=namespace))
        assert line == f'runcore: failed to resolve reference "{ref}": {ref}: not found'
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []


def test_wrong_password_and_no_credentials(containerd, namespace, tls_registry, tmp_path):
    hosts = reg.hosts_dir_for(
        tmp_path / "certs.d",
        tls_registry.host,
        f"https://{tls_registry.host}",
        ca=tls_registry.ca.ca_crt,
    )
    ref = f"{tls_registry.host}/test/single:v1"
    line = one_line_error(
        runcore(
            containerd,
            "pull",
            "--hosts-dir",
            str(hosts),
            "--user",
            "alice:wrong",
            ref,
            namespace=namespace,
        )
    )
    assert "unauthorized" in line
    line = one_line_error(
        runcore(containerd, "pull", "--hosts-dir", str(hosts), ref, namespace=namespace)
    )
    assert "no basic auth credentials" in line
    # the CA is needed: without it, verification fails in one line
    line = one_line_error(
        runcore(
            containerd,
            "pull",
            "--user",
            "alice:s3cret",
            ref,
            namespace=namespace,
            env={"RUNCORE_HOSTS_DIR": str(tmp_path / "empty")},
        )
    )
    assert "HTTP" in line or "certificate" in line or "Bad Request" in line or "400" in line
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []


def test_token_refused(containerd, namespace, token_registry):
    ref = f"{token_registry.host}/test/single:v1"
    token_registry.issuer.refuse = True
    try:
        line = one_line_error(
            runcore(containerd, "pull", "--user", "alice:s3cret", ref, namespace=namespace)
        )
    finally:
        token_registry.issuer.refuse = False
    assert "401" in line and "token" in line
    line = one_line_error(
        runcore(containerd, "pull", "--user", "alice:bad", ref, namespace=namespace)
    )
    assert "401" in line


def test_token_signed_by_untrusted_key(containerd, namespace, token_registry, tmp_path):
    """A token the registry does not trust (another key): the registry's real JWT check refuses it."""
    ref = f"{token_registry.host}/test/single:v1"
    other = reg.TokenIssuer(tmp_path / "other")
    issuer = token_registry.issuer
    saved = issuer.sign
    issuer.sign = other.sign  # same claims, signed with a key outside the registry's bundle
    try:
        line = one_line_error(
            runcore(containerd, "pull", "--user", "alice:s3cret", ref, namespace=namespace)
        )
    finally:
        issuer.sign = saved
        other.stop()
    assert "invalid_token" in line and "authorization failed" in line


def _push_unique(registry, tmp_path, repo="test/unique:v1", **kw):
    archive, _ = reg.build_unique_archive(tmp_path / "unique.tar", **kw)
    registry.push(archive, "unique", repo)
    return archive, reg.image_blobs(archive), f"{registry.host}/{repo}"


def test_corrupted_blob(containerd, namespace, ctr_namespace, fresh_registry, tmp_path):
    archive, blobs, ref = _push_unique(fresh_registry, tmp_path)
    layer = blobs["layers"][1]
    path = fresh_registry.blob_path(layer)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    line = one_line_error(runcore(containerd, "pull", ref, namespace=namespace))
    assert layer in line and "digest" in line
    assert active_ingests(containerd, namespace) == []
    assert layer not in _content(containerd, namespace)
    c = containerd.ctr("images", "pull", ref, namespace=ctr_namespace, check=False)
    assert c.returncode != 0 and layer in c.stderr
    # nothing beyond what ctr keeps: both keep at most the manifest, config and intact layers
    assert _content(containerd, namespace) <= set(
        blobs["manifest"] + blobs["config"] + blobs["layers"][:1]
    )
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []


def test_failed_fetch_leaves_no_snapshots(containerd, namespace, fresh_registry, tmp_path):
    """The lower layers unpack while the upper ones download; when a later blob fails, the
    snapshots already committed are removed again: as after ctr's failed fetch, none."""
    archive, blobs, ref = _push_unique(fresh_registry, tmp_path, mib=4, layers=4)
    layer = blobs["layers"][-1]
    path = fresh_registry.blob_path(layer)
    data = bytearray(path.read_bytes())
    data[-200] ^= 0xFF
    path.write_bytes(bytes(data))
    # one blob at a time, in manifest order: the lower layers are committed (and applied)
    # well before the last one fails
    r = runcore(containerd, "pull", "--max-concurrent-downloads", "1", ref, namespace=namespace)
    assert layer in one_line_error(r)
    assert containerd.snapshots(namespace, "overlayfs") == []
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []


def test_truncated_blob(containerd, namespace, fresh_registry, tmp_path):
    archive, blobs, ref = _push_unique(fresh_registry, tmp_path)
    layer = blobs["layers"][0]
    path = fresh_registry.blob_path(layer)
    path.write_bytes(path.read_bytes()[:-100])
    line = one_line_error(runcore(containerd, "pull", ref, namespace=namespace))
    assert layer in line
    assert active_ingests(containerd, namespace) == []
    assert layer not in _content(containerd, namespace)


def test_deleted_blob(containerd, namespace, fresh_registry, tmp_path):
    archive, blobs, ref = _push_unique(fresh_registry, tmp_path)
    layer = blobs["layers"][0]
    os.remove(fresh_registry.blob_path(layer))
    line = one_line_error(runcore(containerd, "pull", ref, namespace=namespace))
    assert layer in line and "not found" in line
    assert active_ingests(containerd, namespace) == []


def _lease_ids(containerd, namespace):
    return containerd.lines("leases", "ls", "-q", namespace=namespace)


@pytest.mark.parametrize("kill_at", ["ingest", "early"])
def test_sigkill_then_rerun(
    containerd, namespace, ctr_namespace, fresh_registry, tmp_path, kill_at
):
    """SIGKILL mid-download (or right after start); the rerun completes, fetching what is missing."""
    archive, blobs, ref = _push_unique(fresh_registry, tmp_path, mib=24, layers=4)
    total = sum(os.path.getsize(fresh_registry.blob_path(d)) for d in blobs["layers"])
    from support.daemon import _clean_env

    argv = containerd.runcore_argv(
        "pull", "-q", "--max-concurrent-downloads", "1", ref, namespace=namespace
    )
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_clean_env()
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if kill_at == "early" or any(
                l.split()[0].startswith("layer-") and l.split()[1] not in ("0B", "0")
                for l in active_ingests(containerd, namespace)
            ):
                break  # a layer ingest holds bytes
            time.sleep(0.02)
        if kill_at == "early":
            time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    killed = proc.returncode == -signal.SIGKILL
    if kill_at == "ingest":
        assert killed, proc.stderr.read() if proc.stderr else ""
        assert active_ingests(containerd, namespace)  # what the rerun must resume
    left_leases = _lease_ids(containerd, namespace)
    log_mark = len(fresh_registry.access_log())
    r = runcore(containerd, "pull", "-q", ref, namespace=namespace)
    assert r.returncode == 0, r.stderr
    if kill_at == "ingest":
        log = fresh_registry.access_log()[log_mark:]
        assert (
            reg.served_bytes(fresh_registry, log_mark) < total
        )  # resumed or skipped, not refetched
        assert sum(1 for l in log if "/blobs/" in l) <= len(blobs["layers"]) + 1
    assert active_ingests(containerd, namespace) == []
    c = containerd.ctr("images", "pull", ref, namespace=ctr_namespace, check=False)
    assert c.returncode == 0, c.stderr
    assert listing(containerd, namespace) == listing(containerd, ctr_namespace)
    # what the killed pull left is what ctr leaves: its lease (24 h expiry); drop it
    assert _lease_ids(containerd, namespace) == left_leases
    for lease in left_leases:
        containerd.ctr("leases", "rm", lease, namespace=namespace)


def test_sigterm_mid_download_cleans_up(containerd, namespace, fresh_registry, tmp_path):
    """SIGTERM stops every running fetch, aborts its ingest and deletes the lease."""
    archive, blobs, ref = _push_unique(fresh_registry, tmp_path, mib=24, layers=4)
    from support.daemon import _clean_env

    proc = subprocess.Popen(
        containerd.runcore_argv("pull", "-q", ref, namespace=namespace),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(
            l.split()[0].startswith("layer-") and l.split()[1] not in ("0B", "0")
            for l in active_ingests(containerd, namespace)
        ):
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    start = time.monotonic()
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the pull finished before SIGTERM arrived")
    assert time.monotonic() - start < 20
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip() == "runcore: terminated by SIGTERM"
    assert active_ingests(containerd, namespace) == []
    assert _lease_ids(containerd, namespace) == []
