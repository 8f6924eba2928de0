"""The goresctrl v0.3.0 blockio configuration file, decoded as Go decodes it.

goresctrl unmarshals the file with ``sigs.k8s.io/yaml``: YAML → JSON (objects with
sorted keys) → ``encoding/json`` into::

    Config{ Classes map[string][]DevicesParameters }
    DevicesParameters{ Devices []string; ThrottleReadBps, ThrottleWriteBps,
                       ThrottleReadIOPS, ThrottleWriteIOPS, Weight string }

So field names match case-insensitively (when two keys match one field the one sorting
last wins), unknown keys are ignored, scalars become strings for the string fields, a
``null`` leaves a string field as it was, and the first type mismatch is the error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from runcore.api import gojson

from . import goyaml


class ConfigError(ValueError):
    """The configuration cannot be decoded; the message is goresctrl's."""


@dataclass
class DevicesParameters:
    """One item of a class: devices (``None`` when absent) and the five quantities."""

    devices: Optional[List[str]] = None
    throttle_read_bps: str = ""
    throttle_write_bps: str = ""
    throttle_read_iops: str = ""
    throttle_write_iops: str = ""
    weight: str = ""


#: Go field name → attribute of :class:`DevicesParameters`.
_FIELDS = {
    "Devices": "devices",
    "ThrottleReadBps": "throttle_read_bps",
    "ThrottleWriteBps": "throttle_write_bps",
    "ThrottleReadIOPS": "throttle_read_iops",
    "ThrottleWriteIOPS": "throttle_write_iops",
    "Weight": "weight",
}

#: A parsed configuration: class name → items, in file order; ``None`` = no configuration.
Classes = List[Tuple[str, List[DevicesParameters]]]


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def _sorted_keys(obj: Dict[str, Any]) -> List[str]:
    """The order in which Go's json.Marshal writes map keys (sorted by their bytes)."""
    return sorted(obj, key=lambda k: k.encode("utf-8", "surrogateescape"))


def _field(name: str, fields: List[str]) -> Optional[str]:
    for field in fields:
        if field == name:
            return field
    folded = gojson.fold_name(name)
    for field in fields:
        if gojson.fold_name(field) == folded:
            return field
    return None


def _type_error(value: Any, where: str, gotype: str) -> ConfigError:
    return ConfigError(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
        f"{_json_kind(value)} into {where} of type {gotype}"
    )


def _decode_item(raw: Any) -> DevicesParameters:
    item = DevicesParameters()
    if raw is None:
        return item
    if not isinstance(raw, dict):
        raise _type_error(raw, "Go struct field Config.Classes", "blockio.DevicesParameters")
    for key in _sorted_keys(raw):
        field = _field(key, list(_FIELDS))
        if field is None:
            continue
        value = raw[key]
        where = f"Go struct field DevicesParameters.Classes.{field}"
        if field == "Devices":
            if value is None:
                item.devices = None
                continue
            if not isinstance(value, list):
                raise _type_error(value, where, "[]string")
            devices: List[str] = []
            for element in value:
                element = goyaml.scalar_to_string(element)
                if element is None:
                    devices.append("")
                elif isinstance(element, str):
                    devices.append(element)
                else:
                    raise _type_error(element, where, "string")
            item.devices = devices
            continue
        value = goyaml.scalar_to_string(value)
        if value is None:
            continue  # null leaves a Go string unchanged
        if not isinstance(value, str):
            raise _type_error(value, where, "string")
        setattr(item, _FIELDS[field], value)
    return item


def decode(doc: Any) -> Optional[Classes]:
    """Decode the YAML tree of a configuration file; ``None`` for an empty document."""
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise ConfigError(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
            f"{_json_kind(doc)} into Go value of type blockio.Config"
        )
    classes: Dict[str, List[DevicesParameters]] = {}
    for key in _sorted_keys(doc):
        if _field(key, ["Classes"]) is None:
            continue
        value = doc[key]
        if value is None:
            classes = {}
            continue
        if not isinstance(value, dict):
            raise _type_error(
                value, "Go struct field Config.Classes", "map[string][]blockio.DevicesParameters"
            )
        for name, items in value.items():
            if items is None:
                classes[name] = []
                continue
            if not isinstance(items, list):
                raise _type_error(
                    items, "Go struct field Config.Classes", "[]blockio.DevicesParameters"
                )
            classes[name] = [_decode_item(raw) for raw in items]
    return list(classes.items())


def parse(data: bytes) -> Optional[Classes]:
    """``yaml.Unmarshal(data, &config)`` of goresctrl: YAML text → classes."""
    try:
        doc = goyaml.load(data)
    except goyaml.YAMLError as exc:
        raise ConfigError(f"error converting YAML to JSON: {exc}") from None
    return decode(doc)
