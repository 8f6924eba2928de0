"""``runcore images`` against private containerd 1.7.24 and 1.6.20 daemons.

The parity tests import the same archive with ``runcore images import`` into the
test's namespace and with the daemon's own ``ctr images import`` into a second
namespace of the same daemon, force a garbage collection, and compare what
``ctr images ls``, ``ctr content ls`` (digest, size, labels) and ``ctr snapshots ls``
report in both.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from runcore.testing.daemon import Daemon, cleanup_namespace

pytestmark = pytest.mark.containerd

NAME = "docker.io/library/rcbox:latest"


# ----------------------------------------------------------------------------- archives


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _members(path: Path) -> List[Tuple[tarfile.TarInfo, Optional[bytes]]]:
    with tarfile.open(path) as tf:
        return [(m, tf.extractfile(m).read() if m.isreg() else None) for m in tf.getmembers()]


def _write(path: Path, members: List[Tuple[tarfile.TarInfo, Optional[bytes]]]) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            info = copy.copy(info)
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def rewrite_oci(src: Path, dst: Path, edit: Callable[[dict, Dict[str, bytes]], None]) -> Path:
    """Copy an OCI archive, letting ``edit(index, new_blobs)`` change index.json and add blobs."""
    members = _members(src)
    index = json.loads(next(d for m, d in members if m.name == "index.json"))
    blobs: Dict[str, bytes] = {}
    edit(index, blobs)
    out = []
    for m, d in members:
        if m.name == "index.json":
            d = json.dumps(index).encode()
        out.append((m, d))
    for digest, data in blobs.items():
        info = tarfile.TarInfo(f"blobs/sha256/{digest[7:]}")
        info.mtime, info.mode = 1704067200, 0o644
        out.append((info, data))
    return _write(dst, out)


def blob_of(src: Path, digest: str) -> bytes:
    return next(d for m, d in _members(src) if m.name == f"blobs/sha256/{digest[7:]}")


def tag_only(archive, tmp: Path) -> Path:
    """The busybox archive whose index entry has only an OCI ref name (``v1``)."""

    def edit(index, _):
        index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": "v1"}

    return rewrite_oci(archive.path, tmp / "tagonly.tar", edit)


def multi_platform(archive, tmp: Path) -> Path:
    """An index with an arm64 manifest (a copy of the amd64 one) before the amd64 one."""
    manifest = json.loads(blob_of(archive.path, archive.manifest_digest))
    manifest["annotations"] = {"org.example.copy": "arm64"}
    arm = json.dumps(manifest).encode()

    def edit(index, blobs):
        amd = index["manifests"][0]
        amd["platform"] = {"architecture": "amd64", "os": "linux"}
        blobs[_sha(arm)] = arm
        index["manifests"] = [
            {
                "mediaType": amd["mediaType"],
                "digest": _sha(arm),
                "size": len(arm),
                "annotations": {
                    "io.containerd.image.name": "docker.io/library/rcbox:arm",
                    "org.opencontainers.image.ref.name": "arm",
                },
                "platform": {"architecture": "arm64", "os": "linux"},
            },
            amd,
        ]

    return rewrite_oci(archive.path, tmp / "multi.tar", edit)


# ----------------------------------------------------------------------------- state


def content(daemon: Daemon, ns: str) -> List[Tuple[str, str, Dict[str, str]]]:
    rows = []
    for line in daemon.lines("content", "ls", namespace=ns)[1:]:
        fields = [f for f in line.split("\t") if f]
        labels = {} if fields[-1] == "-" else dict(kv.split("=", 1) for kv in fields[-1].split(","))
        rows.append((fields[0], fields[1], labels))
    return sorted(rows)


def state(daemon: Daemon, ns: str) -> dict:
    return {
        "images": sorted(l.split() for l in daemon.lines("images", "ls", namespace=ns)[1:]),
        "content": content(daemon, ns),
        "snapshots": sorted(daemon.snapshots(ns, "overlayfs")),
        "leases": daemon.lines("leases", "ls", "-q", namespace=ns),
    }


@pytest.fixture
def ctr_namespace(containerd: Daemon, namespace: str):
    """A second namespace on the same daemon for ``ctr``'s side of a comparison."""
    other = namespace + "-ctr"
    yield other
    cleanup_namespace(containerd, other)


