"""Image names: Docker normalisation and how ``ctr images import`` names images."""

from __future__ import annotations

import re
from typing import Callable, Optional

from runcore import errors

#: Annotation holding the full image name (written by containerd's exporter/importer).
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
#: OCI annotation holding the reference name (usually only a tag).
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[(?:[a-fA-F0-9:]+)\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_HEX64 = re.compile(r"^[a-f0-9]{64}$")

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"


def _split_docker_domain(name: str) -> tuple[str, str]:
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or (
        not any(c in first for c in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, name[i + 1 :]
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def normalize_docker_ref(ref: str) -> str:
    """Docker's ``ParseDockerRef``: ``alpine`` → ``docker.io/library/alpine:latest``.

    A reference with both tag and digest keeps only the digest.
    """

    def bad(why: str) -> errors.ImageError:
        return errors.ImageError(f'normalize image ref "{ref}": {why}')

    if _HEX64.match(ref):
        raise bad(f"invalid repository name ({ref}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(ref)
    tail = remainder
    # split off digest and tag from the remainder
    digest = ""
    if "@" in tail:
        tail, digest = tail.split("@", 1)
    tag = None
    colon = tail.rfind(":")
    if colon > tail.rfind("/"):
        tail, tag = tail[:colon], tail[colon + 1 :]
    if tag == "" or ("@" in remainder and not digest):
        raise bad("invalid reference format")
    if tail.lower() != tail:
        raise bad("repository name must be lowercase")
    full = f"{domain}/{tail}"
    text = full + (f":{tag}" if tag is not None else "") + (f"@{digest}" if digest else "")
    if not _REFERENCE.match(text):
        raise bad("invalid reference format")
    if digest:
        return f"{full}@{digest}"
    return f"{full}:{tag or 'latest'}"


def oci_reference_name(name: str) -> str:
    """The OCI ref-name for a full name: the object after the locator (``latest``,
    ``@sha256:…``), or the name itself when it has no host part."""
    if "://" in name:
        return name
    slash = name.find("/")
    if slash <= 0:
        return name  # containerd's reference.Parse requires a host
    m = re.search(r"[:@]", name[slash:])
    if not m:
        return ""
    obj = name[slash + m.start() :]
    return obj[1:] if obj.startswith(":") else obj


def _translator(prefix: str, check_prefix: bool) -> Callable[[str], str]:
    def translate(ref: str) -> str:
        if not prefix:
            return ""
        if any(c in ref for c in "/:@"):
            if check_prefix and not _has_image_prefix(ref, prefix):
                return ""
            return ref
        return f"{prefix}:{ref}"

    return translate


def _has_image_prefix(s: str, prefix: str) -> bool:
    if not s.startswith(prefix):
        return False
    return len(s) == len(prefix) or s[len(prefix)] in "/:@"


def add_ref_prefix(prefix: str) -> Callable[[str], str]:
    """Tag-only ref names become ``<prefix>:<tag>``; full names pass unchanged."""
    return _translator(prefix, False)


def filter_ref_prefix(prefix: str) -> Callable[[str], str]:
    """Like :func:`add_ref_prefix`, but full names not under ``prefix`` are dropped."""
    return _translator(prefix, True)


def image_name(annotations: Optional[dict], translate: Optional[Callable[[str], str]]) -> str:
    """The image name ``ctr images import`` gives an index entry ("" = unnamed)."""
    annotations = annotations or {}
    name = annotations.get(ANNOTATION_IMAGE_NAME, "")
    if name:
        return name
    name = annotations.get(ANNOTATION_REF_NAME, "")
    if name and translate is not None:
        name = translate(name)
    return name
