"""Reading and validating one CDI spec file (CDI specification 0.3.0 – 1.1.0).

Decoding is strict, as the reference library's (``yaml.UnmarshalStrict``): unknown
fields and duplicate keys are errors, field names match case-insensitively, string
fields take any scalar, integer fields need integers. Validation follows the reference
library: known ``cdiVersion`` (an optional leading ``v``) no older than the fields used
need, a valid ``kind`` (``vendor/class``), valid device names, non-empty device edits,
valid environment entries, device nodes, hooks, mounts, RDT and network devices.

The decoded spec is plain dicts keyed by the JSON field names, every field present.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import names

#: Known spec versions, newest first.
VERSIONS = (
    "1.1.0",
    "1.0.0",
    "0.8.0",
    "0.7.0",
    "0.6.0",
    "0.5.0",
    "0.4.0",
    "0.3.0",
    "0.2.0",
    "0.1.0",
)
EARLIEST = "0.3.0"
HOOK_NAMES = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)


class SpecError(ValueError):
    """A spec file cannot be used; the message names the problem (not the file)."""


# ------------------------------------------------------------------ schema
#: The CDI specs-go types (v1.1.0) as data for runcore's Go JSON engine: json-key, Go type,
#: in declaration order.
SCHEMA_TABLE = """
[specs.Spec]
cdiVersion      string
kind            string
annotations     map[string]string
devices         []specs.Device
containerEdits  specs.ContainerEdits

[specs.Device]
name            string
annotations     map[string]string
containerEdits  specs.ContainerEdits

[specs.ContainerEdits]
env             []string
deviceNodes     []*specs.DeviceNode
netDevices      []*specs.LinuxNetDevice
hooks           []*specs.Hook
mounts          []*specs.Mount
intelRdt        *specs.IntelRdt
additionalGids  []uint32

[specs.DeviceNode]
path            string
hostPath        string
type            string
major           int64
minor           int64
fileMode        *os.FileMode
permissions     string
uid             *uint32
gid             *uint32

[specs.Mount]
hostPath        string
containerPath   string
options         []string
type            string

[specs.Hook]
hookName        string
path            string
args            []string
env             []string
timeout         *int

[specs.IntelRdt]
closID          string
l3CacheSchema   string
memBwSchema     string
schemata        []string
enableMonitoring bool

[specs.LinuxNetDevice]
hostInterfaceName string
name            string

os.FileMode = uint32
"""

_SCHEMA: Optional[Any] = None


def schema() -> Any:
    """The CDI types as a ``runcore.api.gojson.Schema`` (built once)."""
    global _SCHEMA
    if _SCHEMA is None:
        from runcore.api import gojson

        _SCHEMA = gojson.Schema.parse(SCHEMA_TABLE)
    return _SCHEMA


_POINTER_LISTS = ("deviceNodes", "netDevices", "hooks", "mounts")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def decode_spec(raw: Dict[str, Any]) -> Dict[str, Any]:
    """A parsed document decoded into ``specs.Spec`` strictly (unknown fields are errors),
    as the reference library's ``yaml.UnmarshalStrict`` does."""
    from runcore.api import gojson

    try:
        spec: Dict[str, Any] = schema().decode_value(raw, "specs.Spec", strict=True, yaml=True)
    except gojson.JSONError as exc:
        raise SpecError(str(exc)) from None
    for where, edits in [("containerEdits", spec["containerEdits"])] + [
        (f"devices[{i}].containerEdits", d["containerEdits"])
        for i, d in enumerate(spec["devices"] or ())
    ]:
        for key in _POINTER_LISTS:
            for i, item in enumerate(edits[key] or ()):
                if item is None:
                    raise SpecError(f"{where}.{key}[{i}]: null entry")
    spec["devices"] = spec["devices"] or []
    return spec


