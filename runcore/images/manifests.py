"""Walking image content: children, manifest choice by platform, platforms, size.

Works on any :class:`~runcore.images.store.ContentStore` (``read`` is all it needs)
and follows containerd's ``images`` package: descriptors are dicts in OCI JSON form.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Optional

from runcore import errors
from runcore.images import documents, mediatypes as mt
from runcore.images.platforms import Matcher, Platform, format_platform, normalize
from runcore.images.store import ContentStore


class NoMatchingManifest(errors.NotFound):
    """An index has no manifest for the wanted platform."""


class SkipDescriptor(Exception):
    """Raised by a walk handler: do not descend into this descriptor."""


def _read(store: ContentStore, desc: dict) -> bytes:
    return store.read(desc["digest"])


def read_json(store: ContentStore, desc: dict, what: str = "") -> Any:
    """The document ``desc`` names, schema-checked like ctr: ``what`` is ``index``,
    ``manifest`` or ``config`` (default: from the media type)."""
    kind = what or (
        "index"
        if mt.is_index(desc.get("mediaType", ""))
        else "manifest"
        if mt.is_manifest(desc.get("mediaType", ""))
        else "config"
    )
    data = _read(store, desc)
    if kind == "index":
        return documents.decode_index(data)
    if kind == "manifest":
        return documents.decode_manifest(data)
    return documents.decode_config(data)


def validate_media_type(data: bytes, media_type: str, digest: str, who: str) -> None:
    """containerd's check that a manifest is not an index and vice versa (on the raw blob)."""
    doc = documents.decode(data, documents.SNIFF)
    if doc["fsLayers"] is not None:
        raise errors.ImageError(f"{who}: invalid desc {digest}: media-type: schema 1 not supported")
    if mt.is_manifest(media_type):
        if doc["manifests"] is not None or doc["mediaType"] in (
            mt.DOCKER_MANIFEST_LIST,
            mt.OCI_INDEX,
        ):
            raise errors.ImageError(
                f"{who}: invalid desc {digest}: media-type: expected manifest but found index ({media_type})"
            )
    elif mt.is_index(media_type):
        if (
            doc["config"] is not None
            or doc["layers"] is not None
            or doc["mediaType"] in (mt.DOCKER_MANIFEST, mt.OCI_MANIFEST)
        ):
            raise errors.ImageError(
                f"{who}: invalid desc {digest}: media-type: expected index but found manifest ({media_type})"
            )


def read_manifest(store: ContentStore, desc: dict, who: str) -> dict:
    """A manifest blob: media type validated, then decoded as ``ocispec.Manifest``."""
    data = _read(store, desc)
    validate_media_type(data, desc.get("mediaType", ""), desc["digest"], who)
    return documents.decode_manifest(data)


def read_index(store: ContentStore, desc: dict, who: str, *, validate: bool = True) -> dict:
    """An index blob: media type validated (unless an archive's own ``index.json``, which
    ctr decodes directly), then decoded as ``ocispec.Index``."""
    data = _read(store, desc)
    if validate:
        validate_media_type(data, desc.get("mediaType", ""), desc["digest"], who)
    return documents.decode_index(data)


def children(store: ContentStore, desc: dict) -> list[dict]:
    """The direct children of a manifest (config, layers) or index (manifests)."""
    media_type = desc.get("mediaType", "")
    if mt.is_manifest(media_type):
        doc = read_manifest(store, desc, "children")
        return [doc["config"]] + list(doc["layers"] or [])
    if mt.is_index(media_type):
        doc = read_index(store, desc, "children")
        return list(doc["manifests"] or [])
    return []


def platform_of(desc: dict) -> Optional[Platform]:
    p = desc.get("platform")
    return Platform.from_json(p) if isinstance(p, dict) else None


def filter_platforms(descs: Iterable[dict], matcher: Optional[Matcher]) -> list[dict]:
    """Keep descriptors without a platform and those ``matcher`` matches."""
    out = []
    for d in descs:
        p = platform_of(d)
        if matcher is None or p is None or matcher.match(p):
            out.append(d)
    return out


