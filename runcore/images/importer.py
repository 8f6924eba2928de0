"""``images import``: store an archive's content, name its images, unpack them.

Mirrors ``ctr images import`` (containerd 1.6/1.7, local import path):

1. under one lease, every file of the archive becomes a blob (see :mod:`.archive`);
2. the imported index is walked: each entry's name comes from its
   ``io.containerd.image.name`` annotation, else its ``org.opencontainers.image.ref.name``
   translated with the base name (``<base>:<tag>``; default base ``import-<date>``);
   ``--index-name`` also names the index itself;
3. GC labels (``containerd.io/gc.ref.content.*``) are set on the index and on every
   manifest reached for the platform, so the content stays alive through the records;
4. image records are created (or their target updated);
5. unless ``no_unpack``, each image is unpacked for the snapshotter.

Unlike ctr, the content every image needs is checked before any record is written,
and records written by a failed import are removed again: an error leaves no image
record behind (the content is left to the garbage collector with the lease).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Callable, Optional

from runcore import errors
from runcore.images import mediatypes as mt
from runcore.images.archive import read_archive
from runcore.images.import_lease import import_lease
from runcore.images.manifests import (
    NoMatchingManifest,
    children,
    filter_platforms,
    read_index,
    resolve_manifest,
)
from runcore.images.platforms import ALL, Matcher, default_platform, only, only_strict, parse
from runcore.images.reference import add_ref_prefix, filter_ref_prefix, image_name
from runcore.images.store import ClientStore, ContentStore
from runcore.images.unpack import descriptor_to_pb, inspect_image, unpack
from runcore.task.reconnect import is_connection_lost, retrying

if TYPE_CHECKING:  # pragma: no cover
    from runcore.containerd.client import Client


@dataclass
class ImportOptions:
    """The ``ctr images import`` flags runcore supports."""

    base_name: str = ""
    index_name: str = ""
    digests: bool = False
    skip_digest_for_named: bool = False
    platform: str = ""
    all_platforms: bool = False
    no_unpack: bool = False
    snapshotter: str = ""


@dataclass
class ImportedImage:
    name: str
    target: dict
    created: bool = False  # False: an existing record's target was updated
    previous_target: Optional[dict] = field(default=None, repr=False)


def default_base_name(now: Optional[float] = None) -> str:
    """``import-YYYY-MM-DD`` (local date), ctr's prefix for tag-only OCI ref names."""
    return "import-" + time.strftime("%Y-%m-%d", time.localtime(now))


def import_matcher(opts: ImportOptions) -> Matcher:
    """Platform filter for the walk: all, ``--platform`` strictly, or the host's default."""
    if opts.all_platforms:
        return ALL
    if opts.platform:
        return only_strict(parse(opts.platform))
    return only(default_platform())


def unpack_matcher(opts: ImportOptions) -> Matcher:
    """Platform used to unpack each image: ``--platform`` strictly, else the host default."""
    if opts.platform:
        return only_strict(parse(opts.platform))
    return only(default_platform())


def name_images(store: ContentStore, index: dict, opts: ImportOptions) -> list[tuple[str, dict]]:
    """(name, target) of every image the import creates, and GC-label the walked content.

    Returns names in ctr's order: the index name first, then per index entry its
    name and (with ``digests``) its digest name.
    """
    images: list[tuple[str, dict]] = []
    if opts.index_name:
        images.append((opts.index_name, index))
    if opts.base_name:
        prefix, translate = opts.base_name, filter_ref_prefix(opts.base_name)
    else:
        prefix = default_base_name()
        translate = add_ref_prefix(prefix)
    matcher = import_matcher(opts)
    any_children = False

    def handle(desc: dict) -> list[dict]:
        nonlocal any_children
        if desc["digest"] == index["digest"]:
            kids = list(read_index(store, desc, "children", validate=False)["manifests"] or [])
            for entry in kids:
                name = image_name(entry.get("annotations"), translate)
                if name:
                    images.append((name, entry))
                if opts.skip_digest_for_named and name:
                    continue
                if opts.digests:
                    images.append((f"{prefix}@{entry['digest']}", entry))
        else:
            kids = children(store, desc)
        kids = filter_platforms(kids, matcher)
        if kids:
            any_children = True
            store.set_labels(desc["digest"], mt.children_labels(kids))
        return kids

    _walk(handle, [index])
    if not any_children:
        raise errors.ImageError("image might be filtered out (no content for the platform)")
    return images


def _walk(handler: Callable[[dict], list[dict]], descs: list[dict]) -> None:
    for desc in descs:
        kids = handler(desc)
        if kids:
            _walk(handler, kids)


def check_complete(
    store: ContentStore, target: dict, matcher: Matcher, name: str, *, required: bool
) -> None:
    """Fail with one line when a manifest, config or layer the image needs is missing.

    Without ``required`` (no unpack) an image with no manifest for ``matcher`` passes.
    """
    try:
        _, manifest = resolve_manifest(store, target, matcher)
    except NoMatchingManifest as exc:
        if required:
            raise errors.ImageError(f'image "{name}": {exc}') from None
        return
    needed = [manifest.get("config") or {}] + list(manifest.get("layers") or [])
    for desc in needed:
        digest = desc.get("digest", "")
        try:
            size, _ = store.info(digest)
        except errors.NotFound:
            raise errors.ImageError(
                f'image "{name}": blob {digest} ({desc.get("mediaType", "?")}) is missing from the archive'
            ) from None
        if "size" in desc and int(desc["size"]) != size:
            raise errors.ImageError(
                f'image "{name}": blob {digest} has {size} bytes, the manifest says {desc["size"]}'
            )