def compare_with_ctr(
    daemon: Daemon,
    ns: str,
    ctr_ns: str,
    path: Path,
    *flags: str,
    expect_images: Optional[List[str]] = None,
) -> dict:
    daemon.runcore("images", "import", *flags, str(path), namespace=ns)
    # The daemon's own ctr: 1.6.20 for the 1.6 daemon, 1.7.24 for the 1.7 one.
    daemon.ctr_own("images", "import", *flags, str(path), namespace=ctr_ns)
    daemon.force_gc(ns)
    ours, theirs = state(daemon, ns), state(daemon, ctr_ns)
    assert ours == theirs
    assert ours["leases"] == []
    if expect_images is not None:
        assert [row[0] for row in ours["images"]] == sorted(expect_images)
    return ours


# ----------------------------------------------------------------------------- parity


@pytest.mark.parametrize("layout", ["oci", "docker"])
def test_import_matches_ctr(containerd, namespace, ctr_namespace, busybox_archives, layout):
    archive = busybox_archives(layout=layout)
    ours = compare_with_ctr(
        containerd, namespace, ctr_namespace, archive.path, expect_images=[NAME]
    )
    assert ours["snapshots"] == [(archive.chain_id, "", "Committed")]
    labels = {digest: lab for digest, _, lab in ours["content"]}
    assert labels[archive.config_digest] == {
        "containerd.io/gc.ref.snapshot.overlayfs": archive.chain_id
    }


def test_import_index_name_matches_ctr(containerd, namespace, ctr_namespace, busybox_archives):
    archive = busybox_archives()
    ours = compare_with_ctr(
        containerd,
        namespace,
        ctr_namespace,
        archive.path,
        "--index-name",
        "rc/idx:1",
        expect_images=[NAME, "rc/idx:1"],
    )
    index_row = next(r for r in ours["images"] if r[0] == "rc/idx:1")
    assert index_row[1] == "application/vnd.oci.image.index.v1+json"


@pytest.mark.parametrize("base", [None, "example.com/rc/box"])
def test_import_tag_only_names_match_ctr(
    containerd, namespace, ctr_namespace, busybox_archives, tmp_path, base
):
    path = tag_only(busybox_archives(), tmp_path)
    flags = ["--base-name", base] if base else []
    ours = compare_with_ctr(containerd, namespace, ctr_namespace, path, *flags)
    (name,) = [row[0] for row in ours["images"]]
    if base:
        assert name == f"{base}:v1"
    else:
        assert name.startswith("import-") and name.endswith(":v1")


@pytest.mark.parametrize(
    "flags", [[], ["--all-platforms"], ["--no-unpack"]], ids=["default", "all", "nounpack"]
)
def test_import_multi_platform_matches_ctr(
    containerd, namespace, ctr_namespace, busybox_archives, tmp_path, flags
):
    path = multi_platform(busybox_archives(), tmp_path)
    ours = compare_with_ctr(
        containerd,
        namespace,
        ctr_namespace,
        path,
        *flags,
        expect_images=[NAME, "docker.io/library/rcbox:arm"],
    )
    if "--no-unpack" in flags:
        assert ours["snapshots"] == []


def test_import_from_stdin(containerd, namespace, busybox_archives):
    archive = busybox_archives(layout="docker")
    r = containerd.runcore(
        "images", "import", "-", namespace=namespace, input=archive.path.read_bytes()
    )
    assert f"unpacking {NAME} (".encode() in r.stdout
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == [NAME]
    assert (archive.chain_id, "", "Committed") in containerd.snapshots(namespace)


def test_reimport_updates_and_is_idempotent(containerd, namespace, busybox_archives):
    archive = busybox_archives()
    containerd.runcore("images", "import", str(archive.path), namespace=namespace)
    containerd.force_gc(namespace)
    before = state(containerd, namespace)
    containerd.runcore("images", "import", str(archive.path), namespace=namespace)
    containerd.force_gc(namespace)
    assert state(containerd, namespace) == before


# ----------------------------------------------------------------------------- errors


def _truncated(archive, tmp: Path) -> Path:
    data = archive.path.read_bytes()
    layer = next(m for m, _ in _members(archive.path) if m.name.endswith(archive.layer_digest[7:]))
    cut = layer.offset_data + layer.size // 2  # in the middle of the layer blob
    p = tmp / "truncated.tar"
    p.write_bytes(data[:cut])
    return p


def _bad_digest(archive, tmp: Path) -> Path:
    members = []
    for m, d in _members(archive.path):
        if d is not None and m.name.endswith(archive.config_digest[7:]):
            d = d.replace(b'"os":"linux"', b'"os":"LINUX"')
        members.append((m, d))
    return _write(tmp / "bad-digest.tar", members)


def _missing_layer(archive, tmp: Path) -> Path:
    members = [
        (m, d) for m, d in _members(archive.path) if not m.name.endswith(archive.layer_digest[7:])
    ]
    return _write(tmp / "missing-layer.tar", members)


