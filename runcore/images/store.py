"""The content operations image code needs, over a containerd client or in memory."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, BinaryIO, Callable, Optional, Protocol

from runcore import errors
from runcore.containerd.content import DigestMismatch, ShortBlob
from runcore.images.mediatypes import LABEL_UNCOMPRESSED

if TYPE_CHECKING:  # pragma: no cover
    from runcore.containerd.client import Client


class ContentStore(Protocol):
    """What archive import and image resolution use of containerd's content store."""

    def ingest(self, ref: str, stream: BinaryIO, size: int, expected: Optional[str]) -> str:
        """Store ``size`` bytes from ``stream``; return their digest (verified if ``expected``)."""

    def put(self, ref: str, data: bytes, digest: str) -> None:
        """Store a document whose digest is known."""

    def read(self, digest: str) -> bytes:
        """The blob's bytes (:class:`runcore.errors.NotFound` when absent)."""

    def head(self, digest: str, size: int) -> bytes:
        """The first ``size`` bytes of a blob."""

    def info(self, digest: str) -> tuple[int, dict]:
        """(size, labels) of a blob (:class:`runcore.errors.NotFound` when absent)."""

    def find_uncompressed(self, diff_ids: list[str]) -> dict[str, tuple[str, int]]:
        """Blobs labelled ``containerd.io/uncompressed=<diff id>``: diff id -> (digest, size)."""

    def set_labels(self, digest: str, labels: dict[str, str]) -> None:
        """Set (only) these labels on a blob, leaving the others alone."""


class ClientStore:
    """:class:`ContentStore` over containerd's content service."""

    def __init__(self, client: "Client", progress: Optional[Callable[[int], None]] = None) -> None:
        self.client = client
        self.progress = progress

    def ingest(self, ref: str, stream: BinaryIO, size: int, expected: Optional[str]) -> str:
        return self.client.write_blob(ref, stream, expected, size, progress=self.progress)

    def put(self, ref: str, data: bytes, digest: str) -> None:
        self.client.write_blob(ref, data, digest, len(data))

    def read(self, digest: str) -> bytes:
        return self.client.read_blob(digest)

    def head(self, digest: str, size: int) -> bytes:
        if size <= 0:
            return b""
        return b"".join(
            r.data for r in self.client.content.Read(digest=digest, offset=0, size=size)
        )

    def info(self, digest: str) -> tuple[int, dict]:
        resp = self.client.content.Info(digest=digest)
        return resp.info.size, dict(resp.info.labels)

    def find_uncompressed(self, diff_ids: list[str]) -> dict[str, tuple[str, int]]:
        if not diff_ids:
            return {}
        filters = [f'labels."{LABEL_UNCOMPRESSED}"=={d}' for d in diff_ids]
        found: dict[str, tuple[str, int]] = {}
        for resp in self.client.content.List(filters=filters):
            for info in resp.info:
                diff_id = info.labels.get(LABEL_UNCOMPRESSED)
                if diff_id in diff_ids:
                    found[diff_id] = (info.digest, info.size)
        return found

    def set_labels(self, digest: str, labels: dict[str, str]) -> None:
        pb = self.client.pb
        self.client.content.Update(
            info=pb.content.Info(digest=digest, labels=labels),
            update_mask=pb.field_mask.FieldMask(paths=[f"labels.{k}" for k in labels]),
        )


class MemoryStore:
    """An in-memory :class:`ContentStore` (tests, dry runs)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.labels: dict[str, dict[str, str]] = {}
        self.refs: list[str] = []

    def ingest(self, ref: str, stream: BinaryIO, size: int, expected: Optional[str]) -> str:
        data = stream.read(size) if size else b""
        if len(data) != size:
            raise ShortBlob(ref, len(data), size)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if expected and digest != expected:
            raise DigestMismatch(ref, expected, digest)
        self.refs.append(ref)
        self.blobs.setdefault(digest, data)
        self.labels.setdefault(digest, {})
        return digest

    def put(self, ref: str, data: bytes, digest: str) -> None:
        self.ingest(ref, io.BytesIO(data), len(data), digest)

    def read(self, digest: str) -> bytes:
        try:
            return self.blobs[digest]
        except KeyError:
            raise errors.NotFound(f"content digest {digest}: not found") from None

    def head(self, digest: str, size: int) -> bytes:
        return self.read(digest)[:size]

    def info(self, digest: str) -> tuple[int, dict]:
        return len(self.read(digest)), dict(self.labels.get(digest, {}))

    def find_uncompressed(self, diff_ids: list[str]) -> dict[str, tuple[str, int]]:
        found = {}
        for digest, labels in self.labels.items():
            diff_id = labels.get(LABEL_UNCOMPRESSED)
            if diff_id in diff_ids:
                found[diff_id] = (digest, len(self.blobs[digest]))
        return found

    def set_labels(self, digest: str, labels: dict[str, str]) -> None:
        self.read(digest)
        self.labels.setdefault(digest, {}).update(labels)
