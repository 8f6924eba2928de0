"""Go-compatible text: quoting, errno texts, path rules and line scanning as Go prints them.

ctr is written in Go, so its messages carry Go's quoting (``strconv.Quote``), errno texts
(``*fs.PathError``), path rules (``filepath.Clean``/``Join``) and ``bufio.Scanner`` lines.
Written by hand: these are a few lines each and no Python library reproduces Go's exact
texts.
"""

from __future__ import annotations

import errno as _errno
import os
from typing import List, Optional


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
    parts: List[str] = []
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
    return (
        ch in "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
        or "\u2000" <= ch <= "\u200a"
    )


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


def scan_lines(data: bytes) -> List[str]:
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
