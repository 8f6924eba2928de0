"""Image resolution and unpacking into a snapshotter, as containerd's client does it.

``resolve_image`` reads an image record and picks its manifest and config for a
platform; ``ensure_unpacked`` makes sure the chain of committed snapshots exists
(``Snapshots/Stat`` of the chain id, else ``unpack``).  ``unpack`` follows
containerd's ``image.Unpack`` step by step (see the reference §8.1): a lease; per
layer ``Stat`` → ``Prepare("extract-<nanos>-<b64> <chain id>")`` → ``Diff/Apply`` →
``Commit``; the ``containerd.io/uncompressed`` label on each applied layer blob and
``containerd.io/gc.ref.snapshot.<snapshotter>`` on the config.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from runcore import errors
from runcore.containerd.leases import unique_part
from runcore.images import mediatypes as mt
from runcore.images.identity import chain_id
from runcore.images import documents
from runcore.images.manifests import resolve_manifest
from runcore.images.platforms import Matcher, Platform, only, parse
from runcore.images.store import ClientStore, ContentStore

if TYPE_CHECKING:  # pragma: no cover
    from runcore.containerd.client import Client


@dataclass
class ImageInfo:
    """An image record with what running it needs, resolved for one platform."""

    name: str
    target: dict  # descriptor the record points at (index or manifest)
    labels: dict
    manifest_desc: dict
    manifest: dict
    config_desc: dict
    config: dict
    config_media_type: str
    diff_ids: list
    chain_id: str
    layers: list = field(default_factory=list)  # layer descriptors (unpackable ones)
    matcher: Optional[Matcher] = field(default=None, repr=False)


def descriptor_from_pb(desc) -> dict:
    out = {"mediaType": desc.media_type, "digest": desc.digest, "size": desc.size}
    if desc.annotations:
        out["annotations"] = dict(desc.annotations)
    return out


def descriptor_to_pb(client: "Client", desc: dict):
    return client.pb.descriptor.Descriptor(
        media_type=desc.get("mediaType", ""),
        digest=desc["digest"],
        size=int(desc.get("size", 0)),
        annotations=desc.get("annotations") or {},
    )


def matcher_for(platform: "Optional[str | Platform | Matcher]") -> Matcher:
    """The platform matcher ``ctr run`` uses: ``platforms.Only`` of ``--platform`` or the host."""
    if platform is None or platform == "":
        return only()
    if isinstance(platform, str):
        return only(parse(platform))
    if isinstance(platform, Platform):
        return only(platform)
    return platform


def image_layers(manifest: dict) -> list[dict]:
    """Layers that unpack: layer media types only (containerd 1.7.7+ ignores others)."""
    return [l for l in manifest.get("layers") or [] if mt.is_layer(l.get("mediaType", ""))]


def inspect_image(
    store: ContentStore, name: str, target: dict, labels: dict, matcher: Matcher
) -> ImageInfo:
    """Manifest, config and rootfs facts of an image for ``matcher``."""
    manifest_desc, manifest = resolve_manifest(store, target, matcher)
    config_desc = manifest.get("config") or {}
    if not config_desc.get("digest"):
        raise errors.ImageError(f"manifest {manifest_desc['digest']}: no config")
    config = documents.decode_config(store.read(config_desc["digest"]), "failed to resolve rootfs")
    diff_ids = list(config["rootfs"]["diff_ids"] or [])
    return ImageInfo(
        name=name,
        target=target,
        labels=labels,
        manifest_desc=manifest_desc,
        manifest=manifest,
        config_desc=config_desc,
        config=config,
        config_media_type=config_desc.get("mediaType", ""),
        diff_ids=diff_ids,
        chain_id=chain_id(diff_ids),
        layers=image_layers(manifest),
        matcher=matcher,
    )


def resolve_image(
    client: "Client",
    ref: str,
    platform: "Optional[str | Platform | Matcher]" = None,
    snapshotter: Optional[str] = None,  # accepted for symmetry; resolution does not need it
) -> ImageInfo:
    """``Images/Get(ref)`` (exact name) and the manifest/config for ``platform``.

    A missing image raises :class:`runcore.errors.NotFound` ``image "<ref>": not found``.
    """
    try:
        record = client.images.Get(name=ref).image
    except errors.NotFound:
        raise errors.NotFound(f'image "{ref}": not found') from None
    return inspect_image(
        ClientStore(client),
        record.name,
        descriptor_from_pb(record.target),
        dict(record.labels),
        matcher_for(platform),
    )


def is_unpacked(client: "Client", image: ImageInfo, snapshotter: Optional[str] = None) -> bool:
    """Whether the image's top chain id exists as a snapshot (``Snapshots/Stat``)."""
    sn = client.resolve_snapshotter(snapshotter)
    try:
        client.snapshots.Stat(snapshotter=sn, key=image.chain_id)
    except errors.NotFound:
        return False
    return True


