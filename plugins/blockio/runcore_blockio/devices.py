"""Resolve the ``Devices`` globs of a blockio item to block devices (goresctrl v0.3.0).

For each pattern: Go ``filepath.Glob`` (``*`` matches dot files too, ``[^...]`` negates,
``\\`` escapes; a pattern without meta characters matches itself if it exists, even as
a dangling symlink); each match resolved with ``filepath.EvalSymlinks``; the result must
``stat`` as a block device that is not a partition (``minor & 0xf != 0`` is skipped in
v0.3.0). Problems are collected, not fatal: the caller logs them as one warning.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Dict, List, Tuple

from runcore.api import clean

from . import _go


class BadPattern(ValueError):
    """``filepath.ErrBadPattern``."""

    def __str__(self) -> str:
        return "syntax error in pattern"


@dataclass
class BlockDevice:
    major: int
    minor: int
    dev_node: str
    origin: str


def _major(rdev: int) -> int:
    return ((rdev >> 8) & 0xFFF) | ((rdev >> 32) & 0xFFFFF000)


def _minor(rdev: int) -> int:
    return (rdev & 0xFF) | ((rdev >> 12) & 0xFFFFFF00)


# ------------------------------------------------------------------ filepath.Match
def _read_class_char(pattern: str, i: int) -> Tuple[str, int]:
    """One (possibly escaped) character of a class starting at ``i``."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise BadPattern()
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise BadPattern()
    return pattern[i], i + 1


def _parse_class(pattern: str, i: int) -> Tuple[bool, List[Tuple[str, str]], int]:
    """Parse ``[...]`` whose ``[`` is at ``i - 1``; return (negated, ranges, next index)."""
    negated = False
    if i < len(pattern) and pattern[i] == "^":
        negated = True
        i += 1
    ranges: List[Tuple[str, str]] = []
    while True:
        if i < len(pattern) and pattern[i] == "]" and ranges:
            return negated, ranges, i + 1
        lo, i = _read_class_char(pattern, i)
        hi = lo
        if i < len(pattern) and pattern[i] == "-":
            hi, i = _read_class_char(pattern, i + 1)
            if hi < lo:
                raise BadPattern()
        ranges.append((lo, hi))


def _compile(pattern: str) -> List[Tuple[str, object]]:
    """Tokens of a pattern: ("star",), ("any",), ("class", (neg, ranges)), ("lit", ch)."""
    tokens: List[Tuple[str, object]] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            tokens.append(("star", None))
            i += 1
        elif ch == "?":
            tokens.append(("any", None))
            i += 1
        elif ch == "[":
            negated, ranges, i = _parse_class(pattern, i + 1)
            tokens.append(("class", (negated, ranges)))
        elif ch == "\\":
            if i + 1 >= len(pattern):
                raise BadPattern()
            tokens.append(("lit", pattern[i + 1]))
            i += 2
        else:
            tokens.append(("lit", ch))
            i += 1
    return tokens


def _token_matches(token: Tuple[str, object], ch: str) -> bool:
    kind, arg = token
    if kind == "any":
        return ch != "/"
    if kind == "lit":
        return ch == arg
    negated, ranges = arg  # type: ignore[misc]
    inside = any(lo <= ch <= hi for lo, hi in ranges)
    return inside != negated


def match(pattern: str, name: str) -> bool:
    """``filepath.Match(pattern, name)``; raises :class:`BadPattern` for a malformed pattern."""
    tokens = _compile(pattern)

    # classic backtracking over '*', which never matches '/'
    memo: Dict[Tuple[int, int], bool] = {}

    def rec(t: int, n: int) -> bool:
        key = (t, n)
        if key in memo:
            return memo[key]
        if t == len(tokens):
            result = n == len(name)
        elif tokens[t][0] == "star":
            result = rec(t + 1, n) or (n < len(name) and name[n] != "/" and rec(t, n + 1))
        else:
            result = n < len(name) and _token_matches(tokens[t], name[n]) and rec(t + 1, n + 1)
        memo[key] = result
        return result

    return rec(0, 0)


def _has_meta(path: str) -> bool:
    return any(c in path for c in "*?[\\")


def _split(path: str) -> Tuple[str, str]:
    """filepath.Split: directory (with its trailing slash) and file."""
    i = path.rfind("/")
    return path[: i + 1], path[i + 1 :]


def _clean_glob_dir(path: str) -> str:
    if path == "":
        return "."
    if path == "/":
        return path
    return path[:-1]


def _glob_dir(directory: str, pattern: str, matches: List[str]) -> List[str]:
    try:
        if not stat.S_ISDIR(os.stat(directory).st_mode):
            return matches
        names = sorted(os.listdir(directory), key=lambda n: os.fsencode(n))
    except OSError:
        return matches
    for name in names:
        if match(pattern, name):
            matches.append(_go_join(directory, name))
    return matches


def _go_join(a: str, b: str) -> str:
    if a == "":
        return clean(b)
    return clean(a + "/" + b)


