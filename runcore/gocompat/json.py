"""Go's ``encoding/json`` for declared Go structs: one schema type, one decoder, one marshaller.

A :class:`Schema` holds Go types declared as data (a small text table, see
:meth:`Schema.parse`): each struct lists its fields in Go declaration order as
``json-key  Go-type  [omitempty]``, embedded structs already flattened. Go type
expressions are written as Go prints them (``*v1.Platform``, ``[]string``,
``map[string]struct {}``, ``int64``), named non-struct types as ``name = underlying``.

* :meth:`Schema.decode` is ``json.Unmarshal`` into a zero value of the type: object keys
  match field names exactly or else case-insensitively (Go's folding), unknown keys are
  dropped (or refused with ``strict=True``, like ``DisallowUnknownFields``), ``null``
  clears pointers, slices and maps and leaves other fields alone, numbers must fit the
  field's Go type. The first type mismatch fails with Go's text, e.g.
  ``json: cannot unmarshal string into Go struct field Index.manifests of type
  []v1.Descriptor``. The result is plain Python: a struct is a dict with every field
  (Go's zero value where absent: ``""``, ``0``, ``False``, a zero struct, ``None`` for
  nil pointers, slices and maps).
* :meth:`Schema.marshal` is ``json.Marshal``: fields in declaration order, ``omitempty``
  drops ``""``, ``0``, ``false``, nil and empty slices/maps (never struct values), map
  keys sorted by their bytes, HTML-safe escaping, invalid UTF-8 as ``\\ufffd``.

Written by hand: Python's ``json`` has none of Go's struct rules (field folding, typed
numbers, ``omitempty``, field order, Go's error texts); the two tokenisers are Python's.
"""

from __future__ import annotations

import base64
import json as _pyjson
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from runcore.gocompat.strconv import GO_INT_RANGES

#: Go >= 1.22 writes \b and \f as short escapes (Debian trixie builds ctr 1.7.24 with Go 1.24).
SHORT_B_F_ESCAPES = True
#: encoding/json's nesting limit.
MAX_DEPTH = 10000


class JSONError(ValueError):
    """A document Go's ``json.Unmarshal`` refuses; ``str()`` is Go's error text."""


class JSONTypeError(JSONError):
    """A value of the wrong JSON kind for its Go type (Go's ``*json.UnmarshalTypeError``)."""


class MarshalError(TypeError):
    """A Python value that has no Go JSON form for the declared type."""


# --------------------------------------------------------------------------- Go types


@dataclass
class GoType:
    """A Go type: ``kind`` is one of basic, bytes, time, any, ptr, slice, map, struct."""

    kind: str
    name: str  # reflect.Type.String(): "int64", "digest.Digest", "[]v1.Descriptor", ...
    elem: Optional["GoType"] = None  # ptr, slice, map
    basic: str = ""  # underlying basic kind: string, bool, int64, uint32, float64, ...
    fields: List["Field"] = field(default_factory=list)  # struct
    _exact: Dict[str, "Field"] = field(default_factory=dict, repr=False)
    _folded: Dict[str, "Field"] = field(default_factory=dict, repr=False)

    @property
    def short_name(self) -> str:
        """reflect.Type.Name() of a named struct (``Descriptor`` for ``v1.Descriptor``)."""
        return "" if self.name.startswith("struct {") else self.name.rsplit(".", 1)[-1]

    def lookup(self, key: str) -> Optional["Field"]:
        """The field a JSON object key sets: exact name first, then Go's case folding."""
        return self._exact.get(key) or self._folded.get(fold_name(key))


@dataclass
class Field:
    """One struct field: its JSON key, Go type, ``omitempty`` and embedding struct field."""

    key: str
    type: GoType
    omitempty: bool = False
    embedded: str = ""  # the embedded struct field a promoted field belongs to (Go's error path)


_BASIC = {"string", "bool", "float64", "float32", *GO_INT_RANGES}


def fold_name(name: str) -> str:
    """encoding/json's ``foldName``: ASCII upper case, other runes to the smallest rune of
    their case-fold orbit (the Kelvin sign folds to ``K``, the long s to ``S``)."""
    out = []
    for ch in name:
        if "a" <= ch <= "z":
            out.append(chr(ord(ch) - 32))
        elif ch < "\x80":
            out.append(ch)
        elif ch == "\u212a":
            out.append("K")
        elif ch == "\u017f":
            out.append("S")
        else:
            out.append("\0" + ch)  # never equal to an ASCII field name
    return "".join(out)