def _not_an_archive(archive, tmp: Path) -> Path:
    p = tmp / "garbage.tar"
    p.write_bytes(b"this is not a tar archive\n" * 100)
    return p


@pytest.mark.parametrize(
    "make, message",
    [
        (_truncated, "truncated"),
        (_bad_digest, "does not match its digest"),
        (_missing_layer, "is missing from the archive"),
        (_not_an_archive, "archive"),
    ],
    ids=["truncated", "bad-digest", "missing-layer", "garbage"],
)
def test_import_errors_leave_no_image(
    containerd, namespace, busybox_archives, tmp_path, make, message
):
    path = make(busybox_archives(), tmp_path)
    r = containerd.runcore("images", "import", str(path), namespace=namespace, check=False)
    assert r.returncode == 1, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("runcore: ") and message in lines[0], r.stderr
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []
    assert containerd.lines("leases", "ls", "-q", namespace=namespace) == []
    # the no-leak check of the `namespace` fixture also finds no active snapshot


def test_unreachable_daemon_is_one_line(tmp_path):
    import subprocess
    import sys

    sock = tmp_path / "none.sock"
    r = subprocess.run(
        [sys.executable, "-m", "runcore", "--address", str(sock), "images", "ls"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert r.stderr.strip() == (
        f"runcore: cannot connect to containerd at {sock}: no such socket "
        "(is containerd running? start it with 'containerd' or 'systemctl start containerd')"
    )


# ----------------------------------------------------------------------------- ls / rm


def test_ls_and_rm(containerd, namespace, busybox_archives):
    archive = busybox_archives()
    containerd.runcore(
        "images", "import", "--index-name", "idx", str(archive.path), namespace=namespace
    )
    ours = [
        l.split()
        for l in containerd.runcore("images", "ls", namespace=namespace).stdout.splitlines()
    ]
    theirs = [l.split() for l in containerd.lines("images", "ls", namespace=namespace)]
    assert ours == theirs
    assert containerd.runcore("images", "ls", "-q", namespace=namespace).stdout.split() == [
        "docker.io/library/rcbox:latest",
        "idx",
    ]
    rows = json.loads(containerd.runcore("images", "ls", "--json", namespace=namespace).stdout)
    assert rows[0]["digest"] == archive.manifest_digest and rows[0]["platforms"] == ["linux/amd64"]
    r = containerd.runcore("images", "rm", "idx", "nothere", namespace=namespace)
    assert r.stdout.split() == ["idx"] and "nothere: image not found" in r.stderr
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == [NAME]
    containerd.runcore("images", "rm", "--sync", NAME, namespace=namespace)
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []


# ----------------------------------------------------------------------------- API


def test_resolve_and_ensure_unpacked(containerd, namespace, ctr_namespace, busybox_archives):
    from runcore import errors
    from runcore.containerd import Client
    from runcore.images import ensure_unpacked, is_unpacked, resolve_image

    archive = busybox_archives()
    containerd.runcore("images", "import", "--no-unpack", str(archive.path), namespace=namespace)
    containerd.ctr_own("images", "import", str(archive.path), namespace=ctr_namespace)
    client = Client.connect(containerd.address, namespace, timeout=120)
    try:
        with pytest.raises(errors.NotFound) as info:
            resolve_image(client, "nope:latest")
        assert str(info.value) == 'image "nope:latest": not found'
        image = resolve_image(client, NAME)
        assert image.chain_id == archive.chain_id
        assert image.diff_ids == [archive.diff_id]
        assert image.manifest_desc["digest"] == archive.manifest_digest
        assert image.config_desc["digest"] == archive.config_digest
        assert image.config["config"]["StopSignal"] == "SIGQUIT"
        assert image.config_media_type == "application/vnd.oci.image.config.v1+json"
        assert not is_unpacked(client, image)
        assert ensure_unpacked(client, image) is True
        assert ensure_unpacked(client, image) is False
        assert client.current_lease is None
    finally:
        client.close()
    containerd.force_gc(namespace)
    ours, theirs = state(containerd, namespace), state(containerd, ctr_namespace)
    assert ours == theirs


def test_unpack_other_snapshotter(containerd, namespace, busybox_archives):
    archive = busybox_archives()
    containerd.runcore(
        "images", "import", "--snapshotter", "native", str(archive.path), namespace=namespace
    )
    assert containerd.snapshots(namespace, "native") == [(archive.chain_id, "", "Committed")]
    assert containerd.snapshots(namespace, "overlayfs") == []
    labels = {d: lab for d, _, lab in content(containerd, namespace)}
    assert labels[archive.config_digest] == {
        "containerd.io/gc.ref.snapshot.native": archive.chain_id
    }
