"""Read a ``--seccomp-profile`` file the way ctr 1.7 does, then check it.

ctr reads the file and ``json.Unmarshal``s it into an OCI ``specs.LinuxSeccomp``; what it
stores is that struct marshalled again. :func:`decode_profile` does exactly that with
runcore's Go JSON engine (``runcore.api.gojson``) and the runtime-spec Go types
(``runcore.api.runtime_spec_schema``): keys match field names exactly or Go-case-folded,
unknown keys (the Docker-only ``archMap``, ``includes``, ``name`` …) are dropped, ``null``
clears lists and optional numbers, unsigned fields take integer literals only, and a value
of the wrong kind fails with Go's ``json: cannot unmarshal …`` text; ``omitempty`` applies
on the way out. This module declares no schema of its own.

:func:`check_profile` then refuses what a runtime would refuse only when the task starts:
unknown actions, architectures and argument operators (ctr stores those as they are;
runcore fails before anything is created – see docs/ctr-differences.md).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from runcore.api import errno_text, go_quote, gojson, runtime_spec_schema

#: The Go type ctr decodes a profile into.
SECCOMP_TYPE = "specs.LinuxSeccomp"

#: Actions of the OCI runtime spec 1.2 (``LinuxSeccompAction``).
ACTIONS = frozenset(
    {
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_LOG",
        "SCMP_ACT_NOTIFY",
    }
)

#: Architectures of the OCI runtime spec 1.2 (``Arch``), plus LoongArch known to libseccomp.
ARCHES = frozenset(
    {
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM",
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",
        "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",
        "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_LOONGARCH64",
    }
)

#: Argument comparison operators of the OCI runtime spec (``LinuxSeccompOperator``).
OPERATORS = frozenset(
    {
        "SCMP_CMP_NE",
        "SCMP_CMP_LT",
        "SCMP_CMP_LE",
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    }
)

#: Keys of the Docker/moby profile format that the OCI struct does not have.
DOCKER_KEYS = ("archMap", "includes", "excludes", "name", "minKernel")


class ProfileError(Exception):
    """The file cannot be read, is not JSON, or does not fit a ``LinuxSeccomp``."""


# --------------------------------------------------------------------------- API


def decode_profile(text: str) -> Dict[str, Any]:
    """``text`` decoded into a ``LinuxSeccomp`` and written back as ctr stores it.

    :raises ProfileError: not JSON, or a value of the wrong type (Go's error text).
    """
    schema = runtime_spec_schema()
    try:
        profile = schema.decode(text, SECCOMP_TYPE)
    except gojson.JSONError as exc:
        raise ProfileError(str(exc)) from None
    stored: Dict[str, Any] = json.loads(schema.marshal(profile, SECCOMP_TYPE))
    return stored


def docker_keys(text: str) -> List[str]:
    """Keys of the Docker profile format present in ``text`` (ignored, as by ctr)."""
    try:
        document = gojson.parse_document(text)
    except gojson.JSONError:
        return []
    found: List[str] = []

    def visit(node: Any, depth: int) -> None:
        if isinstance(node, gojson.JSONObject):
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
            problems.append(
                f"{where}: unknown action {json.dumps(value)}" if value else f"{where}: no action"
            )

    action(profile.get("defaultAction", ""), "defaultAction")
    for i, arch in enumerate(profile.get("architectures") or ()):
        if arch not in ARCHES:
            problems.append(f"architectures[{i}]: unknown architecture {json.dumps(arch)}")
    for i, rule in enumerate(profile.get("syscalls") or ()):
        action(rule.get("action", ""), f"syscalls[{i}].action")
        for j, arg in enumerate(rule.get("args") or ()):
            if arg.get("op") not in OPERATORS:
                problems.append(
                    f"syscalls[{i}].args[{j}].op: unknown operator {json.dumps(arg.get('op'))}"
                )
    return problems


def read_profile_file(path: str) -> str:
    """The file's text; :class:`ProfileError` worded like Go's ``os.ReadFile`` errors."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except IsADirectoryError as exc:
        raise ProfileError(f"read {path}: {errno_text(exc.errno, str(exc))}") from None
    except OSError as exc:
        raise ProfileError(f"open {path}: {errno_text(exc.errno, str(exc))}") from None
    return data.decode("utf-8", errors="replace")


def quote(path: str) -> str:
    """Go's ``%q`` for the paths in messages."""
    return go_quote(path)


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
    "ACTIONS",
    "ARCHES",
    "OPERATORS",
    "ProfileError",
    "check_profile",
    "decode_profile",
    "docker_keys",
    "load_profile",
    "read_profile_file",
]