def ensure_unpacked(client: "Client", image: ImageInfo, snapshotter: Optional[str] = None) -> bool:
    """Unpack ``image`` unless its snapshots exist; True when it unpacked now."""
    if is_unpacked(client, image, snapshotter):
        return False
    unpack(client, image, snapshotter)
    return True


def unpack(
    client: "Client",
    image: ImageInfo,
    snapshotter: Optional[str] = None,
    on_layer: Optional[Callable[[int, int], None]] = None,
    before_apply: Optional[Callable[[int], None]] = None,
    applied: Optional[list[str]] = None,
) -> str:
    """Apply the image's layers as committed snapshots; returns the top chain id.

    ``before_apply(i)`` is called before layer ``i`` is applied (not for a layer whose
    snapshot exists): a pull that unpacks while it downloads waits there for the layer's
    blob. ``applied`` gets the chain id of each snapshot this call committed."""
    with client.lease():
        if len(image.diff_ids) != len(image.layers):
            raise errors.ImageError("mismatched image rootfs and manifest layers")
        sn = client.resolve_snapshotter(snapshotter)
        store = ClientStore(client)
        chain: list[str] = []
        for i, (layer, diff_id) in enumerate(zip(image.layers, image.diff_ids)):
            ready = functools.partial(before_apply, i) if before_apply else None
            if _apply_layer(client, sn, layer, chain, diff_id, ready):
                if applied is not None:
                    applied.append(chain_id(chain + [diff_id]))
                store.set_labels(layer["digest"], {mt.LABEL_UNCOMPRESSED: diff_id})
            chain.append(diff_id)
            if on_layer:
                on_layer(i + 1, len(image.layers))
        top = chain_id(chain)
        store.set_labels(image.config_desc["digest"], {f"{mt.LABEL_GC_SNAPSHOT}{sn}": top})
        return top


def _apply_layer(
    client: "Client",
    sn: str,
    layer: dict,
    chain: list[str],
    diff_id: str,
    ready: Optional[Callable[[], None]] = None,
) -> bool:
    """Apply one layer on top of ``chain``; False when its snapshot already existed."""
    target = chain_id(chain + [diff_id])
    try:
        client.snapshots.Stat(snapshotter=sn, key=target)
        return False
    except errors.NotFound:
        pass
    if ready is not None:
        ready()
    parent = chain_id(chain)
    while True:
        key = f"extract-{unique_part()} {target}"
        try:
            mounts = client.snapshots.Prepare(snapshotter=sn, key=key, parent=parent).mounts
            break
        except errors.AlreadyExists:
            continue  # try another key
        except errors.ContainerdError as exc:
            raise type(exc)(f'failed to prepare extraction snapshot "{key}": {exc}') from None
    try:
        try:
            applied = client.diff.Apply(diff=descriptor_to_pb(client, layer), mounts=mounts).applied
        except errors.Unavailable:
            raise  # containerd went away: the caller may wait for it and start over
        except errors.ContainerdError as exc:
            raise errors.ImageError(f"failed to extract layer {diff_id}: {exc}") from None
        if applied.digest != diff_id:
            raise errors.ImageError(f'wrong diff id calculated on extraction "{applied.digest}"')
        try:
            client.snapshots.Commit(snapshotter=sn, name=target, key=key)
        except errors.AlreadyExists:
            _remove_quietly(client, sn, key)
            return False
        except errors.ContainerdError as exc:
            raise type(exc)(f"failed to commit snapshot {key}: {exc}") from None
    except BaseException:
        _remove_quietly(client, sn, key)
        raise
    return True


def _remove_quietly(client: "Client", sn: str, key: str) -> None:
    try:
        client.snapshots.Remove(snapshotter=sn, key=key)
    except errors.ContainerdError:
        pass