class Schema:
    """A set of Go types declared as data; decode into and marshal from them by name."""

    def __init__(self) -> None:
        self.types: Dict[str, GoType] = {}
        self._aliases: Dict[str, str] = {}
        self._structs_src: Dict[str, List[Tuple[str, str, bool, str]]] = {}

    # ------------------------------------------------------------------ declaring
    @classmethod
    def parse(cls, text: str, *, base: Optional["Schema"] = None) -> "Schema":
        """A schema from a type table (``[pkg.Struct]`` sections of ``key type [omitempty]``
        lines, ``pkg.Name = underlying`` lines, ``#`` comments); ``base`` types are visible."""
        schema = cls()
        if base is not None:
            schema._aliases.update(base._aliases)
            schema._structs_src.update(base._structs_src)
        current: Optional[List[Tuple[str, str, bool, str]]] = None
        for lineno, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                current = []
                schema._structs_src[line[1:-1].strip()] = current
            elif " = " in line:
                name, _, underlying = (p.strip() for p in line.partition("="))
                schema._aliases[name] = underlying
                current = None
            elif current is not None:
                parts = line.split()
                embedded = ""
                omit = False
                while len(parts) > 2 and (parts[-1] == "omitempty" or parts[-1].startswith("in=")):
                    tail = parts.pop()
                    if tail == "omitempty":
                        omit = True
                    else:
                        embedded = tail[3:]
                if len(parts) < 2:
                    raise ValueError(
                        f"schema line {lineno}: expected 'key type [omitempty] [in=Embedded]': {raw!r}"
                    )
                current.append((parts[0], " ".join(parts[1:]), omit, embedded))
            else:
                raise ValueError(f"schema line {lineno}: field outside a [struct] section: {raw!r}")
        for name in schema._structs_src:
            schema.type(name)
        return schema

    def type(self, expr: str) -> GoType:
        """The :class:`GoType` for a Go type expression (``[]*v1.Descriptor``, ``v1.Index``)."""
        expr = expr.strip()
        found = self.types.get(expr)
        if found is not None:
            return found
        if expr.startswith("*"):
            elem = self.type(expr[1:])
            t = GoType("ptr", "*" + elem.name, elem=elem)
        elif expr == "[]byte":
            t = GoType("bytes", expr)
        elif expr.startswith("[]"):
            elem = self.type(expr[2:])
            t = GoType("slice", "[]" + elem.name, elem=elem)
        elif expr.startswith("map[string]"):
            elem = self.type(expr[len("map[string]") :])
            t = GoType("map", "map[string]" + elem.name, elem=elem)
        elif expr in ("interface {}", "any"):
            t = GoType("any", "interface {}")
        elif expr == "struct {}":
            t = GoType("struct", "struct {}")
        elif expr == "time.Time":
            t = GoType("time", expr)
        elif expr in _BASIC:
            t = GoType("basic", expr, basic=expr)
        elif expr in self._aliases:
            under = self.type(self._aliases[expr])
            if under.kind != "basic":
                raise ValueError(f"named type {expr}: only basic underlying types are supported")
            t = GoType("basic", expr, basic=under.basic)
        elif expr in self._structs_src:
            t = GoType("struct", expr)
            self.types[expr] = t  # before the fields: structs may refer to themselves
            for key, texpr, omit, embedded in self._structs_src[expr]:
                f = Field(key, self.type(texpr), omit, embedded)
                t.fields.append(f)
                t._exact.setdefault(key, f)
                t._folded.setdefault(fold_name(key), f)
            return t
        else:
            raise ValueError(f"unknown Go type {expr!r}")
        self.types[expr] = t
        return t

    # ------------------------------------------------------------------ decoding
    def decode(self, data: Any, type_expr: str, *, strict: bool = False) -> Any:
        """``json.Unmarshal(data, &v)`` for ``v`` of Go type ``type_expr``; the Python value.

        ``data`` is the document (bytes or str). Raises :class:`JSONError` with Go's text.
        """
        return Decoder(strict=strict).decode(parse_document(data), self.type(type_expr))

    def decode_value(
        self, value: Any, type_expr: str, *, strict: bool = False, yaml: bool = False
    ) -> Any:
        """Like :meth:`decode` for an already parsed Python value (dicts, lists, scalars).

        ``yaml=True`` decodes as sigs.k8s.io/yaml does after converting YAML to JSON: a
        scalar meant for a string field becomes its text, a whole float fits an integer
        field, and object keys are visited in sorted order.
        """
        return Decoder(strict=strict, yaml=yaml).decode(
            tokens_of(value, sort_keys=yaml), self.type(type_expr)
        )

    def zero(self, type_expr: str) -> Any:
        """Go's zero value of ``type_expr`` as :meth:`decode` represents it."""
        return zero_value(self.type(type_expr))

    # ------------------------------------------------------------------ encoding
    def marshal(self, value: Any, type_expr: str, *, drop_unknown: bool = False) -> bytes:
        """``json.Marshal`` of ``value`` as Go type ``type_expr`` (compact, UTF-8).

        Dict keys a struct does not declare are written after the known ones, sorted,
        unless ``drop_unknown`` (what a Go decode + encode round trip does).
        """
        return _encode(value, self.type(type_expr), type_expr, drop_unknown).encode("utf-8")


