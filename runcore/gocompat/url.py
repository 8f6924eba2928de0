"""Go's ``net/url``: ``url.Parse`` and ``URL.String``, with Go's ``*url.Error`` texts.

ctr hands ``--log-uri`` to the shim as ``url.Parse(U).String()``; runcore must store the
same string and refuse the same values with the same message. Written by hand because
Python's ``urllib.parse`` accepts and normalises differently (no error for a bad port or
escape, other escaping rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from runcore.gocompat.text import go_quote


class URLParseError(ValueError):
    """An error of :func:`parse_url`; ``str()`` is Go's ``*url.Error`` text."""

    def __init__(self, op: str, url: str, err: str) -> None:
        super().__init__(f"{op} {go_quote(url)}: {err}")
        self.op, self.url, self.err = op, url, err


# encoding modes of Go's net/url
_PATH, _PATH_SEGMENT, _HOST, _ZONE, _USERPASS, _QUERY, _FRAGMENT = range(7)
_HEX = "0123456789ABCDEF"


def _should_escape(c: str, mode: int) -> bool:
    if c.isascii() and c.isalnum():
        return False
    if mode in (_HOST, _ZONE) and c in "!$&'()*+,;=:[]<>\"":
        return False
    if c in "-_.~":
        return False
    if c in "$&+,/:;=?@":
        if mode == _USERPASS:
            return c in "@/?:"
        if mode == _PATH:
            return c == "?"
        if mode == _PATH_SEGMENT:
            return c in "/;,?"
        if mode == _QUERY:
            return True
        if mode == _FRAGMENT:
            return False
    if mode == _FRAGMENT and c in "!()*":
        return False
    return True


