"""Linux namespaces: ``--with-ns``, host namespaces and user-namespace id mappings."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from runcore import gocompat as _go
from .errors import ValidationError
from .spec import linux

#: Namespace types ``--with-ns`` accepts.
VALID_NAMESPACES = ("pid", "network", "uts", "mount", "user", "ipc", "cgroup")

WITH_NS_FORMAT_ERROR = "joining a Linux namespace using --with-ns requires the format 'nstype:path'"
WITH_NS_TYPE_ERROR = "the Linux namespace type specified in --with-ns is not valid: "
ID_MAPPING_FORMAT_ERROR = "user namespace mappings require the format `container-id:host-id:size`"


def parse_with_ns(value: str) -> Dict[str, str]:
    """``type:path`` split at the first ':' into a LinuxNamespace dict, validated as ctr 1.7 does."""
    ns_type, sep, ns_path = value.partition(":")
    if not sep:
        raise ValidationError(WITH_NS_FORMAT_ERROR)
    if ns_type not in VALID_NAMESPACES:
        raise ValidationError(WITH_NS_TYPE_ERROR + ns_type)
    ns = {"type": ns_type}
    if ns_path != "":
        ns["path"] = ns_path
    return ns


def with_linux_namespace(spec: Dict[str, Any], ns: Dict[str, str]) -> None:
    """Replace the namespace of the same type in place, or append it (oci.WithLinuxNamespace)."""
    lin = linux(spec)
    namespaces = list(lin.get("namespaces") or [])
    for i, existing in enumerate(namespaces):
        if existing.get("type") == ns["type"]:
            namespaces[i] = dict(ns)
            break
    else:
        namespaces.append(dict(ns))
    lin["namespaces"] = namespaces


def with_ns(spec: Dict[str, Any], value: str) -> None:
    """Apply one ``--with-ns`` value (parse + oci.WithLinuxNamespace)."""
    with_linux_namespace(spec, parse_with_ns(value))


def with_host_namespace(spec: Dict[str, Any], ns_type: str) -> None:
    """Remove the first namespace entry of ``ns_type`` (oci.WithHostNamespace)."""
    lin = linux(spec)
    namespaces = list(lin.get("namespaces") or [])
    for i, existing in enumerate(namespaces):
        if existing.get("type") == ns_type:
            del namespaces[i]
            break
    lin["namespaces"] = namespaces


def parse_id_mapping(value: str) -> Dict[str, int]:
    """``container-id:host-id:size`` (each strconv.ParseUint(x, 0, 32)) into a LinuxIDMapping dict."""
    parts = value.split(":", 3)
    if len(parts) != 3:
        raise ValidationError(ID_MAPPING_FORMAT_ERROR)
    out = {}
    for key, what, text in zip(
        ("containerID", "hostID", "size"), ("container id", "host id", "size"), parts
    ):
        try:
            out[key] = _go.parse_uint(text, 0, 32)
        except _go.GoNumError as exc:
            raise ValidationError(f"invalid {what} for user namespace remapping: {exc}") from None
    return out


def with_user_namespace(
    spec: Dict[str, Any], uidmaps: Sequence[Dict[str, int]], gidmaps: Sequence[Dict[str, int]]
) -> None:
    """Add a ``user`` namespace if none and append the mappings (oci.WithUserNamespace)."""
    lin = linux(spec)
    namespaces: List[Dict[str, Any]] = list(lin.get("namespaces") or [])
    if not any(ns.get("type") == "user" for ns in namespaces):
        namespaces.append({"type": "user"})
    lin["namespaces"] = namespaces
    lin["uidMappings"] = list(lin.get("uidMappings") or []) + [dict(m) for m in uidmaps]
    lin["gidMappings"] = list(lin.get("gidMappings") or []) + [dict(m) for m in gidmaps]