def sort_by_preference(descs: list[dict], matcher: Matcher) -> list[dict]:
    """Stable sort: preferred platforms first, descriptors without platform last."""

    def cmp(a: dict, b: dict) -> int:
        pa, pb = platform_of(a), platform_of(b)
        if pa is None:
            return 0 if pb is None else 1
        if pb is None:
            return -1
        if matcher.less(pa, pb):
            return -1
        if matcher.less(pb, pa):
            return 1
        return 0

    return sorted(descs, key=functools.cmp_to_key(cmp))


def walk(handler: Callable[[dict], list[dict]], descs: Iterable[dict]) -> None:
    """Depth-first walk; ``handler`` returns the children to visit (or raises SkipDescriptor)."""
    for desc in descs:
        try:
            kids = handler(desc)
        except SkipDescriptor:
            continue
        if kids:
            walk(handler, kids)


def config_platform(config: dict) -> Platform:
    return normalize(Platform(config.get("os", "") or "", config.get("architecture", "") or ""))


def resolve_manifest(
    store: ContentStore, target: dict, matcher: Optional[Matcher]
) -> tuple[dict, dict]:
    """(manifest descriptor, manifest JSON) chosen for ``matcher`` (containerd's
    ``images.Manifest``): index entries filtered and sorted by platform, first taken;
    an entry without platform is checked against its config's os/architecture."""
    found: list[tuple[dict, dict]] = []
    was_index = False

    def handle(desc: dict) -> list[dict]:
        nonlocal was_index
        media_type = desc.get("mediaType", "")
        if mt.is_manifest(media_type):
            doc = read_manifest(store, desc, "manifest")
            if desc["digest"] != target["digest"] and matcher is not None:
                p = platform_of(desc)
                if p is not None and not matcher.match(p):
                    return []
                if p is None:
                    config = read_json(store, doc["config"], "config")
                    if not matcher.match(config_platform(config)):
                        return []
            found.append((desc, doc))
            return []
        if mt.is_index(media_type):
            doc = read_index(store, desc, "manifest")
            manifests = list(doc["manifests"] or [])
            if matcher is None:
                return manifests
            was_index = True
            return sort_by_preference(filter_platforms(manifests, matcher), matcher)[:1]
        raise errors.NotFound(f"unexpected media type {media_type} for {desc['digest']}: not found")

    walk(handle, [target])
    if not found:
        if was_index:
            raise NoMatchingManifest(
                f"no match for platform in manifest {target['digest']}: not found"
            )
        raise errors.NotFound(f"manifest {target['digest']}: not found")
    return found[0]


def image_platforms(store: ContentStore, target: dict) -> list[Platform]:
    """Every platform the image offers (``images.Platforms``)."""
    result: list[Platform] = []

    def handle(desc: dict) -> list[dict]:
        p = platform_of(desc)
        if p is not None:
            if p.os != "unknown" and p.architecture != "unknown":
                result.append(p)
            raise SkipDescriptor()
        if mt.is_config(desc.get("mediaType", "")):
            config = read_json(store, desc, "config")
            result.append(config_platform(config))
        return children(store, desc)

    walk(handle, [target])
    return result


def platforms_column(store: ContentStore, target: dict) -> str:
    """``ctr images ls``'s PLATFORMS column: sorted unique ``os/arch[/variant]`` or ``-``."""
    names = sorted({format_platform(p) for p in image_platforms(store, target)})
    return ",".join(names) if names else "-"


def image_size(store: ContentStore, target: dict, matcher: Matcher) -> int:
    """Bytes of the image's content for ``matcher`` (``images.Image.Size``)."""
    total = 0

    def handle(desc: dict) -> list[dict]:
        nonlocal total
        size = int(desc.get("size", 0))
        if size < 0:
            raise errors.ImageError(
                f"invalid size {size} in {desc['digest']} ({desc.get('mediaType')})"
            )
        total += size
        kids = filter_platforms(children(store, desc), matcher)
        if mt.is_index(desc.get("mediaType", "")):
            kids = sort_by_preference(kids, matcher)
            if not kids:
                raise errors.NotFound("no match for platform in manifest: not found")
            kids = kids[:1]
        return kids

    walk(handle, [target])
    return total