# ------------------------------------------------------------------ YAML / JSON text
def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe YAML without timestamps; duplicate keys are errors (strict decoding)."""

    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def mapping(loader: Any, node: Any) -> Dict[Any, Any]:
        loader.flatten_mapping(node)
        out: Dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise SpecError(
                    f'line {key_node.start_mark.line + 1}: key "{key}" already set in map'
                )
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    return Loader


def parse(data: bytes) -> Optional[Dict[str, Any]]:
    """Decode spec text (JSON or YAML); ``None`` for an empty document."""
    import yaml

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8: {exc}") from None
    try:
        raw = yaml.load(text, Loader=_loader())  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise SpecError(f"{where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SpecError(str(exc).replace("\n", " ")) from None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SpecError(f"cannot use {_kind(raw)} as a CDI spec")
    return decode_spec(raw)


# ------------------------------------------------------------------ validation
def _edit_lists(spec: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [spec["containerEdits"]] + [d["containerEdits"] for d in spec["devices"]]


def minimum_version(spec: Dict[str, Any]) -> str:
    """The oldest spec version that has every field this spec uses."""
    edits = _edit_lists(spec)
    for rdt in (e["intelRdt"] for e in edits):
        if rdt is not None and (rdt["schemata"] is not None or rdt["enableMonitoring"]):
            return "1.1.0"
    if any(e["netDevices"] for e in edits):
        return "1.1.0"
    if any(e["intelRdt"] is not None or e["additionalGids"] for e in edits):
        return "0.7.0"
    if spec["annotations"] or any(d["annotations"] for d in spec["devices"]):
        return "0.6.0"
    _, sep, cls = spec["kind"].partition("/")
    if sep and "." in cls:
        return "0.6.0"
    if any(d["name"][:1].isdigit() and d["name"][:1].isascii() for d in spec["devices"]):
        return "0.5.0"
    if any(n["hostPath"] for e in edits for n in e["deviceNodes"] or ()):
        return "0.5.0"
    if any(m["type"] for e in edits for m in e["mounts"] or ()):
        return "0.4.0"
    return EARLIEST


def validate_version(spec: Dict[str, Any]) -> None:
    version = spec["cdiVersion"]
    normalized = version[1:] if version.startswith("v") else version
    if normalized not in VERSIONS:
        raise SpecError(f'invalid version "{version}"')
    needed = minimum_version(spec)
    if VERSIONS.index(needed) < VERSIONS.index(normalized):
        raise SpecError(f"the spec version must be at least v{needed}")


def _validate_env(env: Optional[List[str]]) -> None:
    for value in env or ():
        if value.find("=") <= 0:
            raise SpecError(f'invalid environment variable "{value}"')


def validate_edits(edits: Dict[str, Any]) -> None:
    try:
        _validate_env(edits["env"])
    except SpecError as exc:
        raise SpecError(f"invalid container edits: {exc}") from None
    for node in edits["deviceNodes"] or ():
        if node["path"] == "":
            raise SpecError("invalid (empty) device path")
        if node["type"] not in ("", "b", "c", "u", "p"):
            raise SpecError(f'device "{node["path"]}": invalid type "{node["type"]}"')
        perms = node["permissions"]
        if perms not in ("", "none") and perms.strip("rwm") != "":
            raise SpecError(f'device "{node["path"]}": invalid permissions "{perms}"')
    for hook in edits["hooks"] or ():
        if hook["hookName"] not in HOOK_NAMES:
            raise SpecError(f'invalid hook name "{hook["hookName"]}"')
        if hook["path"] == "":
            raise SpecError(f'invalid hook "{hook["hookName"]}" with empty path')
        try:
            _validate_env(hook["env"])
        except SpecError as exc:
            raise SpecError(f'invalid hook "{hook["hookName"]}": {exc}') from None
    for mount in edits["mounts"] or ():
        if mount["hostPath"] == "":
            raise SpecError("invalid mount, empty host path")
        if mount["containerPath"] == "":
            raise SpecError("invalid mount, empty container path")
    rdt = edits["intelRdt"]
    if rdt is not None:
        clos = rdt["closID"]
        if clos != "/" and (
            len(clos) >= 4096 or clos in (".", "..") or "/" in clos or "\n" in clos
        ):
            raise SpecError("invalid ClosID")
    hosts: Dict[str, str] = {}
    nets: Dict[str, str] = {}
    for dev in edits["netDevices"] or ():
        if dev["hostInterfaceName"] == "":
            raise SpecError("invalid linux net device, empty HostInterfaceName")
        if dev["name"] == "":
            raise SpecError("invalid linux net device, empty Name")
        if dev["hostInterfaceName"] in hosts:
            raise SpecError(
                f"invalid linux net device, duplicate HostInterfaceName "
                f'"{dev["hostInterfaceName"]}" with names "{dev["name"]}" and '
                f'"{hosts[dev["hostInterfaceName"]]}"'
            )
        hosts[dev["hostInterfaceName"]] = dev["name"]
        if dev["name"] in nets:
            raise SpecError(
                f'invalid linux net device, duplicate Name "{dev["name"]}" with '
                f'HostInterfaceName "{dev["hostInterfaceName"]}" and "{nets[dev["name"]]}"'
            )
        nets[dev["name"]] = dev["hostInterfaceName"]


def _edits_empty(edits: Dict[str, Any]) -> bool:
    return not any(
        (
            edits["env"],
            edits["deviceNodes"],
            edits["hooks"],
            edits["mounts"],
            edits["additionalGids"],
            edits["intelRdt"] is not None,
            edits["netDevices"],
        )
    )


@dataclass
class Spec:
    """A loaded, valid spec file."""

    path: str
    priority: int
    raw: Dict[str, Any]
    vendor: str = ""
    cls: str = ""
    devices: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.raw["kind"]

    @property
    def edits(self) -> Dict[str, Any]:
        return self.raw["containerEdits"]


def validate(raw: Dict[str, Any], path: str, priority: int) -> Spec:
    """Check a decoded spec; the :class:`Spec` with its devices by name."""
    spec = Spec(path=path, priority=priority, raw=raw)
    spec.vendor, spec.cls = names.parse_qualifier(raw["kind"])
    try:
        validate_version(raw)
        names.validate_vendor(spec.vendor)
        names.validate_class(spec.cls)
        validate_edits(raw["containerEdits"])
        for device in raw["devices"]:
            name = device["name"]
            try:
                names.validate_device_name(name)
                edits = device["containerEdits"]
                if _edits_empty(edits):
                    raise SpecError("invalid device, empty device edits")
                try:
                    validate_edits(edits)
                except SpecError as exc:
                    raise SpecError(f'invalid device "{name}": {exc}') from None
            except (SpecError, names.NameError_) as exc:
                raise SpecError(f'failed add device "{name}": {exc}') from None
            if name in spec.devices:
                raise SpecError(f'invalid spec, multiple device "{name}"')
            spec.devices[name] = device
        if not spec.devices:
            raise SpecError("invalid spec, no devices")
    except names.NameError_ as exc:
        raise SpecError(f"invalid CDI Spec: {exc}") from None
    except SpecError as exc:
        raise SpecError(f"invalid CDI Spec: {exc}") from None
    return spec


def read(path: str, priority: int = 0) -> Spec:
    """Read, decode and validate the spec file at ``path``."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}") from None
    try:
        raw = parse(data)
    except SpecError as exc:
        raise SpecError(f"cannot parse: {exc}") from None
    if raw is None:
        raise SpecError("cannot parse: no spec data")
    return validate(raw, os.path.normpath(path), priority)