def _record(client: "Client", name: str, target: dict):
    return client.pb.images.Image(name=name, target=descriptor_to_pb(client, target))


def store_records(
    client: "Client", images: list[tuple[str, dict]], created: Optional[set[str]] = None
) -> list[ImportedImage]:
    """``Images/Update`` (target only) or, when missing, ``Images/Create`` for each image.

    ``created`` names records an earlier attempt of the same import created (they count
    as created, so a rollback deletes them); the names created now are added to it.
    """
    pb = client.pb
    created = set() if created is None else created
    done: list[ImportedImage] = []
    try:
        for name, target in images:
            previous = None
            try:
                previous = client.images.Get(name=name).image.target
            except errors.NotFound:
                pass
            try:
                client.images.Update(
                    image=_record(client, name, target),
                    update_mask=pb.field_mask.FieldMask(paths=["target"]),
                )
                if name in created:
                    done.append(ImportedImage(name, target, True))
                else:
                    done.append(
                        ImportedImage(name, target, False, _desc(previous) if previous else None)
                    )
            except errors.NotFound:
                client.images.Create(image=_record(client, name, target))
                created.add(name)
                done.append(ImportedImage(name, target, True))
    except BaseException:
        rollback(client, done)
        raise
    return done


def _desc(pbdesc) -> dict:
    out = {"mediaType": pbdesc.media_type, "digest": pbdesc.digest, "size": pbdesc.size}
    if pbdesc.annotations:
        out["annotations"] = dict(pbdesc.annotations)
    return out


def rollback(client: "Client", images: list[ImportedImage]) -> None:
    """Undo :func:`store_records`: delete created records, restore updated targets."""
    pb = client.pb
    for image in reversed(images):
        try:
            if image.created:
                client.images.Delete(name=image.name)
            elif image.previous_target is not None:
                client.images.Update(
                    image=_record(client, image.name, image.previous_target),
                    update_mask=pb.field_mask.FieldMask(paths=["target"]),
                )
        except errors.ContainerdError:
            pass


def import_archive(
    client: "Client",
    source: IO[bytes],
    opts: Optional[ImportOptions] = None,
    *,
    name: str = "archive",
    out: Optional[IO[str]] = None,
    progress: Optional[Callable[[int], None]] = None,
    rewind: Optional[Callable[[], None]] = None,
) -> list[ImportedImage]:
    """Import the tar stream ``source``; returns the image records written.

    ``out`` receives ctr's ``unpacking <name> (<digest>)...done`` lines (stdout by
    default); ``progress`` is called with the byte count of every chunk stored.

    With ``rewind`` (puts ``source`` back at its start: a regular file) the import rides
    out a containerd restart: it waits for the daemon (the reconnect window of
    :mod:`runcore.task.reconnect`) and starts over under the same lease; what is stored
    already is not sent again and a half-written ingest is overwritten. Without it, a lost
    connection is one line asking for a rerun, which then completes.
    """
    opts = opts or ImportOptions()
    out = out if out is not None else sys.stdout
    if opts.platform:
        parse(opts.platform)  # a bad --platform fails before anything is stored
    store = ClientStore(client, progress=progress)
    created: set[str] = set()
    with import_lease(client):
        restarts = 0
        while True:
            try:
                return _import_once(client, store, source, opts, name, out, created)
            except errors.ContainerdError as exc:
                if not is_connection_lost(exc):
                    raise
                restarts += 1
                if rewind is None or restarts > MAX_RESTARTS:
                    raise errors.Unavailable(
                        f"lost the connection to containerd while importing {name}; "
                        "run the import again once containerd is back"
                    ) from None
            retrying(client, lambda: client.version.Version(), f"the import of {name}")
            rewind()


#: containerd restarts one import rides out before it gives up.
MAX_RESTARTS = 3


def _import_once(
    client: "Client",
    store: ClientStore,
    source: IO[bytes],
    opts: ImportOptions,
    name: str,
    out: IO[str],
    created: set[str],
) -> list[ImportedImage]:
    """One pass of :func:`import_archive` over ``source`` (inside its lease)."""
    contents = read_archive(source, store, name=name)
    unpack_with = unpack_matcher(opts)
    try:
        images = name_images(store, contents.index, opts)
        for image_name_, target in images:
            check_complete(store, target, unpack_with, image_name_, required=not opts.no_unpack)
    except errors.ImageError:
        raise
    except errors.NotFound as exc:
        raise errors.ImageError(f"{name}: {exc} (missing from the archive?)") from None
    written = store_records(client, images, created)
    if opts.no_unpack:
        return written
    try:
        for image in written:
            out.write(f"unpacking {image.name} ({image.target['digest']})...")
            out.flush()
            info = inspect_image(store, image.name, image.target, {}, unpack_with)
            unpack(client, info, opts.snapshotter or None)
            out.write("done\n")
            out.flush()
    except BaseException:
        out.write("\n")
        rollback(client, written)
        raise
    return written
