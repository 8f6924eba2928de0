"""Go-compatible text: render values and errors the way Go's fmt/strconv/os/filepath do.

ctr is written in Go, so its messages carry Go's quoting, errno texts and path rules.
runcore and its plugins use these helpers wherever a message or value must read exactly
like ctr's (``strconv.Quote``, ``*fs.PathError``, ``filepath.Clean``/``Join``,
``strconv.ParseUint``, ``bufio.Scanner`` lines, ...).
"""
from __future__ import annotations

import errno as _errno
import os
from typing import Optional, Tuple

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT32_MASK = (1 << 32) - 1
INT32_MAX = (1 << 31) - 1


class GoNumError(ValueError):
    """A strconv.NumError: ``strconv.<Func>: parsing "<num>": <reason>``."""

    def __init__(self, func: str, num: str, reason: str) -> None:
        self.func = func
        self.num = num
        self.reason = reason
        super().__init__(f"strconv.{func}: parsing {go_quote(num)}: {reason}")


SYNTAX = "invalid syntax"
RANGE = "value out of range"


def _lower(c: str) -> str:
    """ASCII-only lower-casing of one character, like strconv's lower()."""
    return chr(ord(c) | 0x20) if "A" <= c <= "Z" else c


def _underscore_ok(s: str) -> bool:
    """strconv.underscoreOK: underscores only between digits (base prefix counts as a digit)."""
    saw = "^"
    i = 0
    if s[:1] in ("-", "+"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and _lower(s[1]) in ("b", "o", "x"):
        i = 2
        saw = "0"
        hexa = _lower(s[1]) == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and "a" <= _lower(c) <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def parse_uint(s: str, base: int = 10, bit_size: int = 64, func: str = "ParseUint") -> int:
    """strconv.ParseUint; raises GoNumError with Go's exact text."""
    if s == "":
        raise GoNumError(func, s, SYNTAX)
    base0 = base == 0
    s0 = s
    if base == 0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and _lower(s[1]) == "b":
                base, s = 2, s[2:]
            elif len(s) >= 3 and _lower(s[1]) == "o":
                base, s = 8, s[2:]
            elif len(s) >= 3 and _lower(s[1]) == "x":
                base, s = 16, s[2:]
            else:
                base, s = 8, s[1:]
    elif not 2 <= base <= 36:
        raise ValueError(f"invalid base {base}")
    max_val = (1 << bit_size) - 1
    n = 0
    underscores = False
    for c in s.encode("utf-8", "surrogateescape"):
        ch = chr(c)
        if ch == "_" and base0:
            underscores = True
            continue
        if "0" <= ch <= "9":
            d = c - 48
        elif "a" <= _lower(ch) <= "z":
            d = ord(_lower(ch)) - ord("a") + 10
        else:
            raise GoNumError(func, s0, SYNTAX)
        if d >= base:
            raise GoNumError(func, s0, SYNTAX)
        n = n * base + d
        if n > max_val:
            raise GoNumError(func, s0, RANGE)
    if underscores and not _underscore_ok(s0):
        raise GoNumError(func, s0, SYNTAX)
    return n


def atoi(s: str) -> Tuple[int, bool]:
    """strconv.Atoi on a 64-bit platform: (value, ok); a range error yields the clamped value, a syntax error 0."""
    if 0 < len(s) < 19:
        body = s[1:] if s[0] in "+-" else s
        if not body:
            return 0, False
        n = 0
        for ch in body:
            if not "0" <= ch <= "9":
                return 0, False
            n = n * 10 + (ord(ch) - 48)
        return (-n if s[0] == "-" else n), True
    # Slow path: ParseInt(s, 10, 64).
    if s == "":
        return 0, False
    neg = False
    body = s
    if s[0] in "+-":
        neg = s[0] == "-"
        body = s[1:]
    try:
        un = parse_uint(body, 10, 64)
    except GoNumError as exc:
        if exc.reason != RANGE:
            return 0, False
        un = (1 << 64) - 1
    cutoff = 1 << 63
    if not neg and un >= cutoff:
        return INT64_MAX, False
    if neg and un > cutoff:
        return INT64_MIN, False
    return (-un if neg else un), True


def to_uint32(v: int) -> int:
    """Go conversion uint32(v) of an integer (wraps modulo 2**32)."""
    return v & UINT32_MASK


def to_int64(v: int) -> int:
    """Go conversion int64(v) of an unsigned 64-bit integer (two's complement wrap)."""
    v &= (1 << 64) - 1
    return v - (1 << 64) if v > INT64_MAX else v


def float_to_int64(f: float) -> int:
    """Go conversion int64(f) on amd64: truncation; NaN/out-of-range give math.MinInt64."""
    if f != f or f >= 9.223372036854775807e18 or f < -9.223372036854775808e18:
        return INT64_MIN
    return int(f)


def go_quote(s: str) -> str:
    """strconv.Quote: double-quoted Go string literal with Go's escapes."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if 0xDC80 <= c <= 0xDCFF:  # a raw (invalid UTF-8) byte kept by surrogateescape
            out.append("\\x%02x" % (c - 0xDC00))
        elif 0xD800 <= c <= 0xDFFF:
            out.append("\\ufffd")
        elif ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\v":
            out.append("\\v")
        elif ch.isprintable():
            out.append(ch)
        elif c < 0x20 or c == 0x7F:
            out.append("\\x%02x" % c)
        elif c < 0x10000:
            out.append("\\u%04x" % c)
        else:
            out.append("\\U%08x" % c)
    out.append('"')
    return "".join(out)


def errno_text(err: Optional[int], fallback: str = "") -> str:
    """The text Go's syscall.Errno prints (glibc's message with a lower-case first letter)."""
    if err is None:
        return fallback
    special = {
        _errno.ENOENT: "no such file or directory",
        _errno.EACCES: "permission denied",
        _errno.ENOTDIR: "not a directory",
        _errno.EISDIR: "is a directory",
        _errno.ELOOP: "too many levels of symbolic links",
        _errno.EPERM: "operation not permitted",
        _errno.ENAMETOOLONG: "file name too long",
        _errno.EIO: "input/output error",
        _errno.ENXIO: "no such device or address",
        _errno.ENODEV: "no such device",
    }
    if err in special:
        return special[err]
    text = os.strerror(err)
    return text[:1].lower() + text[1:] if text else fallback


def path_error(op: str, path: str, exc: OSError) -> str:
    """Go *PathError text: ``<op> <path>: <errno text>``."""
    return f"{op} {path}: {errno_text(exc.errno, str(exc))}"


def clean(path: str) -> str:
    """path/filepath.Clean for Unix paths."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def join(*elems: str) -> str:
    """path/filepath.Join: join the non-empty elements with '/' and Clean; all empty gives ''."""
    picked = [e for e in elems if e != ""]
    if not picked:
        return ""
    return clean("/".join(picked))


