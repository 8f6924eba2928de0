"""ctr is the oracle: ``runcore pull`` and ``ctr images pull`` of the same reference into two
namespaces leave identical image records, content (digests, sizes, labels) and snapshots."""

import pytest

from pull_support import listing, runcore
from support import registry as reg


def _both(containerd, namespace, ctr_namespace, ref, rc_args=(), ctr_args=(), env=None):
    # runcore first: its fetch is the cold one (content is shared between namespaces)
    r = runcore(containerd, "pull", *rc_args, ref, namespace=namespace, env=env)
    assert r.returncode == 0, r.stderr
    c = containerd.ctr("images", "pull", *ctr_args, ref, namespace=ctr_namespace, check=False)
    assert c.returncode == 0, c.stderr
    return r


def _same(containerd, namespace, ctr_namespace):
    mine, theirs = listing(containerd, namespace), listing(containerd, ctr_namespace)
    for key in mine:
        only_mine = sorted(set(mine[key]) - set(theirs[key]))
        only_theirs = sorted(set(theirs[key]) - set(mine[key]))
        assert (only_mine, only_theirs) == ([], []), key
    assert any("distribution.source" in row for row in mine["content ls"])
    return mine


@pytest.mark.parametrize(
    "repo", ["test/single:v1", "test/multi:v1", "test/docker:v1", "test/docker-single:v1"]
)
def test_plain_http_pull_matches_ctr(containerd, namespace, ctr_namespace, plain_registry, repo):
    ref = f"{plain_registry.host}/{repo}"
    out = _both(containerd, namespace, ctr_namespace, ref)
    rows = _same(containerd, namespace, ctr_namespace)
    assert [row.split()[0] for row in rows["images ls"]] == sorted([ref, "REF"])
    assert len(rows["snapshots --snapshotter overlayfs ls"]) >= 2  # header + chain
    assert "unpacking linux/amd64" in out.stdout


def test_requests_in_ctr_order(containerd, namespace, plain_registry):
    ref = f"{plain_registry.host}/test/multi:v1"
    before = len(plain_registry.access_log())
    r = runcore(containerd, "pull", "--quiet", ref, namespace=namespace)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    log = plain_registry.access_log()[before:]
    assert log[0] == "HEAD /v2/test/multi/manifests/v1"  # no /v2/ ping
    assert "GET /v2/" not in log
    assert log[1].startswith("GET /v2/test/multi/manifests/sha256:")
    # again: only the resolve, nothing fetched
    before = len(plain_registry.access_log())
    assert runcore(containerd, "pull", "-q", ref, namespace=namespace).returncode == 0
    assert plain_registry.access_log()[before:] == ["HEAD /v2/test/multi/manifests/v1"]


@pytest.mark.parametrize(
    "flags",
    [
        ["--platform", "linux/arm64"],
        ["--all-platforms"],
        ["--platform", "linux/amd64", "--platform", "linux/arm64/v8"],
    ],
    ids=["arm64", "all", "two"],
)
def test_platforms_match_ctr(containerd, namespace, ctr_namespace, plain_registry, flags):
    # (the oracle is ctr 1.7.24 on both daemons: --all-platforms skips unknown/unknown)
    ref = f"{plain_registry.host}/test/multi:v1"
    _both(containerd, namespace, ctr_namespace, ref, flags, flags)
    _same(containerd, namespace, ctr_namespace)


def test_no_unpack_and_labels_match_ctr(containerd, namespace, ctr_namespace, plain_registry):
    ref = f"{plain_registry.host}/test/single:v1"
    # ctr has no flag to skip the unpack: compare the image records, and no snapshots here
    _both(
        containerd,
        namespace,
        ctr_namespace,
        ref,
        ["--no-unpack", "--label", "a=b"],
        ["--label", "a=b"],
    )
    mine, theirs = listing(containerd, namespace), listing(containerd, ctr_namespace)
    assert mine["images ls"] == theirs["images ls"]
    assert mine["snapshots --snapshotter overlayfs ls"] == ["KEY PARENT KIND"]


