"""Media types of image content and the GC labels containerd links them with."""

from __future__ import annotations

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar"
DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

CHECKPOINT = "application/vnd.containerd.container.criu.checkpoint.criu.tar"
CHECKPOINT_CONFIG = "application/vnd.containerd.container.checkpoint.config.v1+proto"

LABEL_UNCOMPRESSED = "containerd.io/uncompressed"
LABEL_GC_SNAPSHOT = "containerd.io/gc.ref.snapshot."

_DOCKER_LAYERS = {DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN, DOCKER_LAYER_FOREIGN_GZIP}


def is_manifest(media_type: str) -> bool:
    return media_type in (DOCKER_MANIFEST, OCI_MANIFEST)


def is_index(media_type: str) -> bool:
    return media_type in (OCI_INDEX, DOCKER_MANIFEST_LIST)


def is_config(media_type: str) -> bool:
    return media_type in (DOCKER_CONFIG, OCI_CONFIG)


def is_known_config(media_type: str) -> bool:
    """Image configs plus containerd's checkpoint configs (childless content)."""
    return media_type in (DOCKER_CONFIG, OCI_CONFIG, CHECKPOINT, CHECKPOINT_CONFIG)


def is_layer(media_type: str) -> bool:
    """OCI layer types, and Docker rootfs diff types with any ``+suffix``."""
    if media_type.startswith("application/vnd.oci.image.layer."):
        return True
    return media_type.split("+", 1)[0] in _DOCKER_LAYERS


def child_gc_label(media_type: str) -> str:
    """The label key (prefix) a parent uses to keep a child of this type alive.

    Keys ending in ``.`` get the child's index appended; others get it only from
    the second child on (containerd's ``ChildGCLabels``).
    """
    if is_known_config(media_type):
        return "containerd.io/gc.ref.content.config"
    if is_manifest(media_type):
        return "containerd.io/gc.ref.content.m."
    if is_layer(media_type):
        return "containerd.io/gc.ref.content.l."
    return "containerd.io/gc.ref.content."


def children_labels(children: list[dict]) -> dict[str, str]:
    """GC labels a parent carries for ``children`` (descriptor dicts), in order."""
    labels: dict[str, str] = {}
    counts: dict[str, int] = {}
    for child in children:
        key = child_gc_label(child.get("mediaType", ""))
        n = counts.get(key, 0)
        counts[key] = n + 1
        if n > 0 or key.endswith("."):
            key = f"{key}{n}"
        labels[key] = child["digest"]
    return labels
