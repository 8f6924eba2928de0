"""Image archives built in memory from editable documents, for malformed-input tests.

:class:`ImageDocs` holds the documents of a one-layer image (``oci-layout``,
``index.json``, manifest, config, or docker-save ``manifest.json``) as plain JSON values;
a test changes any of them (or replaces a document's bytes outright) and calls
:meth:`ImageDocs.archive` for the tar bytes. Digests and sizes are recomputed from what
is written, so a change to one document does not break the chain unless the test wants
it to (``fix_digests=False``).
"""
from __future__ import annotations

import copy
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
EPOCH = 1704067200


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=False).encode()


def tiny_layer(files: Optional[Dict[str, bytes]] = None) -> bytes:
    """An uncompressed layer tar with a few small files (deterministic)."""
    files = files if files is not None else {"hello.txt": b"hello\n"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, EPOCH
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class Member:
    """One extra tar member (for archive-level tests: links, odd paths, sizes)."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    size: Optional[int] = None  # header size when it should lie about the data
    mode: int = 0o644


@dataclass
class ImageDocs:
    """A one-layer image as editable documents; :meth:`archive` writes the tar."""

    name: str = "docker.io/library/rcdoc:latest"
    arch: str = "amd64"
    layout: str = "oci"  # or "docker"
    layer: bytes = field(default_factory=tiny_layer)
    config: Dict[str, Any] = field(default_factory=dict)
    manifest: Dict[str, Any] = field(default_factory=dict)
    index: Dict[str, Any] = field(default_factory=dict)
    oci_layout: Any = field(default_factory=lambda: {"imageLayoutVersion": "1.0.0"})
    docker_manifest: Any = None
    #: raw bytes that replace a document: "config", "manifest", "index", "oci-layout", "manifest.json"
    raw: Dict[str, bytes] = field(default_factory=dict)
    extra: List[Member] = field(default_factory=list)

    def __post_init__(self) -> None:
        layer_digest = sha256(self.layer)
        if not self.config:
            self.config = {
                "architecture": self.arch, "os": "linux",
                "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"], "Labels": {"a": "b"}},
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            }
        if not self.manifest:
            self.manifest = {
                "schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": "", "size": 0},
                "layers": [{"mediaType": MT_LAYER, "digest": layer_digest, "size": len(self.layer)}],
            }
        if not self.index:
            self.index = {
                "schemaVersion": 2, "mediaType": MT_INDEX,
                "manifests": [{"mediaType": MT_MANIFEST, "digest": "", "size": 0,
                               "annotations": {"io.containerd.image.name": self.name,
                                               "org.opencontainers.image.ref.name": "latest"}}],
            }

    def copy(self) -> "ImageDocs":
        return copy.deepcopy(self)

    def _doc(self, key: str, value: Any) -> bytes:
        return self.raw[key] if key in self.raw else dumps(value)

    def blobs(self, fix_digests: bool = True) -> Tuple[Dict[str, bytes], bytes, bytes]:
        """(blobs by digest, index bytes, manifest bytes) with the chain's digests filled in."""
        config = self._doc("config", self.config)
        manifest_doc = copy.deepcopy(self.manifest)
        if fix_digests and isinstance(manifest_doc, dict) and isinstance(manifest_doc.get("config"), dict):
            cfg = manifest_doc["config"]
            if cfg.get("digest") == "":
                cfg["digest"] = sha256(config)
            if cfg.get("size") == 0:
                cfg["size"] = len(config)
        manifest = self._doc("manifest", manifest_doc)
        index_doc = copy.deepcopy(self.index)
        if fix_digests and isinstance(index_doc, dict) and isinstance(index_doc.get("manifests"), list):
            for entry in index_doc["manifests"]:
                if isinstance(entry, dict) and entry.get("digest") == "":
                    entry["digest"] = sha256(manifest)
                if isinstance(entry, dict) and entry.get("size") == 0:
                    entry["size"] = len(manifest)
        index = self._doc("index", index_doc)
        blobs = {sha256(b): b for b in (config, manifest, self.layer)}
        return blobs, index, manifest

    def archive(self, fix_digests: bool = True) -> bytes:
        """The archive as tar bytes (OCI layout or docker save)."""
        members: List[Member] = []
        if self.layout == "oci":
            blobs, index, _ = self.blobs(fix_digests)
            members.append(Member("oci-layout", self._doc("oci-layout", self.oci_layout)))
            members.append(Member("index.json", index))
            members += [Member("blobs/sha256/" + d.split(":", 1)[1], b) for d, b in sorted(blobs.items())]
        else:
            config = self._doc("config", self.config)
            cname = sha256(config).split(":", 1)[1] + ".json"
            lname = sha256(self.layer).split(":", 1)[1] + "/layer.tar"
            manifest = self.docker_manifest
            if manifest is None:
                manifest = [{"Config": cname, "RepoTags": [self.name.split("/")[-1]], "Layers": [lname]}]
            members += [Member(cname, config), Member(lname, self.layer),
                        Member("manifest.json", self._doc("manifest.json", manifest))]
        members += self.extra
        return write_tar(members)


def write_tar(members: List[Member]) -> bytes:
    """Tar bytes of ``members`` (GNU format, so any name length and size header fits)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for m in members:
            ti = tarfile.TarInfo(m.name)
            ti.type, ti.mode, ti.mtime, ti.linkname = m.type, m.mode, EPOCH, m.linkname
            data = m.data if m.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else b""
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data) if data else None)
    raw = buf.getvalue()
    return raw