def is_space(ch: str) -> bool:
    """unicode.IsSpace."""
    return ch in "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" or "\u2000" <= ch <= "\u200a"


def trim_space(s: str) -> str:
    """bytes.TrimSpace / strings.TrimSpace with Go's definition of white space."""
    start, end = 0, len(s)
    while start < end and is_space(s[start]):
        start += 1
    while end > start and is_space(s[end - 1]):
        end -= 1
    return s[start:end]


def decode(data: bytes) -> str:
    """Bytes to str keeping invalid UTF-8 bytes as surrogate escapes (Go strings are bytes)."""
    return data.decode("utf-8", "surrogateescape")


SCANNER_MAX_TOKEN = 64 * 1024
ERR_TOO_LONG = "bufio.Scanner: token too long"


class ScannerTooLong(ValueError):
    """bufio.Scanner gave up: a line did not fit into its 64 KiB buffer."""

    def __init__(self) -> None:
        super().__init__(ERR_TOO_LONG)


def scan_lines(data: bytes) -> list:
    """bufio.Scanner with ScanLines: lines split on LF, one CR before LF (or at EOF) dropped; 64 KiB limit."""
    lines = []
    pos = 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        if nl < 0:
            if n - pos >= SCANNER_MAX_TOKEN:
                raise ScannerTooLong()
            line = data[pos:]
            pos = n
        else:
            if nl + 1 - pos > SCANNER_MAX_TOKEN:
                raise ScannerTooLong()
            line = data[pos:nl]
            pos = nl + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        lines.append(decode(line))
    return lines
