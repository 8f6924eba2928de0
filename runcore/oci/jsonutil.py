"""Serialise a spec dict byte-for-byte like Go's encoding/json does for runtime-spec v1.2.0 ``specs.Spec``.

Rules reproduced: keys in Go struct field order; ``omitempty`` drops "", 0,
false, nil pointers and empty slices/maps (never struct values; pointers to
zero are kept); fields without ``omitempty`` are always written, with the Go
zero value when absent from the dict (``null`` for slices, maps and
pointers); map keys sorted; compact output; HTML-safe string escaping
(``<``, ``>``, ``&`` as ``\\u003c`` …), U+2028/2029 escaped, invalid UTF-8
(lone surrogates) as ``\\ufffd``. Keys unknown to the schema are written after
the known ones, sorted (or dropped with ``drop_unknown=True``, as a Go decode
+ encode round trip would).
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Dict, List, Tuple, Union

#: Go >= 1.22 writes \b and \f as short escapes (Debian trixie builds ctr 1.7.24 with Go 1.24).
SHORT_B_F_ESCAPES = True

TypeSpec = Union[str, Tuple[str, Any]]

S, B, I, A = "string", "bool", "int", "any"


def P(t: TypeSpec) -> Tuple[str, Any]:
    """Pointer to t."""
    return ("ptr", t)


def L(t: TypeSpec) -> Tuple[str, Any]:
    """Slice of t."""
    return ("slice", t)


def M(t: TypeSpec) -> Tuple[str, Any]:
    """map[string]t."""
    return ("map", t)


def T(name: str) -> Tuple[str, Any]:
    """Struct value of the named type."""
    return ("struct", name)


# (json key, type, omitempty) in Go declaration order; embedded structs flattened.
STRUCTS: Dict[str, List[Tuple[str, TypeSpec, bool]]] = {
    "Spec": [
        ("ociVersion", S, False),
        ("process", P(T("Process")), True),
        ("root", P(T("Root")), True),
        ("hostname", S, True),
        ("domainname", S, True),
        ("mounts", L(T("Mount")), True),
        ("hooks", P(T("Hooks")), True),
        ("annotations", M(S), True),
        ("linux", P(T("Linux")), True),
        ("solaris", P(T("Solaris")), True),
        ("windows", P(T("Windows")), True),
        ("vm", P(T("VM")), True),
        ("zos", P(T("ZOS")), True),
    ],
    "Scheduler": [
        ("policy", S, False),
        ("nice", I, True),
        ("priority", I, True),
        ("flags", L(S), True),
        ("runtime", I, True),
        ("deadline", I, True),
        ("period", I, True),
    ],
    "Process": [
        ("terminal", B, True),
        ("consoleSize", P(T("Box")), True),
        ("user", T("User"), False),
        ("args", L(S), True),
        ("commandLine", S, True),
        ("env", L(S), True),
        ("cwd", S, False),
        ("capabilities", P(T("LinuxCapabilities")), True),
        ("rlimits", L(T("POSIXRlimit")), True),
        ("noNewPrivileges", B, True),
        ("apparmorProfile", S, True),
        ("oomScoreAdj", P(I), True),
        ("scheduler", P(T("Scheduler")), True),
        ("selinuxLabel", S, True),
        ("ioPriority", P(T("LinuxIOPriority")), True),
    ],
    "LinuxCapabilities": [
        ("bounding", L(S), True),
        ("effective", L(S), True),
        ("inheritable", L(S), True),
        ("permitted", L(S), True),
        ("ambient", L(S), True),
    ],
    "LinuxIOPriority": [("class", S, False), ("priority", I, False)],
    "Box": [("height", I, False), ("width", I, False)],
    "User": [
        ("uid", I, False),
        ("gid", I, False),
        ("umask", P(I), True),
        ("additionalGids", L(I), True),
        ("username", S, True),
    ],
    "Root": [("path", S, False), ("readonly", B, True)],
    "Mount": [
        ("destination", S, False),
        ("type", S, True),
        ("source", S, True),
        ("options", L(S), True),
        ("uidMappings", L(T("LinuxIDMapping")), True),
        ("gidMappings", L(T("LinuxIDMapping")), True),
    ],
    "Hook": [("path", S, False), ("args", L(S), True), ("env", L(S), True), ("timeout", P(I), True)],
    "Hooks": [
        ("prestart", L(T("Hook")), True),
        ("createRuntime", L(T("Hook")), True),
        ("createContainer", L(T("Hook")), True),
        ("startContainer", L(T("Hook")), True),
        ("poststart", L(T("Hook")), True),
        ("poststop", L(T("Hook")), True),
    ],
    "Linux": [
        ("uidMappings", L(T("LinuxIDMapping")), True),
        ("gidMappings", L(T("LinuxIDMapping")), True),
        ("sysctl", M(S), True),
        ("resources", P(T("LinuxResources")), True),
        ("cgroupsPath", S, True),
        ("namespaces", L(T("LinuxNamespace")), True),
        ("devices", L(T("LinuxDevice")), True),
        ("seccomp", P(T("LinuxSeccomp")), True),
        ("rootfsPropagation", S, True),
        ("maskedPaths", L(S), True),
        ("readonlyPaths", L(S), True),
        ("mountLabel", S, True),
        ("intelRdt", P(T("LinuxIntelRdt")), True),
        ("personality", P(T("LinuxPersonality")), True),
        ("timeOffsets", M(T("LinuxTimeOffset")), True),
    ],
    "LinuxNamespace": [("type", S, False), ("path", S, True)],
    "LinuxIDMapping": [("containerID", I, False), ("hostID", I, False), ("size", I, False)],
    "LinuxTimeOffset": [("secs", I, True), ("nanosecs", I, True)],
    "POSIXRlimit": [("type", S, False), ("hard", I, False), ("soft", I, False)],
    "LinuxHugepageLimit": [("pageSize", S, False), ("limit", I, False)],
    "LinuxInterfacePriority": [("name", S, False), ("priority", I, False)],
    "LinuxWeightDevice": [
        ("major", I, False),
        ("minor", I, False),
        ("weight", P(I), True),
        ("leafWeight", P(I), True),
    ],
    "LinuxThrottleDevice": [("major", I, False), ("minor", I, False), ("rate", I, False)],
    "LinuxBlockIO": [
        ("weight", P(I), True),
        ("leafWeight", P(I), True),
        ("weightDevice", L(T("LinuxWeightDevice")), True),
        ("throttleReadBpsDevice", L(T("LinuxThrottleDevice")), True),
        ("throttleWriteBpsDevice", L(T("LinuxThrottleDevice")), True),
        ("throttleReadIOPSDevice", L(T("LinuxThrottleDevice")), True),
        ("throttleWriteIOPSDevice", L(T("LinuxThrottleDevice")), True),
    ],
    "LinuxMemory": [
        ("limit", P(I), True),
        ("reservation", P(I), True),
        ("swap", P(I), True),
        ("kernel", P(I), True),
        ("kernelTCP", P(I), True),
        ("swappiness", P(I), True),
        ("disableOOMKiller", P(B), True),
        ("useHierarchy", P(B), True),
        ("checkBeforeUpdate", P(B), True),
    ],
    "LinuxCPU": [
        ("shares", P(I), True),
        ("quota", P(I), True),
        ("burst", P(I), True),
        ("period", P(I), True),
        ("realtimeRuntime", P(I), True),
        ("realtimePeriod", P(I), True),
        ("cpus", S, True),
        ("mems", S, True),
        ("idle", P(I), True),
    ],
    "LinuxPids": [("limit", I, False)],
    "LinuxNetwork": [("classID", P(I), True), ("priorities", L(T("LinuxInterfacePriority")), True)],
    "LinuxRdma": [("hcaHandles", P(I), True), ("hcaObjects", P(I), True)],
    "LinuxResources": [
        ("devices", L(T("LinuxDeviceCgroup")), True),
        ("memory", P(T("LinuxMemory")), True),
        ("cpu", P(T("LinuxCPU")), True),
        ("pids", P(T("LinuxPids")), True),
        ("blockIO", P(T("LinuxBlockIO")), True),
        ("hugepageLimits", L(T("LinuxHugepageLimit")), True),
        ("network", P(T("LinuxNetwork")), True),
        ("rdma", M(T("LinuxRdma")), True),
        ("unified", M(S), True),
    ],
    "LinuxDevice": [
        ("path", S, False),
        ("type", S, False),
        ("major", I, False),
        ("minor", I, False),
        ("fileMode", P(I), True),
        ("uid", P(I), True),
        ("gid", P(I), True),
    ],
    "LinuxDeviceCgroup": [
        ("allow", B, False),
        ("type", S, True),
        ("major", P(I), True),
        ("minor", P(I), True),
        ("access", S, True),
    ],
    "LinuxPersonality": [("domain", S, False), ("flags", L(S), True)],
    "Solaris": [
        ("milestone", S, True),
        ("limitpriv", S, True),
        ("maxShmMemory", S, True),
        ("anet", L(T("SolarisAnet")), True),
        ("cappedCPU", P(T("SolarisCappedCPU")), True),
        ("cappedMemory", P(T("SolarisCappedMemory")), True),
    ],
    "SolarisCappedCPU": [("ncpus", S, True)],
    "SolarisCappedMemory": [("physical", S, True), ("swap", S, True)],
    "SolarisAnet": [
        ("linkname", S, True),
        ("lowerLink", S, True),
        ("allowedAddress", S, True),
        ("configureAllowedAddress", S, True),
        ("defrouter", S, True),
        ("linkProtection", S, True),
        ("macAddress", S, True),
    ],
    "Windows": [
        ("layerFolders", L(S), False),
        ("devices", L(T("WindowsDevice")), True),
        ("resources", P(T("WindowsResources")), True),
        ("credentialSpec", A, True),
        ("servicing", B, True),
        ("ignoreFlushesDuringBoot", B, True),
        ("hyperv", P(T("WindowsHyperV")), True),
        ("network", P(T("WindowsNetwork")), True),
    ],
    "WindowsDevice": [("id", S, False), ("idType", S, False)],
    "WindowsResources": [
        ("memory", P(T("WindowsMemoryResources")), True),
        ("cpu", P(T("WindowsCPUResources")), True),
        ("storage", P(T("WindowsStorageResources")), True),
    ],
    "WindowsMemoryResources": [("limit", P(I), True)],
    "WindowsCPUResources": [("count", P(I), True), ("shares", P(I), True), ("maximum", P(I), True)],
    "WindowsStorageResources": [("iops", P(I), True), ("bps", P(I), True), ("sandboxSize", P(I), True)],
    "WindowsNetwork": [
        ("endpointList", L(S), True),
        ("allowUnqualifiedDNSQuery", B, True),
        ("DNSSearchList", L(S), True),
        ("networkSharedContainerName", S, True),
        ("networkNamespace", S, True),
    ],
    "WindowsHyperV": [("utilityVMPath", S, True)],
    "VM": [("hypervisor", T("VMHypervisor"), True), ("kernel", T("VMKernel"), False), ("image", T("VMImage"), True)],
    "VMHypervisor": [("path", S, False), ("parameters", L(S), True)],
    "VMKernel": [("path", S, False), ("parameters", L(S), True), ("initrd", S, True)],
    "VMImage": [("path", S, False), ("format", S, False)],
    "LinuxSeccomp": [
        ("defaultAction", S, False),
        ("defaultErrnoRet", P(I), True),
        ("architectures", L(S), True),
        ("flags", L(S), True),
        ("listenerPath", S, True),
        ("listenerMetadata", S, True),
        ("syscalls", L(T("LinuxSyscall")), True),
    ],
    "LinuxSyscall": [
        ("names", L(S), False),
        ("action", S, False),
        ("errnoRet", P(I), True),
        ("args", L(T("LinuxSeccompArg")), True),
    ],
    "LinuxSeccompArg": [("index", I, False), ("value", I, False), ("valueTwo", I, True), ("op", S, False)],
    "LinuxIntelRdt": [
        ("closID", S, True),
        ("l3CacheSchema", S, True),
        ("memBwSchema", S, True),
        ("enableCMT", B, True),
        ("enableMBM", B, True),
    ],
    "ZOS": [("devices", L(T("ZOSDevice")), True)],
    "ZOSDevice": [
        ("path", S, False),
        ("type", S, False),
        ("major", I, False),
        ("minor", I, False),
        ("fileMode", P(I), True),
        ("uid", P(I), True),
        ("gid", P(I), True),
    ],
}

_HEX = "0123456789abcdef"


def go_json_string(s: str) -> str:
    """A JSON string literal as Go's encoding/json writes it (HTML-safe)."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if c < 0x80:
            if ch == '"' or ch == "\\":
                out.append("\\" + ch)
            elif ch in "<>&":
                out.append("\\u00" + _HEX[c >> 4] + _HEX[c & 0xF])
            elif c >= 0x20:
                out.append(ch)
            elif ch == "\n":
                out.append("\\n")
            elif ch == "\r":
                out.append("\\r")
            elif ch == "\t":
                out.append("\\t")
            elif ch == "\b" and SHORT_B_F_ESCAPES:
                out.append("\\b")
            elif ch == "\f" and SHORT_B_F_ESCAPES:
                out.append("\\f")
            else:
                out.append("\\u00" + _HEX[c >> 4] + _HEX[c & 0xF])
        elif 0xD800 <= c <= 0xDFFF:
            out.append("\\ufffd")  # invalid UTF-8 byte (surrogateescape) or lone surrogate
        elif c == 0x2028 or c == 0x2029:
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_float(f: float) -> str:
    """A float64 as encoding/json writes it."""
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f"json: unsupported value: {f!r}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    dec = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(str(d) for d in dec.digits)
    point = len(digits) + int(dec.exponent)  # value = 0.<digits> * 10**point
    neg = f < 0
    abs_f = abs(f)
    sign = "-" if neg else ""
    if abs_f < 1e-6 or abs_f >= 1e21:
        e = point - 1
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp_s = ("-" if e < 0 else "+") + ("%02d" % abs(e))
        if exp_s.startswith("-0") and len(exp_s) == 3:
            exp_s = "-" + exp_s[2]
        return f"{sign}{body}e{exp_s}"
    if point <= 0:
        return f"{sign}0." + "0" * (-point) + digits
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return sign + digits[:point] + "." + digits[point:]


