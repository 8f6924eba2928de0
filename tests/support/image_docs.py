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
                "architecture": self.arch,
                "os": "linux",
                "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"], "Labels": {"a": "b"}},
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            }
        if not self.manifest:
            self.manifest = {
                "schemaVersion": 2,
                "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": "", "size": 0},
                "layers": [
                    {"mediaType": MT_LAYER, "digest": layer_digest, "size": len(self.layer)}
                ],
            }
        if not self.index:
            self.index = {
                "schemaVersion": 2,
                "mediaType": MT_INDEX,
                "manifests": [
                    {
                        "mediaType": MT_MANIFEST,
                        "digest": "",
                        "size": 0,
                        "annotations": {
                            "io.containerd.image.name": self.name,
                            "org.opencontainers.image.ref.name": "latest",
                        },
                    }
                ],
            }

    def copy(self) -> "ImageDocs":
        return copy.deepcopy(self)

    def _doc(self, key: str, value: Any) -> bytes:
        return self.raw[key] if key in self.raw else dumps(value)

    def blobs(self, fix_digests: bool = True) -> Tuple[Dict[str, bytes], bytes, bytes]:
        """(blobs by digest, index bytes, manifest bytes) with the chain's digests filled in."""
        config = self._doc("config", self.config)
        manifest_doc = copy.deepcopy(self.manifest)
        if (
            fix_digests
            and isinstance(manifest_doc, dict)
            and isinstance(manifest_doc.get("config"), dict)
        ):
            cfg = manifest_doc["config"]
            if cfg.get("digest") == "":
                cfg["digest"] = sha256(config)
            if cfg.get("size") == 0:
                cfg["size"] = len(config)
        manifest = self._doc("manifest", manifest_doc)
        index_doc = copy.deepcopy(self.index)
        if (
            fix_digests
            and isinstance(index_doc, dict)
            and isinstance(index_doc.get("manifests"), list)
        ):
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
            members += [
                Member("blobs/sha256/" + d.split(":", 1)[1], b) for d, b in sorted(blobs.items())
            ]
        else:
            config = self._doc("config", self.config)
            cname = sha256(config).split(":", 1)[1] + ".json"
            lname = sha256(self.layer).split(":", 1)[1] + "/layer.tar"
            manifest = copy.deepcopy(self.docker_manifest)
            if manifest is None:
                manifest = [{"Config": "", "RepoTags": [self.name.split("/")[-1]], "Layers": [""]}]
            for entry in manifest if isinstance(manifest, list) else ():
                if isinstance(entry, dict) and entry.get("Config") == "":
                    entry["Config"] = cname
                if isinstance(entry, dict) and isinstance(entry.get("Layers"), list):
                    entry["Layers"] = [lname if x == "" else x for x in entry["Layers"]]
            members += [
                Member(cname, config),
                Member(lname, self.layer),
                Member("manifest.json", self._doc("manifest.json", manifest)),
            ]
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


def _set(path: str, value: Any):
    """A mutation setting ``path`` (``doc.key.0.key``; doc = index|manifest|config|oci_layout) to ``value``."""
    doc_name, *keys = path.split(".")

    def apply(docs: ImageDocs) -> None:
        node: Any = getattr(docs, doc_name)
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return apply


def _raw(doc: str, data: bytes):
    def apply(docs: ImageDocs) -> None:
        docs.raw[doc] = data

    return apply


def _docker_manifest(value: Any):
    def apply(docs: ImageDocs) -> None:
        docs.docker_manifest = value

    return apply


#: Malformed image documents (issue 18, defect 5): id -> (layout, mutation). The first 16 are
#: the issue's variants, then the cases where ctr is stricter than runcore used to be.
MALFORMED = {
    "index-manifests-string": ("oci", _set("index.manifests", "x")),
    "index-manifests-null-entry": ("oci", _set("index.manifests", [None])),
    "index-digest-int": ("oci", _set("index.manifests.0.digest", 5)),
    "index-mediatype-int": ("oci", _set("index.manifests.0.mediaType", 5)),
    "manifest-config-null": ("oci", _set("manifest.config", None)),
    "manifest-layers-string": ("oci", _set("manifest.layers", "x")),
    "index-annotation-value-int": ("oci", _set("index.manifests.0.annotations.x", 1)),
    "layer-size-2^63": ("oci", _set("manifest.layers.0.size", 1 << 63)),
    "index-size-2^63": ("oci", _set("index.manifests.0.size", 1 << 63)),
    "config-labels-list": ("oci", _set("config.config.Labels", ["a"])),
    "config-stopsignal-number": ("oci", _set("config.config.StopSignal", 9)),
    "layer-digest-int": ("oci", _set("manifest.layers.0.digest", 5)),
    "index-annotations-list": ("oci", _set("index.annotations", ["a"])),
    "config-env-string": ("oci", _set("config.config.Env", "A=1")),
    "config-diff-ids-string": ("oci", _set("config.rootfs.diff_ids", "x")),
    "docker-config-labels-list": ("docker", _set("config.config.Labels", ["a"])),
    # ctr refuses these too
    "layer-size-string": ("oci", _set("manifest.layers.0.size", "12")),
    "layer-size-float": ("oci", _set("manifest.layers.0.size", 12.5)),
    "platform-string": ("oci", _set("index.manifests.0.platform", "linux/amd64")),
    "schema-version-string": ("oci", _set("index.schemaVersion", "2")),
    "architecture-number": ("oci", _set("config.architecture", 5)),
    "volumes-list": ("oci", _set("config.config.Volumes", ["/v"])),
    "docker-architecture-number": ("docker", _set("config.architecture", 5)),
    "created-number": ("oci", _set("config.created", 5)),
    "oci-layout-version-int": ("oci", _set("oci_layout.imageLayoutVersion", 1)),
    "index-is-array": ("oci", _raw("index", b"[]")),
    "index-not-json": ("oci", _raw("index", b"{x")),
    "docker-config-int": (
        "docker",
        _docker_manifest([{"Config": 5, "RepoTags": ["a:b"], "Layers": []}]),
    ),
    "docker-repotags-string": (
        "docker",
        _docker_manifest([{"Config": "x.json", "RepoTags": "a:b", "Layers": []}]),
    ),
    "docker-manifest-object": ("docker", _docker_manifest({"Config": "x"})),
    # ctr accepts these: so does runcore
    "manifest-schema-version-1": ("oci", _set("manifest.schemaVersion", 1)),
    "index-schema-version-3": ("oci", _set("index.schemaVersion", 3)),
    "folded-keys": (
        "oci",
        _set("config.config", {"env": ["A=1"], "CMD": ["/bin/sh"], "labels": {"a": "b"}}),
    ),
}


def malformed(case: str, name: str = "docker.io/library/rcdoc:latest") -> bytes:
    """The archive bytes of the :data:`MALFORMED` case ``case``."""
    layout, mutate = MALFORMED[case]
    docs = ImageDocs(name=name, layout=layout)
    mutate(docs)
    return docs.archive()
