"""Images: archive import, resolution and unpacking (containerd semantics).

Public API::

    resolve_image(client, ref, platform=None, snapshotter=None) -> ImageInfo
    ensure_unpacked(client, image, snapshotter=None) -> bool
    is_unpacked(client, image, snapshotter=None) -> bool
    unpack(client, image, snapshotter=None) -> str            # top chain id
    import_archive(client, source, opts=ImportOptions(), *, name=..., out=None,
                   progress=None) -> list[ImportedImage]
    read_archive(fileobj, store, *, name=...) -> ArchiveContents
    chain_id(diff_ids) -> str

Importing this package does not import grpc; the functions take a connected
:class:`runcore.containerd.client.Client`.
"""
from __future__ import annotations

from runcore.images.archive import ArchiveContents, read_archive
from runcore.images.identity import chain_id
from runcore.images.importer import ImportedImage, ImportOptions, import_archive
from runcore.images.unpack import ImageInfo, ensure_unpacked, is_unpacked, resolve_image, unpack

__all__ = [
    "ArchiveContents",
    "ImageInfo",
    "ImportOptions",
    "ImportedImage",
    "chain_id",
    "ensure_unpacked",
    "import_archive",
    "is_unpacked",
    "read_archive",
    "resolve_image",
    "unpack",
]
