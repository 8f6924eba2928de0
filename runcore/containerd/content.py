"""Reading and writing blobs through containerd's content service."""

from __future__ import annotations

import collections
import hashlib
import io
import random
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Deque, Iterable, Optional, Union

from runcore import errors

if TYPE_CHECKING:  # pragma: no cover
    from runcore.containerd.client import Client

#: Bytes per Content/Write message (containerd's gRPC limit is 16 MiB).
CHUNK = 1 << 20
#: Content/Write messages sent ahead of containerd's answers: containerd writes one
#: chunk while the next is read, hashed and sent (lock step waited a round trip per MiB).
WINDOW = 4
#: How long a ref locked by another writer is waited for.
LOCK_WAIT = 30.0

BlobSource = Union[bytes, bytearray, memoryview, BinaryIO, Iterable[bytes]]


class DigestMismatch(errors.ImageError):
    """The bytes written do not hash to the digest they were announced with."""

    def __init__(self, ref: str, expected: str, actual: str) -> None:
        super().__init__(f"{ref}: digest mismatch: expected {expected}, got {actual}")
        self.ref, self.expected, self.actual = ref, expected, actual


class ShortBlob(errors.ImageError):
    """The data ended before (or went past) the announced size."""

    def __init__(self, ref: str, got: int, expected: int) -> None:
        super().__init__(f"{ref}: got {got} bytes, expected {expected} (truncated data)")
        self.ref, self.got, self.expected = ref, got, expected


def _chunks(data: BlobSource, size: Optional[int]) -> Iterable[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])
        return
    read = getattr(data, "read", None)
    if read is not None:
        left = size
        while left is None or left > 0:
            block = read(CHUNK if left is None else min(CHUNK, left))
            if not block:
                return
            if left is not None:
                left -= len(block)
            yield block
        return
    yield from data  # an iterable of byte strings


def read_blob(client: "Client", digest: str, *, offset: int = 0, size: int = 0) -> bytes:
    """The whole blob ``digest`` (or ``size`` bytes from ``offset``)."""
    buf = io.BytesIO()
    for resp in client.content.Read(digest=digest, offset=offset, size=size):
        buf.write(resp.data)
    return buf.getvalue()


def write_blob(
    client: "Client",
    ref: str,
    data: BlobSource,
    expected_digest: Optional[str] = None,
    size: Optional[int] = None,
    labels: Optional[dict[str, str]] = None,
    progress: Optional[Callable[[int], None]] = None,
) -> str:
    """Store ``data`` as a blob through Content/Write and return its digest.

    The data is hashed while it streams; the commit names the digest, so
    containerd verifies it too.  When ``expected_digest`` is given and differs,
    the ingest is aborted and :class:`DigestMismatch` raised.  A blob that already
    exists in the namespace is not sent again.  ``size`` (when given) must match.
    """
    pb = client.pb.content
    if expected_digest and not expected_digest.startswith("sha256:"):
        raise errors.ImageError(f"unsupported digest algorithm in {expected_digest!r}")
    try:
        stream, status = _open(client, ref, size, expected_digest)
    except errors.AlreadyExists:
        # Present in the namespace already (labels are left as they are, as
        # containerd's WriteBlob does); consume the data so a stream stays in step.
        _drain(data, size, progress)
        return expected_digest or ""
    done = False
    try:
        hasher = hashlib.sha256()
        offset = 0
        # containerd already holds the blob (shared from another namespace): it
        # reports the whole size as written; hash the data but do not resend it.
        present = bool(expected_digest) and size is not None and size > 0 and status.offset == size
        restart = status.offset > 0 and not present  # a stale ingest under this ref
        unanswered: Deque[int] = collections.deque()  # offsets containerd must report
        for block in _chunks(data, size):
            hasher.update(block)
            if not present:
                # Offset 0 makes containerd truncate whatever the ref held before.
                stream.send(
                    pb.WriteContentRequest(
                        action=pb.WRITE, offset=0 if restart else offset, data=block
                    )
                )
                restart = False
                unanswered.append(offset + len(block))
                if len(unanswered) >= WINDOW:
                    _check_written(stream, ref, unanswered.popleft())
            offset += len(block)
            if progress:
                progress(len(block))
        while unanswered:
            _check_written(stream, ref, unanswered.popleft())
        if size is not None and offset != size:
            raise ShortBlob(ref, offset, size)
        actual = "sha256:" + hasher.hexdigest()
        if expected_digest and actual != expected_digest:
            raise DigestMismatch(ref, expected_digest, actual)
        try:
            # Without an announced digest the commit names none either (as ctr's import):
            # containerd answers a commit naming the digest of a blob it has with
            # AlreadyExists before the blob is added to the caller's lease, and the
            # collector may then take it before anything refers to it. Its own digest of
            # what it was sent is checked below instead.
            resp = stream.exchange(
                pb.WriteContentRequest(
                    action=pb.COMMIT,
                    total=offset,
                    offset=offset,
                    expected=actual if expected_digest else "",
                    labels=labels or {},
                )
            )
        except errors.AlreadyExists:
            pass  # present already (now held by the caller's lease)
        else:
            if resp.digest and resp.digest != actual:
                raise DigestMismatch(ref, actual, resp.digest)
        done = True
        return actual
    finally:
        stream.close(cancel=not done)
        if not done:
            _abort(client, ref)