# --------------------------------------------------------------------------- JSON text


class _Num(str):
    """A JSON number kept as its literal (Go decides per field how to read it)."""


class _Obj(List[Tuple[str, Any]]):
    """A JSON object as its (key, value) pairs in document order."""


#: Public names of the token types :func:`parse_document` returns for objects and numbers.
JSONObject = _Obj
JSONNumber = _Num

_SURROGATES = re.compile("[\ud800-\udfff]")


class _Constant(Exception):
    """NaN/Infinity, which Go's JSON does not have."""


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def _clean(s: str) -> str:
    """Go's strings: invalid UTF-8 and lone surrogate escapes become U+FFFD."""
    return _SURROGATES.sub("\ufffd", s) if _SURROGATES.search(s) else s


#: Python's json error → the context Go's scanner names after "invalid character 'x'".
_GO_CONTEXT = (
    ("Expecting property name", "looking for beginning of object key string"),
    ("Expecting value", "looking for beginning of value"),
    ("Expecting ':'", "after object key"),
    ("Expecting ','", "after object key:value pair"),
    ("Extra data", "after top-level value"),
    ("Invalid control character", "in string literal"),
    ("Invalid \\escape", "in string escape code"),
    ("Invalid \\uXXXX", "in \\u hexadecimal character escape"),
)


def _syntax_message(exc: _pyjson.JSONDecodeError, text: str) -> str:
    """Go's ``*json.SyntaxError`` text for where Python's parser stopped."""
    if exc.msg.startswith("Unterminated") or exc.pos >= len(text):
        return "unexpected end of JSON input"
    pos = exc.pos
    if exc.msg.startswith(("Expecting", "Extra")):
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            return "unexpected end of JSON input"
    ch = text[pos]
    if ch == "'":
        shown = "'\\''"
    elif ch == '"':
        shown = "'\"'"
    elif ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF:
        shown = f"'{ch}'"
    else:
        shown = "'\\x%02x'" % (ord(ch) - 0xDC00 if 0xDC80 <= ord(ch) <= 0xDCFF else ord(ch) & 0xFF)
    context = next(
        (go for py, go in _GO_CONTEXT if exc.msg.startswith(py)), "looking for beginning of value"
    )
    return f"invalid character {shown} {context}"


