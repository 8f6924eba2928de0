"""Serialise a spec dict byte-for-byte like Go's encoding/json does for runtime-spec v1.2.0 ``specs.Spec``.

The Go structs (field order, types, ``omitempty``) are data:
``runcore/gocompat/schemas/runtime-spec.gotypes``; the rules are those of
:mod:`runcore.gocompat.json`. Keys unknown to the schema are written after the known
ones, sorted (or dropped with ``drop_unknown=True``, as a Go decode + encode round trip
would).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from runcore.gocompat import json as gojson
from runcore.gocompat.json import go_json_string

__all__ = ["RUNTIME_SPEC", "encode_struct", "go_json_string", "runtime_spec_schema", "to_go_json"]

_SCHEMA: Optional[gojson.Schema] = None


def runtime_spec_schema() -> gojson.Schema:
    """The runtime-spec Go types (loaded once from the package's type table)."""
    global _SCHEMA
    if _SCHEMA is None:
        import runcore.gocompat

        _SCHEMA = gojson.load_schema(runcore.gocompat.__file__, "schemas/runtime-spec.gotypes")
    return _SCHEMA


#: The package (Go import name) of the runtime-spec types in the table.
RUNTIME_SPEC = "specs"


def to_go_json(spec: Dict[str, Any], *, drop_unknown: bool = False) -> bytes:
    """The bytes Go's json.Marshal(specs.Spec) produces for ``spec`` (what ctr stores in the container record)."""
    return runtime_spec_schema().marshal(spec, f"{RUNTIME_SPEC}.Spec", drop_unknown=drop_unknown)


def encode_struct(value: Dict[str, Any], type_name: str, *, drop_unknown: bool = False) -> bytes:
    """Go JSON of ``value`` as the runtime-spec struct ``type_name`` (e.g. "LinuxResources")."""
    return runtime_spec_schema().marshal(
        value, f"{RUNTIME_SPEC}.{type_name}", drop_unknown=drop_unknown
    )
