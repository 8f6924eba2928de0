"""Reading image archives the way ``ctr images import`` does.

Two layouts are understood:

* OCI image layout (``oci-layout`` + ``index.json`` + ``blobs/<alg>/<hex>``): every
  file is stored as a blob; the archive's ``index.json`` becomes the imported index.
* ``docker save`` (``manifest.json`` with ``Config``/``RepoTags``/``Layers``): every
  file is stored as a blob, then a Docker manifest per image and an OCI index naming
  each ``RepoTags`` entry (normalised, ``docker.io/library/…``) are written – the same
  documents, byte for byte, that containerd's importer writes.

When both are present the OCI layout wins.  Blobs under ``blobs/sha256/`` are
verified against their file names.  Problems raise :class:`runcore.errors.ImageError`.
"""

from __future__ import annotations

import posixpath
import re
import tarfile
from dataclasses import dataclass, field
from typing import IO, Callable, Optional

from runcore import errors
from runcore.containerd.content import DigestMismatch, ShortBlob
from runcore.images import documents, mediatypes as mt
from runcore.images.identity import sha256_digest
from runcore.images.platforms import Platform, normalize
from runcore.images.reference import (
    ANNOTATION_IMAGE_NAME,
    ANNOTATION_REF_NAME,
    normalize_docker_ref,
    oci_reference_name,
)
from runcore.images.store import ContentStore

OCI_LAYOUT_FILE = "oci-layout"
OCI_LAYOUT_VERSION = "1.0.0"
JSON_LIMIT = 20 << 20
_BLOB_PATH = re.compile(r"^blobs/sha256/([a-f0-9]{64})$")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass
class ArchiveContents:
    """What reading an archive produced."""

    index: dict  # descriptor of the index to import (mediaType, digest, size)
    layout: str  # "oci" or "docker"
    blobs: dict = field(default_factory=dict)  # archive path -> descriptor (digest, size)


