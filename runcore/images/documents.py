"""Decoding image documents exactly as strictly as ctr: every document is schema-checked.

ctr ``json.Unmarshal``s each document into an image-spec Go struct; a value of the wrong
kind (``"manifests": "x"``, a size of ``12.5`` or ``2**63``, ``Labels`` as a list) fails
with Go's ``json: cannot unmarshal …`` text. The Go types are data
(``image-spec.gotypes`` next to this module); :mod:`runcore.gocompat.json` applies Go's
rules. Each decoder returns the document as Go sees it (every field present, keys
spelled as declared) or raises :class:`runcore.errors.ImageError` with ctr's one-line
message, prefixed where ctr prefixes it.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from runcore import errors
from runcore.gocompat import json as gojson

#: Go type of each document kind.
INDEX = "v1.Index"
MANIFEST = "v1.Manifest"
CONFIG = "v1.Image"
LAYOUT = "v1.ImageLayout"
DESCRIPTOR = "v1.Descriptor"
DOCKER_MANIFEST = "[]struct { Config string; RepoTags []string; Layers []string }"
SNIFF = "images.unknownDocument"

_SCHEMA: Optional[gojson.Schema] = None


def schema() -> gojson.Schema:
    """The image-spec Go types (loaded once)."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = gojson.load_schema(__file__, "image-spec.gotypes")
    return _SCHEMA


def decode(data: bytes, go_type: str, context: str = "") -> Any:
    """``data`` decoded into ``go_type``; ImageError ``[<context>: ]<Go's error>`` otherwise."""
    try:
        return schema().decode(data, go_type)
    except gojson.JSONError as exc:
        raise errors.ImageError(f"{context}: {exc}" if context else str(exc)) from None


def decode_index(data: bytes, context: str = "") -> Dict[str, Any]:
    """An ``ocispec.Index``."""
    return decode(data, INDEX, context)  # type: ignore[no-any-return]


def decode_manifest(data: bytes, context: str = "") -> Dict[str, Any]:
    """An ``ocispec.Manifest``."""
    return decode(data, MANIFEST, context)  # type: ignore[no-any-return]


def decode_config(data: bytes, context: str = "") -> Dict[str, Any]:
    """An ``ocispec.Image`` (the image configuration)."""
    return decode(data, CONFIG, context)  # type: ignore[no-any-return]


def decode_layout(data: bytes, context: str = "") -> Dict[str, Any]:
    """An ``ocispec.ImageLayout`` (the ``oci-layout`` file)."""
    return decode(data, LAYOUT, context)  # type: ignore[no-any-return]


def decode_docker_manifest(data: bytes, context: str = "") -> List[Dict[str, Any]]:
    """The entries of a docker-save ``manifest.json`` (``nil`` decodes to ``[]``)."""
    return decode(data, DOCKER_MANIFEST, context) or []


def marshal(value: Any, go_type: str) -> bytes:
    """Go's ``json.Marshal`` of ``value`` as ``go_type`` (what containerd writes)."""
    return schema().marshal(value, go_type)


def descriptor(
    media_type: str,
    digest: str,
    size: int,
    *,
    annotations: Optional[Dict[str, str]] = None,
    platform: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """An ``ocispec.Descriptor`` with only its set fields (marshal it with :func:`marshal`)."""
    out: Dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": size}
    if annotations:
        out["annotations"] = dict(annotations)
    if platform:
        out["platform"] = platform
    return out