def _check_written(stream: Any, ref: str, expected: int) -> None:
    """containerd's answer to the oldest unanswered WRITE must be at ``expected``."""
    resp = stream.receive()
    if resp.offset != expected:
        raise errors.ContainerdError(
            f"short write to {ref}: containerd is at {resp.offset}, expected {expected}"
        )


def _open(client: "Client", ref: str, size: Optional[int], expected: Optional[str]):
    """Start a Content/Write stream and send the STAT that opens ``ref``.

    A ref locked by another writer is retried with backoff for up to
    :data:`LOCK_WAIT` seconds, as containerd's ``content.OpenWriter`` does.
    """
    pb = client.pb.content
    deadline = time.monotonic() + LOCK_WAIT
    delay = 0.016
    while True:
        stream = client.content.Write.open()
        try:
            status = stream.exchange(
                pb.WriteContentRequest(
                    action=pb.STAT, ref=ref, total=size or 0, expected=expected or ""
                )
            )
            return stream, status
        except errors.Unavailable as exc:
            stream.close(cancel=True)
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        except BaseException:
            stream.close(cancel=True)
            raise
        time.sleep(random.uniform(0, delay))
        delay = min(delay * 2, 2.0)


def _drain(
    data: BlobSource, size: Optional[int], progress: Optional[Callable[[int], None]] = None
) -> None:
    """Consume a stream that was not needed (so a tar reader stays in step)."""
    if not isinstance(data, (bytes, bytearray, memoryview)) and hasattr(data, "read"):
        for block in _chunks(data, size):
            if progress:
                progress(len(block))


def _abort(client: "Client", ref: str) -> None:
    try:
        client.content.Abort(ref=ref)
    except errors.ContainerdError:
        pass


def fetch_blob(
    client: "Client",
    ref: str,
    opener: Callable[[int], Iterable[bytes]],
    expected_digest: str,
    size: int,
    labels: Optional[dict[str, str]] = None,
    progress: Optional[Callable[[int], None]] = None,
    local_hash: bool = True,
    window: int = 4,
) -> bool:
    """Store the blob ``expected_digest`` of ``size`` bytes, fetching only what is missing.

    For content from a remote (a registry), as containerd's ``content.Copy`` does it:
    the ingest ``ref`` is opened first, and only then ``opener(offset)`` is called for the
    bytes from ``offset`` on (so nothing is fetched for a blob the namespace already has).

    * The namespace has the blob (AlreadyExists): nothing is fetched; returns False.
    * containerd already holds all of it (content shared from another namespace, or a
      finished ingest): committed without fetching.
    * An ingest left by an interrupted pull (``0 < offset < size``): resumed from its offset.
    * Otherwise the bytes are streamed, up to ``window`` writes in flight.

    containerd hashes every byte it is given and refuses a commit whose digest differs
    from ``expected_digest``; with ``local_hash`` (a fresh ingest) the bytes are also hashed
    here and the commit is not even attempted on a mismatch. Too many or too few bytes, or a
    digest mismatch, abort the ingest and raise :class:`ShortBlob` /
    :class:`DigestMismatch`: nothing unverified is committed. Returns True when the blob
    was committed by this call.
    """
    pb = client.pb.content
    try:
        stream, status = _open(client, ref, size, expected_digest)
    except errors.AlreadyExists:
        return False
    done = False
    try:
        offset = status.offset if 0 < status.offset <= size else 0
        hasher = hashlib.sha256() if offset == 0 and local_hash else None
        if offset < size:
            restart = status.offset > 0 and offset == 0  # a stale ingest: start it over
            pending: list[int] = []  # offsets expected in the answers still to come

            def settle(keep: int) -> None:
                while len(pending) > keep:
                    want = pending.pop(0)
                    resp = stream.receive()
                    if resp.offset != want:
                        raise errors.ContainerdError(
                            f"short write to {ref}: containerd is at {resp.offset}, expected {want}"
                        )

            for block in opener(offset):
                if not block:
                    continue
                if offset + len(block) > size:
                    raise ShortBlob(ref, offset + len(block), size)
                if hasher is not None:
                    hasher.update(block)
                stream.send(
                    pb.WriteContentRequest(
                        action=pb.WRITE, offset=0 if restart else offset, data=block
                    )
                )
                restart = False
                offset += len(block)
                pending.append(offset)
                settle(window - 1)
                if progress:
                    progress(len(block))
            settle(0)
            if offset != size:
                raise ShortBlob(ref, offset, size)
        if hasher is not None:
            actual = "sha256:" + hasher.hexdigest()
            if actual != expected_digest:
                raise DigestMismatch(ref, expected_digest, actual)
        try:
            stream.exchange(
                pb.WriteContentRequest(
                    action=pb.COMMIT,
                    total=size,
                    offset=size,
                    expected=expected_digest,
                    labels=labels or {},
                )
            )
        except errors.AlreadyExists:
            pass  # committed by someone else meanwhile
        except errors.FailedPrecondition as exc:
            # containerd's own check: "unexpected commit digest …" / "unexpected commit size …"
            raise errors.ImageError(f"{ref}: commit failed: {exc}") from None
        done = True
        return True
    finally:
        stream.close(cancel=not done)
        if not done:
            _abort(client, ref)