def _bytes_of(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _escape(text: str, mode: int) -> str:
    out = []
    for b in _bytes_of(text):
        c = chr(b)
        if b < 0x80 and not _should_escape(c, mode):
            out.append(c)
        elif c == " " and mode == _QUERY:
            out.append("+")
        else:
            out.append("%" + _HEX[b >> 4] + _HEX[b & 15])
    return "".join(out)


def _is_hex(c: str) -> bool:
    return c in "0123456789abcdefABCDEF"


def _unescape(text: str, mode: int) -> str:
    """Percent-decode ``text`` (Go's ``unescape``); raises ``ValueError(go message)``."""
    raw = _bytes_of(text)
    i, n = 0, len(raw)
    while i < n:
        c = chr(raw[i])
        if c == "%":
            if i + 2 >= n or not _is_hex(chr(raw[i + 1])) or not _is_hex(chr(raw[i + 2])):
                bad = raw[i : i + 3].decode("utf-8", "surrogateescape")
                raise ValueError(f"invalid URL escape {go_quote(bad)}")
            if mode == _HOST and int(chr(raw[i + 1]), 16) < 8 and raw[i : i + 3] != b"%25":
                raise ValueError(f"invalid URL escape {go_quote(raw[i : i + 3].decode())}")
            if mode == _ZONE:
                value = int(raw[i + 1 : i + 3], 16)
                if raw[i : i + 3] != b"%25" and value != 0x20 and _should_escape(chr(value), _HOST):
                    raise ValueError(f"invalid URL escape {go_quote(raw[i : i + 3].decode())}")
            i += 3
        elif mode in (_HOST, _ZONE) and raw[i] < 0x80 and _should_escape(c, mode):
            raise ValueError(f"invalid character {go_quote(c)} in host name")
        else:
            i += 1
    out = bytearray()
    i = 0
    while i < n:
        if raw[i] == 0x25:  # '%'
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        elif raw[i] == 0x2B and mode == _QUERY:  # '+'
            out.append(0x20)
            i += 1
        else:
            out.append(raw[i])
            i += 1
    return bytes(out).decode("utf-8", "surrogateescape")


def _valid_encoded(text: str, mode: int) -> bool:
    for c in text:
        if c in "!$&'()*+,;=:@[]%":
            continue
        if ord(c) >= 0x80 or _should_escape(c, mode):
            return False
    return True


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    if port[0] != ":":
        return False
    return all("0" <= c <= "9" for c in port[1:])


def _valid_userinfo(text: str) -> bool:
    for c in text:
        if c.isascii() and c.isalnum():
            continue
        if c in "-._:~!$&'()*+,;=%@":
            continue
        return False
    return True


@dataclass
class GoURL:
    """The fields of Go's ``url.URL`` that ``String()`` uses."""

    scheme: str = ""
    opaque: str = ""
    user: Optional[Tuple[str, Optional[str]]] = None  # (username, password or None)
    host: str = ""
    path: str = ""
    raw_path: str = ""
    omit_host: bool = False
    force_query: bool = False
    raw_query: str = ""
    fragment: str = ""
    raw_fragment: str = ""

    def escaped_path(self) -> str:
        if self.raw_path and _valid_encoded(self.raw_path, _PATH):
            try:
                if _unescape(self.raw_path, _PATH) == self.path:
                    return self.raw_path
            except ValueError:
                pass
        if self.path == "*":
            return "*"
        return _escape(self.path, _PATH)

    def escaped_fragment(self) -> str:
        if self.raw_fragment and _valid_encoded(self.raw_fragment, _FRAGMENT):
            try:
                if _unescape(self.raw_fragment, _FRAGMENT) == self.fragment:
                    return self.raw_fragment
            except ValueError:
                pass
        return _escape(self.fragment, _FRAGMENT)

    def __str__(self) -> str:  # Go's URL.String()
        buf: List[str] = []
        if self.scheme:
            buf.append(self.scheme + ":")
        if self.opaque:
            buf.append(self.opaque)
        else:
            if self.scheme or self.host or self.user is not None:
                if not (self.omit_host and not self.host and self.user is None):
                    if self.host or self.path or self.user is not None:
                        buf.append("//")
                    if self.user is not None:
                        name, password = self.user
                        text = _escape(name, _USERPASS)
                        if password is not None:
                            text += ":" + _escape(password, _USERPASS)
                        buf.append(text + "@")
                    if self.host:
                        buf.append(_escape(self.host, _HOST))
            path = self.escaped_path()
            if path and path[0] != "/" and self.host:
                buf.append("/")
            if not "".join(buf):
                segment = path.split("/", 1)[0]
                if ":" in segment:
                    buf.append("./")
            buf.append(path)
        if self.force_query or self.raw_query:
            buf.append("?" + self.raw_query)
        if self.fragment:
            buf.append("#" + self.escaped_fragment())
        return "".join(buf)


def _get_scheme(raw: str) -> Tuple[str, str]:
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                return "", raw
            continue
        if c == ":":
            if i == 0:
                raise ValueError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return "", raw
    return "", raw


def _parse_host(host: str) -> str:
    if host.startswith("["):
        i = host.rfind("]")
        if i < 0:
            raise ValueError("missing ']' in host")
        colon_port = host[i + 1 :]
        if not _valid_optional_port(colon_port):
            raise ValueError(f"invalid port {go_quote(colon_port)} after host")
        zone = host[:i].find("%25")
        if zone >= 0:
            return (
                _unescape(host[:zone], _HOST)
                + _unescape(host[zone:i], _ZONE)
                + _unescape(host[i:], _HOST)
            )
    else:
        i = host.rfind(":")
        if i != -1:
            colon_port = host[i:]
            if not _valid_optional_port(colon_port):
                raise ValueError(f"invalid port {go_quote(colon_port)} after host")
    return _unescape(host, _HOST)


def _parse_authority(authority: str) -> Tuple[Optional[Tuple[str, Optional[str]]], str]:
    i = authority.rfind("@")
    host = _parse_host(authority[i + 1 :] if i >= 0 else authority)
    if i < 0:
        return None, host
    userinfo = authority[:i]
    if not _valid_userinfo(userinfo):
        raise ValueError("net/url: invalid userinfo")
    if ":" not in userinfo:
        return (_unescape(userinfo, _USERPASS), None), host
    name, password = userinfo.split(":", 1)
    return (_unescape(name, _USERPASS), _unescape(password, _USERPASS)), host


def _parse(raw: str) -> GoURL:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise ValueError("net/url: invalid control character in URL")
    url = GoURL()
    if raw == "*":
        url.path = "*"
        return url
    scheme, rest = _get_scheme(raw)
    url.scheme = scheme.lower()
    if rest.endswith("?") and rest.count("?") == 1:
        url.force_query = True
        rest = rest[:-1]
    elif "?" in rest:
        rest, url.raw_query = rest.split("?", 1)
    if not rest.startswith("/"):
        if url.scheme:
            url.opaque = rest
            return url
        if ":" in rest.split("/", 1)[0]:
            raise ValueError("first path segment in URL cannot contain colon")
    if (url.scheme or not rest.startswith("///")) and rest.startswith("//"):
        authority, rest = rest[2:], ""
        if "/" in authority:
            i = authority.index("/")
            authority, rest = authority[:i], authority[i:]
        url.user, url.host = _parse_authority(authority)
    elif url.scheme and rest.startswith("/"):
        url.omit_host = True
    url.path = _unescape(rest, _PATH)
    url.raw_path = "" if _escape(url.path, _PATH) == rest else rest
    return url


def parse_url(raw: str) -> GoURL:
    """Parse ``raw`` like Go's ``url.Parse``; raises :class:`URLParseError`."""
    base, sep, frag = raw.partition("#")
    try:
        url = _parse(base)
    except ValueError as exc:
        raise URLParseError("parse", base, str(exc)) from None
    if not sep or frag == "":
        return url
    try:
        url.fragment = _unescape(frag, _FRAGMENT)
    except ValueError as exc:
        raise URLParseError("parse", raw, str(exc)) from None
    url.raw_fragment = "" if _escape(url.fragment, _FRAGMENT) == frag else frag
    return url
