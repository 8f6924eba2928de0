"""Read a ``--seccomp-profile`` file the way ctr 1.7 does, then check it.

ctr reads the file and ``json.Unmarshal``s it into an OCI ``specs.LinuxSeccomp``; what it
stores is that struct marshalled again. :func:`decode_profile` restates the parts of Go's
``encoding/json`` that decide the result:

* object keys match field names exactly or, failing that, case-insensitively (Go's
  folding, in which the Kelvin sign folds to ``k`` and the long s to ``s``); unknown keys
  are dropped – so Docker-only keys (``archMap``, ``includes``, ``excludes``, ``name``,
  ``minKernel``, ``comment``) have no effect, exactly as with ctr;
* a key seen twice: the last one wins; ``null`` clears a list or an optional number and
  leaves a string or a plain number alone; ``null`` as the whole document is an empty
  profile;
* unsigned fields take integer literals only (no sign, fraction or exponent);
* on the way out Go's ``omitempty`` drops empty lists, empty optional strings, absent
  ``errnoRet``/``defaultErrnoRet`` and ``valueTwo: 0``; ``names`` and ``action`` are
  always written (``names`` may be ``null``).

:func:`check_profile` then refuses what a runtime would refuse only when the task starts:
unknown actions, architectures and argument operators (ctr stores those as they are;
runcore fails before anything is created – see docs/ctr-differences.md).
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, List, Sequence, Tuple

UINT64_MAX = (1 << 64) - 1

#: Actions of the OCI runtime spec 1.2 (``LinuxSeccompAction``).
ACTIONS = frozenset({
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
})

#: Architectures of the OCI runtime spec 1.2 (``Arch``), plus LoongArch known to libseccomp.
ARCHES = frozenset({
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
})

#: Argument comparison operators of the OCI runtime spec (``LinuxSeccompOperator``).
OPERATORS = frozenset({
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
    "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
})

#: Keys of the Docker/moby profile format that the OCI struct does not have.
DOCKER_KEYS = ("archMap", "includes", "excludes", "name", "minKernel")


class ProfileError(Exception):
    """The file cannot be read, is not JSON, or does not fit a ``LinuxSeccomp``."""


# --------------------------------------------------------------------------- JSON tokens


class _Num(str):
    """A JSON number kept as its literal, so unsigned fields can apply Go's rules."""


