"""Image references for pulling: Docker-style short names, ctr-exact full names.

``busybox`` becomes ``docker.io/library/busybox:latest`` (as docker and nerdctl do; ctr
refuses short names). A fully qualified reference with a tag or digest (its first
component has a ``.`` or ``:``, or is ``localhost``) is kept exactly as typed, because
that is the image name ``ctr images pull`` stores; one without a tag gets ``:latest``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runcore.api import ImageError, UsageError, normalize_docker_ref

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class RemoteRef:
    """A parsed reference: the image name to store and where to fetch it."""

    name: str  # the image record's name
    host: str  # the reference host: docker.io, 127.0.0.1:5000 (never a mirror)
    repository: str  # library/busybox
    tag: str  # "" when only a digest is given
    digest: str  # "" without a digest

    @property
    def object(self) -> str:
        """What the resolver asks for: the digest if given, else the tag."""
        return self.digest or self.tag

    @property
    def source_label(self) -> str:
        """``containerd.io/distribution.source.<host without port>``."""
        host = self.host
        if host.startswith("["):
            host = host[1 : host.index("]")] if "]" in host else host
        else:
            host = host.rsplit(":", 1)[0] if ":" in host else host
        return f"containerd.io/distribution.source.{host}"


def is_qualified(text: str) -> bool:
    """Whether ``text`` names its registry host (``host.tld/...``, ``host:port/...``, ``localhost/...``)."""
    first, sep, _ = text.partition("/")
    return bool(sep) and (any(c in first for c in ".:[") or first == "localhost")


def parse(text: str) -> RemoteRef:
    """Parse ``text`` into a :class:`RemoteRef` (one-line ImageError when invalid)."""
    if not text:
        raise UsageError("please provide an image reference to pull")
    if "://" in text:
        raise ImageError(
            f'failed to resolve reference "{text}": invalid reference (no scheme allowed)'
        )
    normalized = normalize_docker_ref(text)  # validates the grammar
    name = normalized
    if is_qualified(text) and (normalized == text or _has_object(text)):
        name = text  # exactly as ctr names it (name:tag@digest keeps the tag)
    host, _, rest = normalized.partition("/")
    digest = ""
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise ImageError(f'failed to resolve reference "{text}": unsupported digest {digest!r}')
    tag = ""
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag = rest[:colon], rest[colon + 1 :]
    if "@" in text and "@" not in normalized:  # cannot happen; keep mypy honest
        raise ImageError(f'failed to resolve reference "{text}": invalid reference format')
    return RemoteRef(name=name, host=host, repository=rest, tag=tag, digest=digest)


def _has_object(text: str) -> bool:
    path = text.partition("/")[2]
    return ":" in path or "@" in path