def _manifest_digest(registry, repo, tag):
    import urllib.request

    req = urllib.request.Request(
        f"http://{registry.host}/v2/{repo}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(req) as resp:
        return resp.headers["Docker-Content-Digest"]


def test_digest_reference_matches_ctr(containerd, namespace, ctr_namespace, plain_registry):
    digest = _manifest_digest(plain_registry, "test/single", "v1")
    for name in (
        f"{plain_registry.host}/test/single@{digest}",
        f"{plain_registry.host}/test/single:v1@{digest}",
    ):
        _both(containerd, namespace, ctr_namespace, name)
    rows = _same(containerd, namespace, ctr_namespace)
    assert f"{plain_registry.host}/test/single:v1@{digest}" in " ".join(rows["images ls"])


def test_tls_basic_auth_matches_ctr(containerd, namespace, ctr_namespace, tls_registry, tmp_path):
    hosts = reg.hosts_dir_for(
        tmp_path / "certs.d",
        tls_registry.host,
        f"https://{tls_registry.host}",
        ca=tls_registry.ca.ca_crt,
    )
    ref = f"{tls_registry.host}/test/single:v1"
    user = f"{reg.USER}:{reg.PASSWORD}"
    _both(
        containerd,
        namespace,
        ctr_namespace,
        ref,
        ["--hosts-dir", str(hosts), "--user", user],
        ["--hosts-dir", str(hosts), "--user", user],
    )
    _same(containerd, namespace, ctr_namespace)


def test_token_auth_matches_ctr(containerd, namespace, ctr_namespace, token_registry):
    ref = f"{token_registry.host}/test/single:v1"
    user = f"{reg.USER}:{reg.PASSWORD}"
    start = len(token_registry.issuer.requests)
    _both(containerd, namespace, ctr_namespace, ref, ["--user", user], ["--user", user])
    _same(containerd, namespace, ctr_namespace)
    mine = token_registry.issuer.requests[start]
    assert mine[0] == "POST"  # OAuth first, as ctr; the issuer's 404 sends us to GET + Basic
    assert any(
        m == "GET" and a.startswith("Basic ") for m, _, a in token_registry.issuer.requests[start:]
    )


def test_docker_io_through_hosts_toml_mirror(
    containerd, namespace, ctr_namespace, plain_registry, tmp_path
):
    hosts = reg.hosts_dir_for(tmp_path / "certs.d", "docker.io", f"http://{plain_registry.host}")
    r = runcore(
        containerd, "pull", "busybox", namespace=namespace, env={"RUNCORE_HOSTS_DIR": str(hosts)}
    )
    assert r.returncode == 0, r.stderr
    assert "docker.io/library/busybox:latest" in r.stdout
    c = containerd.ctr(
        "images",
        "pull",
        "--hosts-dir",
        str(hosts),
        "docker.io/library/busybox:latest",
        namespace=ctr_namespace,
        check=False,
    )
    assert c.returncode == 0, c.stderr
    rows = _same(containerd, namespace, ctr_namespace)
    assert any(
        "containerd.io/distribution.source.docker.io=library/busybox" in row
        for row in rows["content ls"]
    )
    log = plain_registry.access_log()
    assert "HEAD /v2/library/busybox/manifests/latest?ns=docker.io" in log


def test_native_snapshotter_matches_ctr(containerd, namespace, ctr_namespace, plain_registry):
    ref = f"{plain_registry.host}/test/multi:v1"
    _both(
        containerd,
        namespace,
        ctr_namespace,
        ref,
        ["--snapshotter", "native"],
        ["--snapshotter", "native"],
    )
    mine, theirs = (
        listing(containerd, namespace, "native"),
        listing(containerd, ctr_namespace, "native"),
    )
    assert mine == theirs
    assert len(mine["snapshots --snapshotter native ls"]) == 3  # header + two layers


def test_skip_verify_matches_ctr(containerd, namespace, ctr_namespace, tls_registry, tmp_path):
    hosts = reg.hosts_dir_for(
        tmp_path / "certs.d", tls_registry.host, f"https://{tls_registry.host}"
    )
    ref = f"{tls_registry.host}/test/single:v1"
    user = f"{reg.USER}:{reg.PASSWORD}"
    r = runcore(
        containerd, "pull", "--hosts-dir", str(hosts), "--user", user, ref, namespace=namespace
    )
    assert r.returncode != 0 and "certificate verify failed" in r.stderr
    _both(
        containerd,
        namespace,
        ctr_namespace,
        ref,
        ["--hosts-dir", str(hosts), "--user", user, "-k"],
        ["--hosts-dir", str(hosts), "--user", user, "--skip-verify"],
    )
    _same(containerd, namespace, ctr_namespace)


def test_client_certificate_matches_ctr(containerd, namespace, ctr_namespace, archives, tmp_path):
    registry = reg.Registry("tls", client_certs=True).start()
    try:
        registry.push(archives["single"], "single", "test/single:v1")
        cert, key = registry.client_cert
        hosts = reg.hosts_dir_for(
            tmp_path / "certs.d",
            registry.host,
            f"https://{registry.host}",
            ca=registry.ca.ca_crt,
            extra=f'  client = [["{cert}", "{key}"]]\n',
        )
        ref = f"{registry.host}/test/single:v1"
        user = f"{reg.USER}:{reg.PASSWORD}"
        _both(
            containerd,
            namespace,
            ctr_namespace,
            ref,
            ["--hosts-dir", str(hosts), "--user", user],
            ["--hosts-dir", str(hosts), "--user", user],
        )
        _same(containerd, namespace, ctr_namespace)
        # without the client certificate the TLS handshake is refused: one line
        plain = reg.hosts_dir_for(
            tmp_path / "no-client", registry.host, f"https://{registry.host}", ca=registry.ca.ca_crt
        )
        r = runcore(
            containerd,
            "pull",
            "--hosts-dir",
            str(plain),
            "--user",
            user,
            ref,
            namespace=namespace + "-x",
        )
        assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, r.stderr
        containerd.ctr("namespaces", "rm", namespace + "-x", check=False)
    finally:
        registry.stop()


def test_big_image_matches_ctr(containerd, namespace, ctr_namespace, big_ref):
    """>= 200 MiB in 7 layers: fetched concurrently, unpacked, stored as ctr stores it."""
    r = _both(containerd, namespace, ctr_namespace, big_ref)
    rows = _same(containerd, namespace, ctr_namespace)
    assert len(rows["snapshots --snapshotter overlayfs ls"]) == 8  # header + 7 layers
    image_row = [row for row in rows["images ls"] if row.startswith(big_ref)][0].split()
    assert image_row[4] == "MiB" and float(image_row[3]) >= 200, image_row  # SIZE column
    assert r.stdout.count(": done ") >= 7  # every layer fetched by runcore (cold)


def test_repull_writes_nothing_that_is_already_so(containerd, namespace, plain_registry):
    """A no-op pull stores what ctr's stores without rewriting it: every blob's labels, the
    record and the snapshots keep their ``updated`` time; a new --label still replaces the
    record's labels (as ctr's whole-record update does)."""
    from runcore.containerd.client import Client

    ref = f"{plain_registry.host}/test/single:v1"
    assert (
        runcore(containerd, "pull", "-q", "--label", "a=b", ref, namespace=namespace).returncode
        == 0
    )

    def state(client):
        content = {
            i.digest: (dict(i.labels), i.updated_at.ToNanoseconds())
            for r in client.content.List()
            for i in r.info
        }
        image = client.images.Get(name=ref).image
        snaps = {
            i.name: i.updated_at.ToNanoseconds()
            for r in client.snapshots.List(snapshotter="overlayfs")
            for i in r.info
        }
        return content, (dict(image.labels), image.updated_at.ToNanoseconds()), snaps

    client = Client.connect(containerd.address, namespace)
    try:
        before = state(client)
        assert len(before[0]) >= 3 and before[2]
        r = runcore(containerd, "pull", "-q", "--label", "a=b", ref, namespace=namespace)
        assert r.returncode == 0, r.stderr
        assert state(client) == before
        r = runcore(containerd, "pull", "-q", "--label", "c=d", ref, namespace=namespace)
        assert r.returncode == 0, r.stderr
        after = state(client)
        assert after[1][0] == {"c": "d"} and after[1][1] > before[1][1]
        assert after[0] == before[0] and after[2] == before[2]
    finally:
        client.close()


def test_unpack_after_the_walk_when_early_resolution_fails(
    containerd, namespace, ctr_namespace, plain_registry, monkeypatch
):
    """The unpack that runs while the layers download resolves the image from what the walk
    committed so far; when that fails (a document it needs is not there yet), the image is
    unpacked after the walk as before, and stores what ctr stores."""
    from runcore.api import NotFound
    from runcore.containerd.client import Client
    from runcore_pull import names, pull
    from runcore_pull.progress import Reporter

    calls = []
    real = pull.inspect_image

    def inspect_once_missing(*args, **kwargs):
        calls.append(args[2]["digest"])
        if len(calls) == 1:
            raise NotFound("content digest sha256:…: not found")
        return real(*args, **kwargs)

    monkeypatch.setattr(pull, "inspect_image", inspect_once_missing)
    ref = f"{plain_registry.host}/test/multi:v1"
    client = Client.connect(containerd.address, namespace)
    try:
        result = pull.Puller(
            client, names.parse(ref), pull.PullOptions(), Reporter(), lambda _h: None
        ).run()
    finally:
        client.close()
    assert len(calls) == 2  # the early one failed, the one after the walk unpacked
    assert result.name == ref
    c = containerd.ctr("images", "pull", ref, namespace=ctr_namespace, check=False)
    assert c.returncode == 0, c.stderr
    _same(containerd, namespace, ctr_namespace)