class _Pairs(list):
    """A JSON object as its (key, value) pairs in document order."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[:1]!r} looking for beginning of value")


def _parse(text: str) -> Any:
    return json.loads(
        text,
        object_pairs_hook=_Pairs,
        parse_int=_Num,
        parse_float=_Num,
        parse_constant=_no_constant,
    )


def _fold(name: str) -> str:
    """Go's ``foldName``: ASCII upper case; runes whose fold orbit reaches an ASCII letter
    (U+212A KELVIN SIGN, U+017F LATIN SMALL LETTER LONG S) become that letter."""
    out = []
    for ch in name:
        if "a" <= ch <= "z":
            out.append(chr(ord(ch) - 32))
        elif ch == "\u212a":
            out.append("K")
        elif ch == "\u017f":
            out.append("S")
        elif ord(ch) < 0x80:
            out.append(ch)
        else:
            out.append("\0" + ch)  # can never match an ASCII field name
    return "".join(out)


def _clean_str(value: str) -> str:
    # Go replaces lone surrogate escapes with U+FFFD; Python keeps them.
    return re.sub("[\ud800-\udfff]", "\ufffd", value)


def _kind(value: Any) -> str:
    if isinstance(value, _Pairs):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, _Num):
        return "number"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    return "null"


# --------------------------------------------------------------------------- decoders
# Each decoder takes (value, where) and returns the Go value, or raises ProfileError.
# ``where`` is the JSON path used in messages (``syscalls[2].errnoRet``).


def _mismatch(value: Any, where: str, want: str) -> ProfileError:
    shown = f"number {value}" if isinstance(value, _Num) else _kind(value)
    return ProfileError(f"{where}: cannot use {shown} as {want}")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or isinstance(value, _Num):
        raise _mismatch(value, where, "a string")
    return _clean_str(value)


def _uint(value: Any, where: str) -> int:
    if not isinstance(value, _Num):
        raise _mismatch(value, where, "an unsigned integer")
    if not value.isdigit() or int(value) > UINT64_MAX:
        raise ProfileError(f"{where}: {value} is not an unsigned 64-bit integer")
    return int(value)


def _list_of(item: Callable[[Any, str], Any]) -> Callable[[Any, str], List[Any]]:
    def decode(value: Any, where: str) -> List[Any]:
        if not isinstance(value, list) or isinstance(value, _Pairs):
            raise _mismatch(value, where, "an array")
        return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return decode


# A field: (JSON name, decoder, nullable, zero value).
_Field = Tuple[str, Callable[[Any, str], Any], bool, Any]


def _struct(fields: Sequence[_Field]) -> Callable[[Any, str], Dict[str, Any]]:
    exact = {f[0]: f for f in fields}
    folded: Dict[str, _Field] = {}
    for f in fields:
        folded.setdefault(_fold(f[0]), f)

    def decode(value: Any, where: str) -> Dict[str, Any]:
        result: Dict[str, Any] = {f[0]: f[3] for f in fields}
        if value is None:  # null into a struct: no effect
            return result
        if not isinstance(value, _Pairs):
            raise _mismatch(value, where, "an object")
        for key, item in value:
            field = exact.get(key) or folded.get(_fold(key))
            if field is None:
                continue
            name, decoder, nullable, zero = field
            sub = f"{where}.{name}" if where else name
            if item is None:
                if nullable:
                    result[name] = None
                continue  # null leaves strings and numbers as they are
            result[name] = decoder(item, sub)
        return result
    return decode


def _null_str(value: Any, where: str) -> str:
    return "" if value is None else _string(value, where)


_arg = _struct([
    ("index", _uint, False, 0),
    ("value", _uint, False, 0),
    ("valueTwo", _uint, False, 0),
    ("op", _string, False, ""),
])

_syscall = _struct([
    ("names", _list_of(_null_str), True, None),
    ("action", _string, False, ""),
    ("errnoRet", _uint, True, None),
    ("args", _list_of(_arg), True, None),
])

_seccomp = _struct([
    ("defaultAction", _string, False, ""),
    ("defaultErrnoRet", _uint, True, None),
    ("architectures", _list_of(_null_str), True, None),
    ("flags", _list_of(_null_str), True, None),
    ("listenerPath", _string, False, ""),
    ("listenerMetadata", _string, False, ""),
    ("syscalls", _list_of(_syscall), True, None),
])


# --------------------------------------------------------------------------- output


def _marshal_arg(arg: Dict[str, Any]) -> Dict[str, Any]:
    out = {"index": arg["index"], "value": arg["value"]}
    if arg["valueTwo"]:
        out["valueTwo"] = arg["valueTwo"]
    out["op"] = arg["op"]
    return out


def _marshal_syscall(rule: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"names": rule["names"], "action": rule["action"]}
    if rule["errnoRet"] is not None:
        out["errnoRet"] = rule["errnoRet"]
    if rule["args"]:
        out["args"] = [_marshal_arg(a) for a in rule["args"]]
    return out


def _marshal(profile: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"defaultAction": profile["defaultAction"]}
    if profile["defaultErrnoRet"] is not None:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    for key in ("architectures", "flags", "listenerPath", "listenerMetadata"):
        if profile[key]:
            out[key] = profile[key]
    if profile["syscalls"]:
        out["syscalls"] = [_marshal_syscall(s) for s in profile["syscalls"]]
    return out


# --------------------------------------------------------------------------- API


def decode_profile(text: str) -> Dict[str, Any]:
    """``text`` decoded into a ``LinuxSeccomp`` and written back as ctr stores it.

    :raises ProfileError: not JSON, or a value of the wrong type.
    """
    try:
        document = _parse(text)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise ProfileError(str(exc)) from None
    if document is not None and not isinstance(document, _Pairs):
        raise ProfileError(f"cannot use {_kind(document)} as a seccomp profile (a JSON object)")
    return _marshal(_seccomp(document, ""))


def docker_keys(text: str) -> List[str]:
    """Keys of the Docker profile format present in ``text`` (ignored, as by ctr)."""
    try:
        document = _parse(text)
    except ValueError:
        return []
    found: List[str] = []

    def visit(node: Any, depth: int) -> None:
        if isinstance(node, _Pairs):
            for key, value in node:
                if key in DOCKER_KEYS and key not in found and depth <= 2:
                    found.append(key)
                visit(value, depth + 1)
        elif isinstance(node, list):
            for value in node:
                visit(value, depth + 1)

    visit(document, 0)
    return found


def check_profile(profile: Dict[str, Any]) -> List[str]:
    """Problems a runtime would only report when the task starts (one line each)."""
    problems: List[str] = []

    def action(value: str, where: str) -> None:
        if value not in ACTIONS:
            problems.append(f"{where}: unknown action {json.dumps(value)}" if value
                            else f"{where}: no action")

    action(profile.get("defaultAction", ""), "defaultAction")
    for i, arch in enumerate(profile.get("architectures") or ()):
        if arch not in ARCHES:
            problems.append(f"architectures[{i}]: unknown architecture {json.dumps(arch)}")
    for i, rule in enumerate(profile.get("syscalls") or ()):
        action(rule.get("action", ""), f"syscalls[{i}].action")
        for j, arg in enumerate(rule.get("args") or ()):
            if arg.get("op") not in OPERATORS:
                problems.append(f"syscalls[{i}].args[{j}].op: unknown operator {json.dumps(arg.get('op'))}")
    return problems


def _go_errno_text(exc: OSError) -> str:
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def read_profile_file(path: str) -> str:
    """The file's text; :class:`ProfileError` worded like Go's ``os.ReadFile`` errors."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except IsADirectoryError as exc:
        raise ProfileError(f"read {path}: {_go_errno_text(exc)}") from None
    except OSError as exc:
        raise ProfileError(f"open {path}: {_go_errno_text(exc)}") from None
    return data.decode("utf-8", errors="replace")


def quote(path: str) -> str:
    """Go's ``%q`` for the paths in messages (close enough: JSON string syntax)."""
    return json.dumps(path, ensure_ascii=False)


def load_profile(path: str) -> Tuple[Dict[str, Any], List[str]]:
    """``(profile, ignored Docker keys)`` for ``--seccomp-profile path``.

    :raises ProfileError: with the whole one-line message (naming the file).
    """
    try:
        text = read_profile_file(path)
    except ProfileError as exc:
        raise ProfileError(f"cannot load seccomp profile {quote(path)}: {exc}") from None
    try:
        profile = decode_profile(text)
    except ProfileError as exc:
        raise ProfileError(f"decoding seccomp profile failed {quote(path)}: {exc}") from None
    problems = check_profile(profile)
    if problems:
        raise ProfileError(f"invalid seccomp profile {quote(path)}: " + "; ".join(problems))
    return profile, docker_keys(text)


__all__ = [
    "ACTIONS", "ARCHES", "OPERATORS", "ProfileError", "check_profile", "decode_profile",
    "docker_keys", "load_profile", "read_profile_file",
]