def parse_document(data: Any) -> Any:
    """Tokenise a JSON document, keeping number literals and object key order (Go's syntax
    rules: no NaN/Infinity, no trailing data); :class:`JSONError` with Go's wording."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        text = bytes(data).decode("utf-8", "surrogateescape")
    else:
        text = str(data)
    if text.startswith("\ufeff"):
        raise JSONError("invalid character 'ï' looking for beginning of value")
    try:
        return _pyjson.loads(
            text,
            object_pairs_hook=_Obj,
            parse_int=_Num,
            parse_float=_Num,
            parse_constant=_no_constant,
        )
    except _pyjson.JSONDecodeError as exc:
        raise JSONError(_syntax_message(exc, text)) from None
    except _Constant as exc:
        raise JSONError(
            f"invalid character '{str(exc)[:1]}' looking for beginning of value"
        ) from None
    except RecursionError:
        raise JSONError(f"exceeded max depth {MAX_DEPTH}") from None


def tokens_of(value: Any, *, sort_keys: bool = False) -> Any:
    """A Python value as :func:`parse_document` would have returned its JSON text."""
    if isinstance(value, dict):
        items = [(str(k), tokens_of(v, sort_keys=sort_keys)) for k, v in value.items()]
        if sort_keys:
            items.sort(key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
        return _Obj(items)
    if isinstance(value, (list, tuple)):
        return [tokens_of(v, sort_keys=sort_keys) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return _Num(repr(value))
    return str(value)


def _kind(raw: Any) -> str:
    if isinstance(raw, _Obj):
        return "object"
    if isinstance(raw, list):
        return "array"
    if isinstance(raw, _Num):
        return "number"
    if isinstance(raw, bool):
        return "bool"
    if isinstance(raw, str):
        return "string"
    return "null"


def zero_value(t: GoType) -> Any:
    """Go's zero value of ``t`` in the decoder's representation."""
    if t.kind == "basic":
        if t.basic == "string":
            return ""
        if t.basic == "bool":
            return False
        if t.basic.startswith("float"):
            return 0.0
        return 0
    if t.kind == "struct":
        return {f.key: zero_value(f.type) for f in t.fields}
    return None  # ptr, slice, map, any, bytes (nil), time (nil *time.Time is the usual use)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class Decoder:
    """One ``json.Unmarshal`` run: remembers the first type error and goes on, like Go."""

    def __init__(self, *, strict: bool = False, yaml: bool = False) -> None:
        self.strict = strict
        self.yaml = yaml
        self.error: Optional[JSONError] = None
        self._struct = ""  # innermost struct being decoded (error context)
        self._stack: List[str] = []  # field path (error context)

    def decode(self, raw: Any, t: GoType) -> Any:
        """Decode the token tree ``raw`` into a fresh zero value of ``t``."""
        value = self._value(raw, t, zero_value(t))
        if self.error is not None:
            raise self.error
        return value

    def _type_error(self, what: str, t: GoType) -> None:
        if self.error is not None:
            return
        if self._struct or self._stack:
            where = f"Go struct field {self._struct}.{'.'.join(self._stack)}"
        else:
            where = "Go value"
        self.error = JSONTypeError(f"json: cannot unmarshal {what} into {where} of type {t.name}")

    def _value(self, raw: Any, t: GoType, into: Any) -> Any:
        if raw is None:  # null: clears pointers, slices, maps, interfaces; no effect otherwise
            return None if t.kind in ("ptr", "slice", "map", "any", "bytes", "time") else into
        if t.kind == "ptr":
            return self._value(raw, t.elem, into if into is not None else zero_value(t.elem))  # type: ignore[arg-type]
        if t.kind == "any":
            return self._any(raw)
        if isinstance(raw, _Obj):
            if t.kind == "struct":
                return self._object_struct(raw, t, into)
            if t.kind == "map":
                return self._object_map(raw, t, into)
            self._type_error("object", t)
            return into
        if isinstance(raw, list):
            if t.kind == "slice":
                return self._array(raw, t, into)
            self._type_error("array", t)
            return into
        return self._literal(raw, t, into)

    def _object_struct(self, raw: "_Obj", t: GoType, into: Any) -> Dict[str, Any]:
        out = dict(into) if isinstance(into, dict) else zero_value(t)
        saved = self._struct
        self._struct = t.short_name
        for key, item in raw:
            key = _clean(key)
            f = t.lookup(key)
            if f is None:
                if self.strict and self.error is None:
                    self.error = JSONError(
                        f"json: unknown field {_pyjson.dumps(key, ensure_ascii=False)}"
                    )
                continue
            path = [f.embedded, f.key] if f.embedded else [f.key]
            self._stack.extend(path)
            out[f.key] = self._value(item, f.type, out.get(f.key))
            del self._stack[-len(path) :]
            self._struct = t.short_name
        self._struct = saved
        return out

    def _object_map(self, raw: "_Obj", t: GoType, into: Any) -> Dict[str, Any]:
        out = dict(into) if isinstance(into, dict) else {}
        for key, item in raw:
            key = _clean(key)
            out[key] = self._value(item, t.elem, zero_value(t.elem))  # type: ignore[arg-type]
        return out

    def _array(self, raw: List[Any], t: GoType, into: Any) -> List[Any]:
        old = into if isinstance(into, list) else []
        out = []
        for i, item in enumerate(raw):
            start = old[i] if i < len(old) else zero_value(t.elem)  # type: ignore[arg-type]
            out.append(self._value(item, t.elem, start))  # type: ignore[arg-type]
        return out

    def _any(self, raw: Any) -> Any:
        if isinstance(raw, _Obj):
            return {_clean(k): self._any(v) for k, v in raw}
        if isinstance(raw, list):
            return [self._any(v) for v in raw]
        if isinstance(raw, _Num):
            f = float(raw)
            if math.isinf(f):
                self._type_error(f"number {raw}", GoType("basic", "float64", basic="float64"))
                return 0.0
            return f
        if isinstance(raw, str):
            return _clean(raw)
        return raw

    def _literal(self, raw: Any, t: GoType, into: Any) -> Any:
        kind = _kind(raw)
        if t.kind == "time":
            if not isinstance(raw, str) or isinstance(raw, _Num):
                if self.error is None:
                    self.error = JSONError("Time.UnmarshalJSON: input is not a JSON string")
                return into
            if not _RFC3339.match(raw) and self.error is None:
                self.error = JSONError(
                    f'parsing time {_pyjson.dumps(raw)} as "2006-01-02T15:04:05Z07:00": '
                    "cannot parse as RFC 3339"
                )
            return raw
        if t.kind == "bytes":
            if kind != "string":
                self._type_error(kind, t)
                return into
            try:
                return base64.b64decode(raw.replace("\r", "").replace("\n", ""), validate=True)
            except ValueError:
                if self.error is None:
                    self.error = JSONError(
                        f"illegal base64 data at input byte {_bad_base64_at(raw)}"
                    )
                return into
        if t.kind != "basic":
            self._type_error(kind, t)
            return into
        if self.yaml and t.basic == "string" and kind in ("number", "bool"):
            return raw if kind == "number" else ("true" if raw else "false")
        if (
            self.yaml
            and kind == "number"
            and t.basic in GO_INT_RANGES
            and re.fullmatch(r"-?\d+\.0", raw)
        ):
            raw = _Num(raw[:-2])
        if kind == "string":
            if t.basic != "string":
                self._type_error("string", t)
                return into
            return _clean(raw)
        if kind == "bool":
            if t.basic != "bool":
                self._type_error("bool", t)
                return into
            return raw
        # a number
        if t.basic in GO_INT_RANGES:
            lo, hi = GO_INT_RANGES[t.basic]
            if not re.fullmatch(r"-?\d+", raw) or not lo <= int(raw) <= hi:
                self._type_error(f"number {raw}", t)
                return into
            return int(raw)
        if t.basic.startswith("float"):
            f = float(raw)
            limit = 3.4028234663852886e38 if t.basic == "float32" else 1.7976931348623157e308
            if math.isinf(f) or abs(f) > limit:
                self._type_error(f"number {raw}", t)
                return into
            return f
        self._type_error("number", t)
        return into


def _bad_base64_at(s: str) -> int:
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    body = s.replace("\r", "").replace("\n", "")
    for i, ch in enumerate(body):
        if ch not in alphabet:
            return i
    return len(body)


# --------------------------------------------------------------------------- encoding

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


def go_float(f: float) -> str:
    """A float64 as encoding/json writes it."""
    if math.isnan(f) or math.isinf(f):
        raise MarshalError(f"json: unsupported value: {f!r}")
    if f == 0:
        return "-0" if math.copysign(1.0, f) < 0 else "0"
    dec = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(str(d) for d in dec.digits)
    point = len(digits) + int(dec.exponent)  # value = 0.<digits> * 10**point
    abs_f = abs(f)
    sign = "-" if f < 0 else ""
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


def _key_order(key: str) -> bytes:
    """Go sorts map keys by their bytes."""
    return key.encode("utf-8", "surrogatepass")


def marshal_any(value: Any, path: str = "value") -> str:
    """Generic encoding (``interface{}``): maps sorted, lists, scalars."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: _key_order(kv[0]))
        return (
            "{"
            + ",".join(go_json_string(k) + ":" + marshal_any(v, f"{path}.{k}") for k, v in items)
            + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(marshal_any(v, f"{path}[{i}]") for i, v in enumerate(value)) + "]"
    raise MarshalError(f"{path}: cannot encode {type(value).__name__}")


def is_empty(value: Any, t: GoType) -> bool:
    """Whether ``omitempty`` drops ``value`` of Go type ``t``."""
    if t.kind == "struct":
        return False
    if value is None:
        return True
    if t.kind == "basic":
        if t.basic == "string":
            return bool(value == "")
        if t.basic == "bool":
            return value is False
        return bool(value == 0)
    if t.kind in ("slice", "map", "bytes"):
        return len(value) == 0
    return False


def _encode(value: Any, t: GoType, path: str, drop_unknown: bool) -> str:
    if t.kind == "basic":
        b = t.basic
        if b == "string":
            if value is None:
                return '""'
            if not isinstance(value, str):
                raise MarshalError(f"{path}: expected a string, got {type(value).__name__}")
            return go_json_string(value)
        if b == "bool":
            if value is None:
                return "false"
            if not isinstance(value, bool):
                raise MarshalError(f"{path}: expected a bool, got {type(value).__name__}")
            return "true" if value else "false"
        if b.startswith("float"):
            if value is None:
                return "0"
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise MarshalError(f"{path}: expected a number, got {type(value).__name__}")
            return go_float(float(value))
        if value is None:
            return "0"
        if isinstance(value, bool) or not isinstance(value, int):
            raise MarshalError(f"{path}: expected an integer, got {type(value).__name__}")
        lo, hi = GO_INT_RANGES[b]
        if not lo <= value <= hi:
            raise MarshalError(f"{path}: {value} is out of range for {t.name}")
        return str(value)
    if t.kind in ("any", "time"):
        return marshal_any(value, path)
    if t.kind == "bytes":
        if value is None:
            return "null"
        return go_json_string(base64.b64encode(bytes(value)).decode("ascii"))
    if t.kind == "ptr":
        return "null" if value is None else _encode(value, t.elem, path, drop_unknown)  # type: ignore[arg-type]
    if t.kind == "slice":
        if value is None:
            return "null"
        if not isinstance(value, (list, tuple)):
            raise MarshalError(f"{path}: expected a list, got {type(value).__name__}")
        return (
            "["
            + ",".join(
                _encode(v, t.elem, f"{path}[{i}]", drop_unknown)  # type: ignore[arg-type]
                for i, v in enumerate(value)
            )
            + "]"
        )
    if t.kind == "map":
        if value is None:
            return "null"
        if not isinstance(value, dict):
            raise MarshalError(f"{path}: expected a mapping, got {type(value).__name__}")
        items = sorted(value.items(), key=lambda kv: _key_order(kv[0]))
        return (
            "{"
            + ",".join(
                go_json_string(k) + ":" + _encode(v, t.elem, f"{path}.{k}", drop_unknown)  # type: ignore[arg-type]
                for k, v in items
            )
            + "}"
        )
    return _encode_struct(value if value is not None else {}, t, path, drop_unknown)


def _encode_struct(value: Any, t: GoType, path: str, drop_unknown: bool) -> str:
    if not isinstance(value, dict):
        raise MarshalError(f"{path}: expected an object for {t.name}, got {type(value).__name__}")
    parts = []
    for f in t.fields:
        v = value.get(f.key)
        if f.omitempty and is_empty(v, f.type):
            continue
        parts.append(
            go_json_string(f.key) + ":" + _encode(v, f.type, f"{path}.{f.key}", drop_unknown)
        )
    if not drop_unknown:
        for key in sorted((k for k in value if k not in t._exact), key=_key_order):
            parts.append(go_json_string(key) + ":" + marshal_any(value[key], f"{path}.{key}"))
    return "{" + ",".join(parts) + "}"


def load_schema(package_file: str, name: str, *, base: Optional[Schema] = None) -> Schema:
    """A :class:`Schema` from the type table ``name`` next to ``package_file`` (a module's ``__file__``)."""
    import os

    with open(os.path.join(os.path.dirname(package_file), name), encoding="utf-8") as fh:
        return Schema.parse(fh.read(), base=base)


__all__ = [
    "Decoder",
    "Field",
    "GoType",
    "JSONError",
    "JSONNumber",
    "JSONObject",
    "JSONTypeError",
    "MarshalError",
    "Schema",
    "fold_name",
    "go_float",
    "go_json_string",
    "is_empty",
    "load_schema",
    "marshal_any",
    "parse_document",
    "tokens_of",
    "zero_value",
]
