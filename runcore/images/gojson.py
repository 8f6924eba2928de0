"""JSON the way Go's encoding/json writes it, so that documents runcore creates
(the manifests and index of an imported docker archive) get ctr's digests."""
from __future__ import annotations

import json
from typing import Any, Optional

_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def marshal(value: Any) -> bytes:
    """Compact JSON, HTML-escaped like ``json.Marshal`` (dict order is kept)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, escaped in _GO_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text.encode("utf-8")


def descriptor(
    media_type: str,
    digest: str,
    size: int,
    *,
    urls: Optional[list] = None,
    annotations: Optional[dict] = None,
    platform: Optional[dict] = None,
) -> dict:
    """An ocispec.Descriptor with Go's field order and ``omitempty`` rules.

    Map keys are sorted, as Go sorts them when marshalling.
    """
    out: dict = {"mediaType": media_type, "digest": digest}
    out["size"] = size
    if urls:
        out["urls"] = list(urls)
    if annotations:
        out["annotations"] = {k: annotations[k] for k in sorted(annotations)}
    if platform:
        out["platform"] = platform
    return out
