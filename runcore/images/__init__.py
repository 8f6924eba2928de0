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

Importing this package does not import grpc, nor any of its modules: each name is
imported on first use (``runcore run`` needs resolution and unpacking, not the archive
reader or the importer).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from runcore.images.archive import ArchiveContents, read_archive
    from runcore.images.identity import chain_id
    from runcore.images.importer import ImportedImage, ImportOptions, import_archive
    from runcore.images.unpack import ImageInfo, ensure_unpacked, is_unpacked, resolve_image, unpack

#: public name -> module that defines it
_LAZY = {
    "ArchiveContents": "runcore.images.archive",
    "read_archive": "runcore.images.archive",
    "chain_id": "runcore.images.identity",
    "ImportedImage": "runcore.images.importer",
    "ImportOptions": "runcore.images.importer",
    "import_archive": "runcore.images.importer",
    "ImageInfo": "runcore.images.unpack",
    "ensure_unpacked": "runcore.images.unpack",
    "is_unpacked": "runcore.images.unpack",
    "resolve_image": "runcore.images.unpack",
    "unpack": "runcore.images.unpack",
}

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


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    loaded = importlib.import_module(module)
    value = getattr(loaded, name)
    globals()[name] = value
    if module == "runcore.images.unpack":
        # importing the submodule bound the package attribute ``unpack`` to the module;
        # the public name is the function (as it was with eager imports)
        globals()["unpack"] = loaded.unpack
    return value
