"""Read YAML the way ``sigs.k8s.io/yaml`` (over go-yaml v2) does for goresctrl.

PyYAML parses the text; the scalars are then resolved with go-yaml v2's rules rather
than PyYAML's (``y``/``n`` are booleans, ``1:20`` is a string, timestamps stay strings,
``0o17``/``0b101``/``1_000`` are integers, only the first document counts, ``<<`` merges
in document order). Mapping keys become strings as sigs.k8s.io/yaml makes them.

The result is a tree of ``dict``/``list``/``str``/``int``/``float``/``bool``/``None``;
:func:`scalar_to_string` is the conversion sigs.k8s.io/yaml applies when the Go target
field is a string.
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List

from runcore.api import GoNumError, parse_int, parse_uint

from ._go import format_float_g

#: go-yaml v2's table of special plain scalars.
_SPECIAL = {
    **{k: True for k in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{
        k: False
        for k in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
    },
    **{k: None for k in ("~", "null", "Null", "NULL")},
    **{k: math.nan for k in (".nan", ".NaN", ".NAN")},
    **{k: math.inf for k in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{k: -math.inf for k in ("-.inf", "-.Inf", "-.INF")},
}
_MAP_HINT = set("yYnNtTfFoO~")
_NUM_HINT = set("+-0123456789")
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_PLAIN = "!runcore-blockio-plain"
_STR = "tag:yaml.org,2002:str"
_MAX_DEPTH = 10000


class YAMLError(ValueError):
    """The text is not YAML (message in go-yaml's form: ``yaml: line N: ...``)."""


def _go_parse_int0(text: str, unsigned: bool = False) -> Any:
    """strconv.ParseInt/ParseUint(text, 0, 64) (base from the prefix), or None."""
    try:
        return parse_uint(text, 0, 64) if unsigned else parse_int(text, 0, 64)
    except GoNumError:
        return None


def resolve_plain(text: str) -> Any:
    """The value go-yaml v2 gives an unquoted scalar decoded into ``interface{}``."""
    if text == "":
        return None
    hint = text[0]
    if hint in _MAP_HINT or hint in _NUM_HINT or hint == ".":
        if text in _SPECIAL:
            return _SPECIAL[text]
        if hint == ".":
            if _YAML_FLOAT.match(text):
                return float(text)
            return text
        if hint in _NUM_HINT:
            plain = text.replace("_", "")
            value = _go_parse_int0(plain)
            if value is None:
                value = _go_parse_int0(plain, unsigned=True)
            if value is not None:
                return value
            if _YAML_FLOAT.match(plain):
                return float(plain)
            if plain.startswith("0b"):
                try:
                    return int(plain[2:], 2)
                except ValueError:
                    pass
            elif plain.startswith("-0b"):
                try:
                    return -int(plain[3:], 2)
                except ValueError:
                    pass
    return text


def scalar_to_string(value: Any) -> Any:
    """What sigs.k8s.io/yaml turns a scalar into when the Go target is a string.

    Strings and ``None`` are returned unchanged; containers too (they stay type errors).
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float_g(value, 32)
    return value


def _key_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format_float_g(value, 32)
        return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)
    raise YAMLError(f"Unsupported map key of type: {type(value).__name__}, key: {value!r}")


def _loader_class():
    import yaml

    class Loader(yaml.SafeLoader):
        """Composes nodes only; plain scalars keep a marker tag for our own resolution."""

        def resolve(self, kind, value, implicit):  # type: ignore[override]
            if kind is yaml.ScalarNode and implicit[0]:
                return _PLAIN
            return super().resolve(kind, value, implicit)

    return Loader


def _convert(node: Any, depth: int = 0) -> Any:
    import yaml

    if depth > _MAX_DEPTH:
        raise YAMLError("yaml: document is too deeply nested")
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _PLAIN:
            return resolve_plain(node.value)
        if node.tag == _STR or not node.tag.startswith("tag:yaml.org,2002:"):
            return node.value
        if node.tag.endswith(":null"):
            return None
        return resolve_plain(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, depth + 1) for child in node.value]
    if isinstance(node, yaml.MappingNode):
        out: Dict[str, Any] = {}
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "<<"
                and key_node.tag in (_PLAIN, "tag:yaml.org,2002:merge")
            ):
                _merge(out, value_node, depth)
                continue
            key = _key_string(_convert(key_node, depth + 1))
            out[key] = _convert(value_node, depth + 1)
        return out
    raise YAMLError(f"yaml: unexpected node {node!r}")  # pragma: no cover


def _merge(out: Dict[str, Any], node: Any, depth: int) -> None:
    import yaml

    sources: List[Any] = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            raise YAMLError("yaml: map merge requires map or sequence of maps as the value")
        merged = _convert(source, depth + 1)
        out.update(merged)


def load(data: bytes) -> Any:
    """The first YAML document of ``data`` as go-yaml v2 + sigs.k8s.io/yaml see it.

    An empty document gives ``None``. Raises :class:`YAMLError`.
    """
    import yaml

    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        loader = _loader_class()(text)
        try:
            node = _first_node(loader)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise YAMLError(f"yaml: {line}{problem}") from None
    except yaml.YAMLError as exc:
        raise YAMLError(f"yaml: {exc}") from None
    if node is None:
        return None
    return _convert(node)


def _first_node(loader: Any) -> Any:
    """Compose only the first document (go-yaml v2 ignores the rest)."""
    import yaml

    loader.get_event()  # StreamStartEvent
    if loader.check_event(yaml.StreamEndEvent):
        return None
    return loader.compose_document()