def _read_small(tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    f = tf.extractfile(member)
    assert f is not None
    data = f.read(min(member.size, JSON_LIMIT))
    if len(data) != min(member.size, JSON_LIMIT):
        raise errors.ImageError(f"{member.name}: truncated archive")
    return data


def compression_of(head: bytes) -> str:
    """``gzip``, ``zstd`` or ``""`` (uncompressed) from a blob's first bytes."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    if len(head) >= 4 and (int.from_bytes(head[:4], "little") & 0xFFFFFFF0) == 0x184D2A50:
        return "zstd"  # skippable frame
    return ""


def read_archive(
    fileobj: IO[bytes],
    store: ContentStore,
    *,
    name: str = "archive",
    on_member: Optional[Callable[[str, int], None]] = None,
) -> ArchiveContents:
    """Store every file of the tar stream ``fileobj`` and return the index to import."""
    layout_version: Optional[str] = None
    docker_manifests: Optional[list] = None
    symlinks: dict[str, str] = {}
    blobs: dict[str, dict] = {}
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as tf:
            for member in tf:
                path = posixpath.normpath(member.name)
                if member.issym():
                    symlinks[path] = posixpath.normpath(
                        posixpath.join(posixpath.dirname(path), member.linkname)
                    )
                    continue
                if not (member.isreg() and member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)):
                    continue
                if on_member:
                    on_member(path, member.size)
                if path == OCI_LAYOUT_FILE:
                    layout = documents.decode_layout(
                        _read_small(tf, member), f'untar oci layout "{member.name}"'
                    )
                    layout_version = layout["imageLayoutVersion"]
                elif path == "manifest.json":
                    docker_manifests = documents.decode_docker_manifest(
                        _read_small(tf, member), f'untar manifest "{member.name}"'
                    )
                else:
                    m = _BLOB_PATH.match(path)
                    expected = f"sha256:{m.group(1)}" if m else None
                    stream = tf.extractfile(member)
                    assert stream is not None
                    try:
                        digest = store.ingest("tar-" + path, stream, member.size, expected)
                    except DigestMismatch as exc:
                        raise errors.ImageError(
                            f"{name}: {path}: content does not match its digest (it hashes to {exc.actual})"
                        ) from None
                    except ShortBlob as exc:
                        raise errors.ImageError(
                            f"{name}: {path}: truncated archive ({exc.got} of {exc.expected} bytes)"
                        ) from None
                    blobs[path] = {"digest": digest, "size": member.size}
    except (tarfile.TarError, EOFError) as exc:
        raise errors.ImageError(f"{name}: truncated or corrupt archive ({exc})") from None
    except OSError as exc:
        raise errors.ImageError(f"{name}: cannot read archive: {exc.strerror or exc}") from None

    if layout_version:
        if layout_version != OCI_LAYOUT_VERSION:
            raise errors.ImageError(f"{name}: unsupported OCI version {layout_version}")
        index = blobs.get("index.json")
        if index is None:
            raise errors.ImageError(
                f"{name}: missing index.json in OCI layout {OCI_LAYOUT_VERSION}"
            )
        return ArchiveContents(
            documents.descriptor(mt.OCI_INDEX, index["digest"], index["size"]), "oci", blobs
        )
    if docker_manifests is None:
        raise errors.ImageError(
            f"{name}: unrecognized image format (neither OCI layout nor docker save)"
        )

    for link, target in symlinks.items():
        if target not in blobs:
            raise errors.ImageError(
                f'{name}: no target for symlink layer from "{link}" to "{target}"'
            )
        blobs[link] = blobs[target]
    index = _docker_index(docker_manifests, blobs, store, name)
    return ArchiveContents(index, "docker", blobs)


def _docker_index(manifests: list, blobs: dict, store: ContentStore, name: str) -> dict:
    entries: list[dict] = []
    for entry in manifests:
        config_path = entry["Config"]
        config = blobs.get(config_path)
        if config is None:
            raise errors.ImageError(f'{name}: image config "{config_path}" not found')
        layers = _docker_layers(list(entry["Layers"] or []), blobs, store, name)
        manifest = documents.schema().zero(documents.MANIFEST)
        manifest.update(
            schemaVersion=2,
            mediaType=mt.DOCKER_MANIFEST,
            config=documents.descriptor(mt.DOCKER_CONFIG, config["digest"], config["size"]),
            layers=layers,
        )
        data = documents.marshal(manifest, documents.MANIFEST)
        digest = sha256_digest(data)
        store.put("manifest-" + digest, data, digest)

        platform = _config_platform(store, config["digest"])
        tags = list(entry["RepoTags"] or [])
        if not tags:
            entries.append(
                documents.descriptor(mt.DOCKER_MANIFEST, digest, len(data), platform=platform)
            )
        for tag in tags:
            full = normalize_docker_ref(tag)
            annotations = {
                ANNOTATION_IMAGE_NAME: full,
                ANNOTATION_REF_NAME: oci_reference_name(full),
            }
            entries.append(
                documents.descriptor(
                    mt.DOCKER_MANIFEST,
                    digest,
                    len(data),
                    annotations=annotations,
                    platform=platform,
                )
            )
    index = documents.schema().zero(documents.INDEX)
    index.update(schemaVersion=2, manifests=entries or None)
    data = documents.marshal(index, documents.INDEX)
    digest = sha256_digest(data)
    store.put("manifest-" + digest, data, digest)
    return documents.descriptor(mt.OCI_INDEX, digest, len(data))


def _config_platform(store: ContentStore, digest: str) -> dict:
    config = documents.decode_config(store.read(digest), "unable to resolve platform")
    return normalize(Platform(config["os"], config["architecture"])).to_json()


def _docker_layers(paths: list, blobs: dict, store: ContentStore, name: str) -> list[dict]:
    layers: list[dict] = []
    for path in paths:
        blob = blobs.get(path)
        if blob is None:
            raise errors.ImageError(f'{name}: failed to resolve layers: layer "{path}" not found')
        layers.append({"digest": blob["digest"], "size": blob["size"], "mediaType": ""})
    # A compressed form of a layer already in the store is used instead (containerd
    # looks for blobs labelled containerd.io/uncompressed=<layer digest>).
    known = store.find_uncompressed([layer["digest"] for layer in layers])
    for layer in layers:
        if layer["digest"] in known:
            digest, size = known[layer["digest"]]
            layer["digest"], layer["size"] = digest, size
            layer["mediaType"] = _layer_type(store.head(digest, min(size, 10)))
    for layer in layers:
        if not layer["mediaType"]:
            layer["mediaType"] = _layer_type(store.head(layer["digest"], min(layer["size"], 10)))
    return [documents.descriptor(l["mediaType"], l["digest"], l["size"]) for l in layers]


def _layer_type(head: bytes) -> str:
    return mt.DOCKER_LAYER_GZIP if compression_of(head) else mt.DOCKER_LAYER
