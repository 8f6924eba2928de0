"""Archive reading, naming and content walking of runcore.images (no containerd needed)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time

import pytest

from runcore import errors
from runcore.images import mediatypes as mt
from runcore.images.archive import read_archive
from runcore.images.importer import ImportOptions, check_complete, default_base_name, name_images
from runcore.images.manifests import (
    NoMatchingManifest,
    image_size,
    platforms_column,
    resolve_manifest,
)
from runcore.images.platforms import ALL, Platform, only, only_strict, parse
from runcore.images.store import MemoryStore
from runcore.images.unpack import inspect_image


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_tar(members: list[tuple[str, bytes | None, str | None]]) -> bytes:
    """members: (name, data or None for a dir, symlink target or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, link in members:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tf.addfile(info)
            elif data is None:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Image:
    """A one-layer test image: blobs plus the JSON documents describing them."""

    def __init__(self, arch: str = "amd64", text: bytes = b"hello"):
        self.layer_raw = layer_tar({"hello.txt": text})
        self.layer_gz = gzip.compress(self.layer_raw, mtime=0)
        self.diff_id = sha(self.layer_raw)
        self.config = json.dumps(
            {
                "architecture": arch,
                "os": "linux",
                "config": {"Cmd": ["/hello"]},
                "rootfs": {"type": "layers", "diff_ids": [self.diff_id]},
            }
        ).encode()
        self.manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {
                    "mediaType": mt.OCI_CONFIG,
                    "digest": sha(self.config),
                    "size": len(self.config),
                },
                "layers": [
                    {
                        "mediaType": mt.OCI_LAYER_GZIP,
                        "digest": sha(self.layer_gz),
                        "size": len(self.layer_gz),
                    }
                ],
            }
        ).encode()

    def blobs(self) -> dict[str, bytes]:
        return {sha(b): b for b in (self.layer_gz, self.config, self.manifest)}

    def entry(self, annotations=None, platform=None) -> dict:
        d = {"mediaType": mt.OCI_MANIFEST, "digest": sha(self.manifest), "size": len(self.manifest)}
        if annotations:
            d["annotations"] = annotations
        if platform:
            d["platform"] = platform
        return d


def oci_archive(
    entries: list[dict], blobs: dict[str, bytes], *, skip=(), tamper=None, layout="1.0.0"
) -> bytes:
    index = json.dumps({"schemaVersion": 2, "manifests": entries}).encode()
    members = [
        ("oci-layout", json.dumps({"imageLayoutVersion": layout}).encode(), None),
        ("index.json", index, None),
        ("blobs", None, None),
        ("blobs/sha256", None, None),
    ]
    for digest, data in blobs.items():
        if digest in skip:
            continue
        if tamper and digest == tamper:
            data = data[:-1] + bytes([data[-1] ^ 1])
        members.append((f"blobs/sha256/{digest[7:]}", data, None))
    return make_tar(members)


# ----------------------------------------------------------------------------- OCI layout


def test_oci_layout_stores_every_file_and_returns_index():
    img = Image()
    data = oci_archive([img.entry({"org.opencontainers.image.ref.name": "latest"})], img.blobs())
    store = MemoryStore()
    contents = read_archive(io.BytesIO(data), store)
    assert contents.layout == "oci"
    index = contents.index
    assert index["mediaType"] == mt.OCI_INDEX
    assert store.read(index["digest"]).startswith(b'{"schemaVersion"')
    for digest, blob in img.blobs().items():
        assert store.read(digest) == blob
    assert sorted(store.refs) == sorted(
        ["tar-index.json"] + [f"tar-blobs/sha256/{d[7:]}" for d in img.blobs()]
    )