def _encode_any(value: Any, path: str) -> str:
    """Generic encoding (interface{} / unknown keys): maps sorted, lists, scalars."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: _key_order(kv[0]))
        return "{" + ",".join(go_json_string(k) + ":" + _encode_any(v, f"{path}.{k}") for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode_any(v, f"{path}[{i}]") for i, v in enumerate(value)) + "]"
    raise TypeError(f"{path}: cannot encode {type(value).__name__}")


def _key_order(key: str) -> bytes:
    """Go sorts map keys by their bytes."""
    return key.encode("utf-8", "surrogatepass")


def _is_empty(value: Any, typ: TypeSpec) -> bool:
    """Whether ``omitempty`` drops ``value`` of type ``typ``."""
    if isinstance(typ, tuple) and typ[0] == "struct":
        return False
    if value is None:
        return True
    if typ == S:
        return value == ""
    if typ == B:
        return value is False
    if typ == I:
        return value == 0
    if isinstance(typ, tuple) and typ[0] in ("slice", "map"):
        return len(value) == 0
    return False


def _encode(value: Any, typ: TypeSpec, path: str, drop_unknown: bool) -> str:
    """Encode ``value`` as Go type ``typ`` (None = zero value / nil)."""
    if typ == S:
        if value is None:
            return '""'
        if not isinstance(value, str):
            raise TypeError(f"{path}: expected a string, got {type(value).__name__}")
        return go_json_string(value)
    if typ == B:
        if value is None:
            return "false"
        if not isinstance(value, bool):
            raise TypeError(f"{path}: expected a bool, got {type(value).__name__}")
        return "true" if value else "false"
    if typ == I:
        if value is None:
            return "0"
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{path}: expected an integer, got {type(value).__name__}")
        return str(value)
    if typ == A:
        return _encode_any(value, path)
    kind, inner = typ
    if kind == "ptr":
        return "null" if value is None else _encode(value, inner, path, drop_unknown)
    if kind == "slice":
        if value is None:
            return "null"
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{path}: expected a list, got {type(value).__name__}")
        return "[" + ",".join(_encode(v, inner, f"{path}[{i}]", drop_unknown) for i, v in enumerate(value)) + "]"
    if kind == "map":
        if value is None:
            return "null"
        if not isinstance(value, dict):
            raise TypeError(f"{path}: expected a mapping, got {type(value).__name__}")
        items = sorted(value.items(), key=lambda kv: _key_order(kv[0]))
        return (
            "{"
            + ",".join(go_json_string(k) + ":" + _encode(v, inner, f"{path}.{k}", drop_unknown) for k, v in items)
            + "}"
        )
    if kind == "struct":
        return _encode_struct(value if value is not None else {}, inner, path, drop_unknown)
    raise AssertionError(typ)


def _encode_struct(value: Any, name: str, path: str, drop_unknown: bool) -> str:
    """Encode a dict as the Go struct ``name``."""
    if not isinstance(value, dict):
        raise TypeError(f"{path}: expected an object for {name}, got {type(value).__name__}")
    fields = STRUCTS[name]
    parts = []
    known = set()
    for key, typ, omitempty in fields:
        known.add(key)
        v = value.get(key)
        if omitempty and _is_empty(v, typ):
            continue
        parts.append(go_json_string(key) + ":" + _encode(v, typ, f"{path}.{key}", drop_unknown))
    if not drop_unknown:
        for key in sorted((k for k in value if k not in known), key=_key_order):
            parts.append(go_json_string(key) + ":" + _encode_any(value[key], f"{path}.{key}"))
    return "{" + ",".join(parts) + "}"


def to_go_json(spec: Dict[str, Any], *, drop_unknown: bool = False) -> bytes:
    """The bytes Go's json.Marshal(specs.Spec) produces for ``spec`` (what ctr stores in the container record)."""
    return _encode_struct(spec, "Spec", "spec", drop_unknown).encode("utf-8")


def encode_struct(value: Dict[str, Any], type_name: str, *, drop_unknown: bool = False) -> bytes:
    """Go JSON of ``value`` as the runtime-spec struct ``type_name`` (e.g. "LinuxResources")."""
    return _encode_struct(value, type_name, type_name, drop_unknown).encode("utf-8")