def glob(pattern: str) -> List[str]:
    """``filepath.Glob(pattern)``; raises :class:`BadPattern`."""
    match(pattern, "")  # validates the whole pattern first, as Go does
    if not _has_meta(pattern):
        try:
            os.lstat(pattern)
        except (OSError, ValueError):
            return []
        return [pattern]
    directory, file = _split(pattern)
    directory = _clean_glob_dir(directory)
    if not _has_meta(directory):
        return _glob_dir(directory, file, [])
    if directory == pattern:
        raise BadPattern()
    matches: List[str] = []
    for d in glob(directory):
        matches = _glob_dir(d, file, matches)
    return matches


# ------------------------------------------------------------------ EvalSymlinks
class EvalError(OSError):
    pass


def eval_symlinks(path: str) -> str:
    """``filepath.EvalSymlinks(path)``: relative results stay relative, as in Go."""
    rooted = path.startswith("/")
    done: List[str] = []
    pending = path.split("/")
    links = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if done and done[-1] != "..":
                done.pop()
            elif not rooted:
                done.append("..")
            continue
        candidate = ("/" if rooted else "") + "/".join(done + [part])
        try:
            st = os.lstat(candidate)
        except OSError as exc:
            raise EvalError(exc.errno, _go.path_error("lstat", candidate, exc)) from None
        if not stat.S_ISLNK(st.st_mode):
            done.append(part)
            continue
        links += 1
        if links > 255:
            raise EvalError(40, "EvalSymlinks: too many links")
        target = os.readlink(candidate)
        if target.startswith("/"):
            rooted, done = True, []
        pending = target.split("/") + pending
    result = ("/" if rooted else "") + "/".join(done)
    return result or "."


# ------------------------------------------------------------------ block devices
def configurable_block_devices(patterns: List[str]) -> Tuple[List[BlockDevice], List[str]]:
    """Block devices named by ``patterns`` and the problems found (goresctrl's texts).

    Order is deterministic (patterns in order, matches sorted) where Go iterates maps.
    """
    errors: List[str] = []
    matches: Dict[str, str] = {}
    for pattern in patterns:
        try:
            found = glob(pattern)
        except BadPattern as exc:
            errors.append(f"bad device wildcard {_go.quote(pattern)}: {exc}")
            continue
        if not found:
            errors.append(f"device wildcard {_go.quote(pattern)} does not match any device nodes")
            continue
        for m in found:
            origin = f"from wildcard {_go.quote(pattern)}" if m != pattern else ""
            matches[m] = f"{matches.get(m, '')} {origin}".strip()

    real_paths: Dict[str, str] = {}
    for m, m_origin in matches.items():
        try:
            real = eval_symlinks(m)
        except OSError as exc:
            errors.append(f"cannot filepath.EvalSymlinks({_go.quote(m)}): {exc.strerror}")
            continue
        origin = f"from symlink {_go.quote(m)} {m_origin}" if real != m else m_origin
        real_paths[real] = f"{real_paths.get(real, '')} {origin}".strip()

    devices: List[BlockDevice] = []
    for real, r_origin in real_paths.items():
        suffix = f" (origin: {r_origin})" if r_origin else ""
        try:
            st = os.stat(real)
        except OSError as exc:
            errors.append(
                f"cannot os.Stat({_go.quote(real)}): {_go.path_error('stat', real, exc)}{suffix}"
            )
            continue
        if not (stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode)):
            errors.append(f"file {_go.quote(real)} is not a device{suffix}")
            continue
        if stat.S_ISCHR(st.st_mode):
            errors.append(f"file {_go.quote(real)} is a character device{suffix}")
            continue
        major, minor = _major(st.st_rdev), _minor(st.st_rdev)
        if minor & 0xF != 0:
            errors.append(f"skipping {_go.quote(real)}: cannot weight/throttle partitions{suffix}")
            continue
        devices.append(BlockDevice(major, minor, real, r_origin))
    return devices, errors


def current_io_schedulers(sysfs_block: str = "/sys/block") -> Tuple[Dict[str, str], List[str]]:
    """``{"/dev/<name>": scheduler}`` from ``<sysfs_block>/*/queue/scheduler``, and errors."""
    schedulers: Dict[str, str] = {}
    errors: List[str] = []
    try:
        names = sorted(os.listdir(sysfs_block), key=lambda n: os.fsencode(n))
    except OSError:
        return schedulers, errors
    for name in names:
        path = f"{sysfs_block}/{name}/queue/scheduler"
        if not os.path.lexists(path):
            continue
        try:
            with open(path, "rb") as fh:
                data = fh.read().decode("utf-8", "surrogateescape")
        except OSError as exc:
            errors.append(
                f"failed to read current I/O scheduler {_go.quote(path)}: "
                f"{_go.path_error('read', path, exc)}"
            )
            continue
        data = data.strip("\n")
        current = ""
        if " " not in data:
            current = data
        else:
            open_b, close_b = data.find("["), data.find("]")
            if -1 < open_b < close_b:
                current = data[open_b + 1 : close_b]
        if current == "":
            errors.append(f"could not parse current scheduler in {_go.quote(path)}")
            continue
        schedulers["/dev/" + name] = current
    return schedulers, errors
