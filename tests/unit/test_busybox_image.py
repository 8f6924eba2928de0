"""Unit tests of the busybox test-image builder (runcore/testing/busybox_image.py)."""

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile

import pytest

from runcore.testing.busybox_image import (
    DEFAULT_NAME,
    GROUP,
    IMAGE_ENV,
    PASSWD,
    build_busybox_oci_archive,
    familiar_name,
    ref_object,
)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/bin/busybox"), reason="busybox-static not installed"
)


def _members(path):
    with tarfile.open(path) as tar:
        return {
            m.name: (m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()
        }


def _sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_oci_layout_digests_and_members(tmp_path):
    info = build_busybox_oci_archive(tmp_path / "a.tar")
    m = _members(info.path)
    assert json.loads(m["oci-layout"][1]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(m["index.json"][1])
    assert index["schemaVersion"] == 2
    (desc,) = index["manifests"]
    assert desc["digest"] == info.manifest_digest
    assert desc["annotations"] == {
        "io.containerd.image.name": DEFAULT_NAME,
        "org.opencontainers.image.ref.name": "latest",
    }
    # every blob's name is its digest
    for name, (ti, data) in m.items():
        if name.startswith("blobs/sha256/") and ti.isfile():
            assert _sha(data) == "sha256:" + name.rsplit("/", 1)[1]
    manifest_bytes = m["blobs/sha256/" + info.manifest_digest.split(":")[1]][1]
    assert len(manifest_bytes) == desc["size"]
    manifest = json.loads(manifest_bytes)
    assert manifest["config"]["digest"] == info.config_digest
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
    blob = m["blobs/sha256/" + layer["digest"].split(":")[1]][1]
    assert len(blob) == layer["size"]
    assert _sha(gzip.decompress(blob)) == info.diff_id
    config = json.loads(m["blobs/sha256/" + info.config_digest.split(":")[1]][1])
    assert config["rootfs"] == {"type": "layers", "diff_ids": [info.diff_id]}
    assert config["os"] == "linux" and config["architecture"]
    c = config["config"]
    assert c["Env"] == IMAGE_ENV
    assert c["Cmd"] == ["/bin/sh"] and "Entrypoint" not in c
    assert c["WorkingDir"] == "/work" and c["StopSignal"] == "SIGQUIT"
    assert c["Labels"]["org.example.label"] == "yes"
    assert "User" not in c


def test_layer_contents(tmp_path):
    info = build_busybox_oci_archive(tmp_path / "a.tar")
    m = _members(info.path)
    layer = gzip.decompress(m["blobs/sha256/" + info.layer_digest.split(":")[1]][1])
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        names = tar.getnames()
        assert names == sorted(names)
        members = {t.name: t for t in tar.getmembers()}
        for applet in [
            "sh",
            "echo",
            "cat",
            "id",
            "ls",
            "sleep",
            "true",
            "false",
            "env",
            "touch",
            "mkdir",
            "printf",
            "grep",
            "head",
            "wc",
            "dd",
            "ip",
            "hostname",
            "kill",
        ]:
            assert (
                members[f"bin/{applet}"].issym() and members[f"bin/{applet}"].linkname == "busybox"
            )
        assert members["bin/busybox"].isfile() and members["bin/busybox"].mode == 0o755
        assert members["bin/suidfile"].mode == 0o4755 and members["bin/suidfile"].uid == 0
        assert stat.S_IMODE(members["tmp"].mode) == 0o1777 or members["tmp"].mode == 0o1777
        assert (members["home/alice"].uid, members["home/alice"].gid) == (1000, 1001)
        assert members["work"].isdir()
        assert tar.extractfile("etc/passwd").read().decode() == PASSWD
        assert tar.extractfile("etc/group").read().decode() == GROUP
        assert all(t.mtime == members["bin"].mtime for t in tar.getmembers())
    assert "alice:x:1000:1001:" in PASSWD and "bob:x:1002:1002:" in PASSWD
    for line in [
        "root:x:0:",
        "alicegrp:x:1001:",
        "wheel:x:10:root,alice",
        "staff:x:50:alice",
        "audio:x:29:bob,root",
        "bob:x:1002:bob",
    ]:
        assert line + "\n" in GROUP


def test_deterministic(tmp_path):
    a = build_busybox_oci_archive(tmp_path / "a.tar")
    b = build_busybox_oci_archive(tmp_path / "b.tar")
    assert a.manifest_digest == b.manifest_digest
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_user_variant(tmp_path):
    plain = build_busybox_oci_archive(tmp_path / "a.tar")
    alice = build_busybox_oci_archive(
        tmp_path / "u.tar", user="alice", name="docker.io/library/rcbox:alice"
    )
    assert alice.config["config"]["User"] == "alice"
    assert alice.diff_id == plain.diff_id and alice.config_digest != plain.config_digest
    index = json.loads(_members(alice.path)["index.json"][1])
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "alice"


def test_docker_layout(tmp_path):
    info = build_busybox_oci_archive(tmp_path / "d.tar", layout="docker")
    m = _members(info.path)
    (entry,) = json.loads(m["manifest.json"][1])
    assert entry["RepoTags"] == ["rcbox:latest"]
    config = m[entry["Config"]][1]
    assert _sha(config) == info.config_digest
    (layer_path,) = entry["Layers"]
    assert _sha(m[layer_path][1]) == info.diff_id
    layer_id = layer_path.split("/")[0]
    assert m[f"{layer_id}/VERSION"][1] == b"1.0"
    assert json.loads(m["repositories"][1]) == {"rcbox": {"latest": layer_id}}


def test_bad_layout(tmp_path):
    with pytest.raises(ValueError):
        build_busybox_oci_archive(tmp_path / "x.tar", layout="zip")


@pytest.mark.parametrize(
    "name,familiar,obj",
    [
        ("docker.io/library/rcbox:latest", "rcbox:latest", "latest"),
        ("docker.io/me/box:1", "me/box:1", "1"),
        ("localhost:5000/box:v2", "localhost:5000/box:v2", "v2"),
        ("localhost:5000/box", "localhost:5000/box", ""),
        ("docker.io/library/rcbox@sha256:abc", "rcbox@sha256:abc", "@sha256:abc"),
    ],
)
def test_name_helpers(name, familiar, obj):
    assert familiar_name(name) == familiar
    assert ref_object(name) == obj
