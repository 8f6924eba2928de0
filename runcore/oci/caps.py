"""Linux capabilities: the kernel name table, CapEff parsing and the cap-add/cap-drop options."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Sequence

from runcore import gocompat as _go
from .errors import SpecError, ValidationError
from .spec import capabilities

#: Capability names by number (kernel 5.9: 0 … 40), as pkg/cap's capsLatest.
CAPABILITIES = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]

CAP_PREFIX_ERROR = "capabilities must be specified with 'CAP_' prefix"

_STATUS_KEYS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def caps_from_bitmap(bitmap: int) -> List[str]:
    """Known capability names of the set bits, ascending; unknown bits dropped (cap.FromBitmap)."""
    return [CAPABILITIES[i] for i in range(64) if (bitmap >> i) & 1 and i < len(CAPABILITIES)]


def parse_proc_status(text: str) -> Dict[str, int]:
    """The Cap* bitmaps of a /proc/<pid>/status text (cap.ParseProcPIDStatus); error ``failed to parse line "<l>"``."""
    out: Dict[str, int] = {}
    for line in text.split("\n"):
        if line.endswith("\r"):
            line = line[:-1]
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = _go.trim_space(key)
        if key in _STATUS_KEYS:
            try:
                out[key] = _go.parse_uint(_go.trim_space(value), 16, 64)
            except _go.GoNumError:
                raise SpecError(f"failed to parse line {_go.go_quote(line)}") from None
    return out


def caps_from_proc_status(text: str) -> List[str]:
    """Effective capabilities (CapEff bits ascending, bits > 40 dropped) of a /proc/<pid>/status text."""
    return caps_from_bitmap(parse_proc_status(text).get("CapEff", 0))


def current_caps(proc_status_path: str = "/proc/self/status") -> List[str]:
    """Effective capabilities of the process whose status file is given (cap.Current)."""
    try:
        with open(proc_status_path, "rb") as fh:
            text = _go.decode(fh.read())
    except OSError as exc:
        raise SpecError(_go.path_error("open", proc_status_path, exc)) from None
    return caps_from_proc_status(text)


def validate_caps(caps: Iterable[str]) -> None:
    """Raise ctr's error unless every value starts with ``CAP_`` (case-sensitive)."""
    for cap in caps:
        if not cap.startswith("CAP_"):
            raise ValidationError(CAP_PREFIX_ERROR)


def with_capabilities(spec: Dict[str, Any], caps: Sequence[str]) -> None:
    """Set bounding/effective/permitted to ``caps``; inheritable cleared if empty, else filtered (1.7.20+)."""
    c = capabilities(spec)
    c["bounding"] = list(caps)
    c["effective"] = list(caps)
    c["permitted"] = list(caps)
    if len(caps) == 0:
        c.pop("inheritable", None)
    elif c.get("inheritable"):
        c["inheritable"] = [x for x in c["inheritable"] if x in caps]


def add_caps(spec: Dict[str, Any], caps: Sequence[str]) -> None:
    """Append each cap to bounding, effective and permitted where missing (oci.WithAddedCapabilities)."""
    c = capabilities(spec)
    for cap in caps:
        for key in ("bounding", "effective", "permitted"):
            current = list(c.get(key) or [])
            if cap not in current:
                current.append(cap)
            c[key] = current


def drop_caps(spec: Dict[str, Any], caps: Sequence[str]) -> None:
    """Remove each cap from bounding, effective, permitted and inheritable (oci.WithDroppedCapabilities, 1.7.20+)."""
    c = capabilities(spec)
    for cap in caps:
        for key in ("bounding", "effective", "permitted", "inheritable"):
            if key in c and c[key] is not None:
                c[key] = [x for x in c[key] if x != cap]
