"""``--label`` / ``--annotation`` key=value parsing and oci.WithAnnotations."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

from .errors import ValidationError


def parse_key_values(values: Sequence[str], default: str = "true") -> Dict[str, str]:
    """``key=value`` strings split at the first '=' (no '=' gives ``default``); later keys win (commands.LabelArgs)."""
    out: Dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        out[key] = val if sep else default
    return out


def parse_labels(values: Sequence[str]) -> Dict[str, str]:
    """``--label`` values as a map (missing '=' means "true")."""
    return parse_key_values(values, "true")


def parse_annotations(values: Sequence[str]) -> Dict[str, str]:
    """``--annotation`` values as a map; a value without '=' is ``invalid key=value format annotation: <v>``."""
    out: Dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep:
            raise ValidationError(f"invalid key=value format annotation: {value}")
        out[key] = val
    return out


def with_annotations(spec: Dict[str, Any], annotations: Mapping[str, str]) -> None:
    """Add or replace annotations (oci.WithAnnotations); the map is created even when ``annotations`` is empty."""
    current = spec.get("annotations")
    if current is None:
        current = {}
        spec["annotations"] = current
    current.update(annotations)