def test_truncated_archive():
    import random

    img = Image(text=random.Random(1).randbytes(200_000))
    data = oci_archive([img.entry()], img.blobs())
    with pytest.raises(errors.ImageError, match="truncated"):
        read_archive(io.BytesIO(data[: len(data) // 2]), MemoryStore(), name="t.tar")


def test_blob_not_matching_its_name():
    img = Image()
    data = oci_archive([img.entry()], img.blobs(), tamper=sha(img.config))
    with pytest.raises(errors.ImageError, match="does not match its digest") as info:
        read_archive(io.BytesIO(data), MemoryStore(), name="t.tar")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("t.tar: blobs/sha256/")


def test_unknown_format_and_layout_version():
    with pytest.raises(errors.ImageError, match="unrecognized image format"):
        read_archive(io.BytesIO(make_tar([("hello", b"x", None)])), MemoryStore())
    img = Image()
    with pytest.raises(errors.ImageError, match="unsupported OCI version 2.0.0"):
        read_archive(
            io.BytesIO(oci_archive([img.entry()], img.blobs(), layout="2.0.0")), MemoryStore()
        )
    no_index = make_tar([("oci-layout", b'{"imageLayoutVersion":"1.0.0"}', None)])
    with pytest.raises(errors.ImageError, match="missing index.json"):
        read_archive(io.BytesIO(no_index), MemoryStore())
    with pytest.raises(
        errors.ImageError, match='^untar oci layout "oci-layout": unexpected end of JSON input$'
    ):
        read_archive(io.BytesIO(make_tar([("oci-layout", b"{", None)])), MemoryStore())


# ----------------------------------------------------------------------------- docker save


def docker_archive(layer: bytes, config: bytes, tags: list[str], *, symlink=False) -> bytes:
    cfg_name = sha(config)[7:] + ".json"
    layer_dir = "a" * 64
    members = [(layer_dir, None, None)]
    if symlink:
        members += [
            ("b" * 64, None, None),
            (f"{'b' * 64}/layer.tar", layer, None),
            (f"{layer_dir}/layer.tar", None, f"../{'b' * 64}/layer.tar"),
        ]
    else:
        members.append((f"{layer_dir}/layer.tar", layer, None))
    members += [(f"{layer_dir}/VERSION", b"1.0", None), (cfg_name, config, None)]
    manifest = [{"Config": cfg_name, "RepoTags": tags, "Layers": [f"{layer_dir}/layer.tar"]}]
    members.append(("manifest.json", json.dumps(manifest).encode(), None))
    return make_tar(members)


def test_docker_archive_is_converted_like_containerd():
    img = Image()
    store = MemoryStore()
    data = docker_archive(img.layer_raw, img.config, ["hello:1.0"])
    contents = read_archive(io.BytesIO(data), store)
    assert contents.layout == "docker"
    manifest = (
        '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        f'"config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{sha(img.config)}","size":{len(img.config)}}},'
        f'"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"{img.diff_id}","size":{len(img.layer_raw)}}}]}}'
    ).encode()
    index = (
        '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        f'"digest":"{sha(manifest)}","size":{len(manifest)},'
        '"annotations":{"io.containerd.image.name":"docker.io/library/hello:1.0","org.opencontainers.image.ref.name":"1.0"},'
        '"platform":{"architecture":"amd64","os":"linux"}}]}'
    ).encode()
    assert contents.index == {"mediaType": mt.OCI_INDEX, "digest": sha(index), "size": len(index)}
    assert store.read(sha(manifest)) == manifest
    assert store.read(sha(index)) == index
    assert "tar-" + "a" * 64 + "/VERSION" in store.refs  # every file is stored, as ctr does


def test_docker_archive_gzip_layer_symlink_and_known_compressed_form():
    img = Image()
    store = MemoryStore()
    contents = read_archive(
        io.BytesIO(docker_archive(img.layer_gz, img.config, [], symlink=True)), store
    )
    index = json.loads(store.read(contents.index["digest"]))
    entry = index["manifests"][0]
    assert "annotations" not in entry
    manifest = json.loads(store.read(entry["digest"]))
    assert manifest["layers"][0]["mediaType"] == mt.DOCKER_LAYER_GZIP

    # An uncompressed layer whose compressed form is known (label
    # containerd.io/uncompressed) is replaced by that blob.
    store = MemoryStore()
    store.put("x", img.layer_gz, sha(img.layer_gz))
    store.set_labels(sha(img.layer_gz), {mt.LABEL_UNCOMPRESSED: img.diff_id})
    contents = read_archive(io.BytesIO(docker_archive(img.layer_raw, img.config, ["a/b:c"])), store)
    index = json.loads(store.read(contents.index["digest"]))
    manifest = json.loads(store.read(index["manifests"][0]["digest"]))
    assert manifest["layers"] == [
        {"mediaType": mt.DOCKER_LAYER_GZIP, "digest": sha(img.layer_gz), "size": len(img.layer_gz)}
    ]
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == "docker.io/a/b:c"


def test_docker_archive_errors():
    img = Image()
    bad = make_tar([("manifest.json", b'[{"Config":"nope.json","Layers":[]}]', None)])
    with pytest.raises(errors.ImageError, match='image config "nope.json" not found'):
        read_archive(io.BytesIO(bad), MemoryStore())
    cfg = sha(img.config)[7:] + ".json"
    bad = make_tar(
        [
            (cfg, img.config, None),
            (
                "manifest.json",
                json.dumps([{"Config": cfg, "Layers": ["x/layer.tar"]}]).encode(),
                None,
            ),
        ]
    )
    with pytest.raises(errors.ImageError, match='layer "x/layer.tar" not found'):
        read_archive(io.BytesIO(bad), MemoryStore())


# ----------------------------------------------------------------------------- naming, labels


def imported(entries, blobs, **opts):
    store = MemoryStore()
    contents = read_archive(io.BytesIO(oci_archive(entries, blobs)), store)
    names = name_images(store, contents.index, ImportOptions(**opts))
    return store, contents.index, names


def test_names_from_annotations_and_base_name():
    img = Image()
    full = {
        "io.containerd.image.name": "docker.io/library/x:1",
        "org.opencontainers.image.ref.name": "1",
    }
    tag_only = {"org.opencontainers.image.ref.name": "latest"}
    other = {"org.opencontainers.image.ref.name": "quay.io/a/b:2"}
    entries = [img.entry(full), img.entry(tag_only), img.entry(other), img.entry()]
    _, index, names = imported(entries, img.blobs())
    today = default_base_name()
    assert [n for n, _ in names] == ["docker.io/library/x:1", f"{today}:latest", "quay.io/a/b:2"]
    _, _, names = imported(entries, img.blobs(), base_name="foo/bar", index_name="idx")
    assert [n for n, _ in names] == ["idx", "docker.io/library/x:1", "foo/bar:latest"]
    assert names[0][1] == index
    _, _, names = imported(entries, img.blobs(), base_name="quay.io/a/b")
    assert [n for n, _ in names] == ["docker.io/library/x:1", "quay.io/a/b:latest", "quay.io/a/b:2"]
    _, _, names = imported([img.entry(tag_only)], img.blobs(), base_name="r", digests=True)
    assert [n for n, _ in names] == ["r:latest", f"r@{sha(img.manifest)}"]


def test_default_base_name_is_dated():
    assert default_base_name(0).startswith("import-19")
    assert default_base_name() == "import-" + time.strftime("%Y-%m-%d")


def test_gc_labels_follow_platform_filter():
    amd, arm = Image("amd64", b"a"), Image("arm64", b"b")
    blobs = {**amd.blobs(), **arm.blobs()}
    entries = [
        arm.entry(
            {"org.opencontainers.image.ref.name": "arm"}, {"architecture": "arm64", "os": "linux"}
        ),
        amd.entry(
            {"org.opencontainers.image.ref.name": "amd"}, {"architecture": "amd64", "os": "linux"}
        ),
    ]
    store, index, names = imported(entries, blobs, base_name="multi")
    assert [n for n, _ in names] == ["multi:arm", "multi:amd"]  # names are not platform-filtered
    assert store.labels[index["digest"]] == {"containerd.io/gc.ref.content.m.0": sha(amd.manifest)}
    assert store.labels[sha(amd.manifest)] == {
        "containerd.io/gc.ref.content.config": sha(amd.config),
        "containerd.io/gc.ref.content.l.0": sha(amd.layer_gz),
    }
    assert store.labels[sha(arm.manifest)] == {}
    store, index, _ = imported(entries, blobs, all_platforms=True)
    assert store.labels[index["digest"]] == {
        "containerd.io/gc.ref.content.m.0": sha(arm.manifest),
        "containerd.io/gc.ref.content.m.1": sha(amd.manifest),
    }
    store, index, _ = imported(entries, blobs, platform="linux/arm64")
    assert store.labels[index["digest"]] == {"containerd.io/gc.ref.content.m.0": sha(arm.manifest)}
    with pytest.raises(errors.ImageError, match="filtered out"):
        imported(entries, blobs, platform="linux/s390x")


def test_children_labels_numbering():
    kids = [
        {"mediaType": mt.OCI_CONFIG, "digest": "c"},
        {"mediaType": mt.OCI_LAYER, "digest": "l0"},
        {"mediaType": mt.DOCKER_LAYER_GZIP, "digest": "l1"},
        {"mediaType": "text/plain", "digest": "x"},
        {"mediaType": "text/plain", "digest": "y"},
    ]
    assert mt.children_labels(kids) == {
        "containerd.io/gc.ref.content.config": "c",
        "containerd.io/gc.ref.content.l.0": "l0",
        "containerd.io/gc.ref.content.l.1": "l1",
        "containerd.io/gc.ref.content.0": "x",
        "containerd.io/gc.ref.content.1": "y",
    }


def test_missing_layer_is_found_before_any_record():
    img = Image()
    store, _, names = imported([img.entry({"io.containerd.image.name": "x:1"})], img.blobs())
    check_complete(store, names[0][1], only(), "x:1", required=True)
    data = oci_archive(
        [img.entry({"io.containerd.image.name": "x:1"})], img.blobs(), skip={sha(img.layer_gz)}
    )
    store = MemoryStore()
    contents = read_archive(io.BytesIO(data), store)
    names = name_images(store, contents.index, ImportOptions())
    with pytest.raises(errors.ImageError, match="is missing from the archive"):
        check_complete(store, names[0][1], only(), "x:1", required=True)


# ----------------------------------------------------------------------------- manifests


def test_resolve_manifest_by_platform_and_config_fallback():
    amd, arm = Image("amd64", b"a"), Image("arm64", b"b")
    blobs = {**amd.blobs(), **arm.blobs()}
    store, index, _ = imported(
        [arm.entry(platform={"architecture": "arm64", "os": "linux"}), amd.entry()],
        blobs,
        all_platforms=True,
    )
    desc, manifest = resolve_manifest(store, index, only(Platform("linux", "amd64")))
    assert desc["digest"] == sha(amd.manifest)  # no platform in the entry: decided by its config
    desc, _ = resolve_manifest(store, index, only(parse("linux/arm64")))
    assert desc["digest"] == sha(arm.manifest)
    with pytest.raises(NoMatchingManifest, match="no match for platform in manifest"):
        resolve_manifest(store, index, only_strict(parse("linux/ppc64le")))
    info = inspect_image(store, "x", index, {}, only())
    assert info.diff_ids == [amd.diff_id] and info.chain_id == amd.diff_id
    assert info.config_media_type == mt.OCI_CONFIG and info.config["config"]["Cmd"] == ["/hello"]
    assert platforms_column(store, index) == "linux/amd64,linux/arm64"
    assert image_size(store, index, only()) == (
        index["size"] + len(amd.manifest) + len(amd.config) + len(amd.layer_gz)
    )
    assert image_size(store, index, ALL) == index["size"] + len(arm.manifest) + len(
        arm.config
    ) + len(arm.layer_gz)
