"""``--mount`` parsing (one Go encoding/csv record) and the mount-related spec options."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Sequence, Tuple

from runcore import gocompat as _go
from .env import with_env
from .errors import MountSpecError
from .namespaces import with_host_namespace

_QUOTE = b'"'
_COMMA = b","

ERR_BARE_QUOTE = 'bare " in non-quoted-field'
ERR_QUOTE = 'extraneous or missing " in quoted-field'


class CSVParseError(MountSpecError):
    """encoding/csv *ParseError text."""

    def __init__(self, start_line: int, line: int, column: int, reason: str) -> None:
        if start_line != line:
            msg = f"record on line {start_line}; parse error on line {line}, column {column}: {reason}"
        else:
            msg = f"parse error on line {line}, column {column}: {reason}"
        super().__init__(msg)


class _Reader:
    """The part of Go's csv.Reader needed for a single Read() with default settings."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.num_line = 0

    def read_line(self) -> Tuple[bytes, bool]:
        """Next line including its LF; (line, eof) where eof is only set when nothing was read."""
        data = self.data
        if self.pos >= len(data):
            self.num_line += 1
            return b"", True
        nl = data.find(b"\n", self.pos)
        if nl < 0:
            line = data[self.pos :]
            self.pos = len(data)
            if line.endswith(b"\r"):
                line = line[:-1]
        else:
            line = data[self.pos : nl + 1]
            self.pos = nl + 1
        self.num_line += 1
        if len(line) >= 2 and line[-2:] == b"\r\n":
            line = line[:-2] + b"\n"
        return line, False

    def read_record(self) -> List[bytes]:
        """One record; raises MountSpecError('EOF') when the input holds none."""
        eof = False
        line = b""
        while not eof:
            line, eof = self.read_line()
            if not eof and len(line) == _len_nl(line):
                continue  # skip empty lines
            break
        if eof:
            raise MountSpecError("EOF")

        rec_line = self.num_line
        fields: List[bytes] = []
        buf = bytearray()
        pos_line, pos_col = self.num_line, 1
        while True:
            if len(line) == 0 or line[:1] != _QUOTE:
                # Non-quoted field.
                i = line.find(_COMMA)
                fld = line[:i] if i >= 0 else line[: len(line) - _len_nl(line)]
                j = fld.find(_QUOTE)
                if j >= 0:
                    raise CSVParseError(rec_line, self.num_line, pos_col + j, ERR_BARE_QUOTE)
                fields.append(bytes(fld))
                if i >= 0:
                    line = line[i + 1 :]
                    pos_col += i + 1
                    continue
                break
            # Quoted field.
            line = line[1:]
            pos_col += 1
            buf.clear()
            while True:
                i = line.find(_QUOTE)
                if i >= 0:
                    buf += line[:i]
                    line = line[i + 1 :]
                    pos_col += i + 1
                    nxt = line[:1]
                    if nxt == _QUOTE:
                        buf += _QUOTE
                        line = line[1:]
                        pos_col += 1
                    elif nxt == _COMMA:
                        line = line[1:]
                        pos_col += 1
                        fields.append(bytes(buf))
                        break
                    elif _len_nl(line) == len(line):
                        fields.append(bytes(buf))
                        return fields
                    else:
                        raise CSVParseError(rec_line, self.num_line, pos_col - 1, ERR_QUOTE)
                elif len(line) > 0:
                    buf += line
                    pos_col += len(line)
                    # At EOF Go resets the read error; the next pass then sees an empty line.
                    line, _ = self.read_line()
                    if len(line) > 0:
                        pos_line += 1
                        pos_col = 1
                else:
                    raise CSVParseError(rec_line, pos_line, pos_col, ERR_QUOTE)
            continue
        return fields


def _len_nl(b: bytes) -> int:
    """1 if ``b`` ends with LF, else 0."""
    return 1 if b.endswith(b"\n") else 0


def read_csv_record(value: str) -> List[str]:
    """Fields of the first record of ``value`` as Go's csv.NewReader(...).Read() returns them."""
    data = value.encode("utf-8", "surrogateescape")
    return [_go.decode(f) for f in _Reader(data).read_record()]


def parse_mount_flag(value: str) -> Dict[str, Any]:
    """A mount dict from ``type=..,source|src=..,destination|dst=..,options=a:b`` (ctr's parseMountFlag)."""
    mount: Dict[str, Any] = {"destination": ""}
    for fld in read_csv_record(value):
        key, sep, val = fld.partition("=")
        if not sep:
            raise MountSpecError("invalid mount specification: expected key=val")
        if key == "type":
            mount["type"] = val
        elif key in ("source", "src"):
            mount["source"] = val
        elif key in ("destination", "dst"):
            mount["destination"] = val
        elif key == "options":
            mount["options"] = val.split(":")
        else:
            raise MountSpecError(f"mount option {_go.go_quote(key)} not supported")
    return mount


def with_mounts(spec: Dict[str, Any], mounts: Sequence[Dict[str, Any]]) -> None:
    """Append ``mounts`` to spec.mounts (oci.WithMounts)."""
    spec["mounts"] = list(spec.get("mounts") or []) + [dict(m) for m in mounts]


def with_mount_flags(spec: Dict[str, Any], values: Sequence[str]) -> None:
    """Parse every ``--mount`` value, then append them all (ctr's withMounts); the first parse error wins."""
    with_mounts(spec, [parse_mount_flag(v) for v in values])


def without_mounts(spec: Dict[str, Any], destinations: Sequence[str]) -> None:
    """Remove mounts whose cleaned destination is one of ``destinations`` (oci.WithoutMounts)."""
    kept = [
        m
        for m in spec.get("mounts") or []
        if _go.clean(m.get("destination", "")) not in destinations
    ]
    spec["mounts"] = kept


def _bind_ro(path: str) -> Dict[str, Any]:
    """A read-only rbind of the host's ``path`` at the same place."""
    return {"destination": path, "type": "bind", "source": path, "options": ["rbind", "ro"]}


def with_host_hosts_file(spec: Dict[str, Any]) -> None:
    """Bind the host's /etc/hosts read-only (oci.WithHostHostsFile)."""
    with_mounts(spec, [_bind_ro("/etc/hosts")])


def with_host_resolvconf(spec: Dict[str, Any]) -> None:
    """Bind the host's /etc/resolv.conf read-only (oci.WithHostResolvconf)."""
    with_mounts(spec, [_bind_ro("/etc/resolv.conf")])


def with_host_network(spec: Dict[str, Any], hostname: str) -> None:
    """``--net-host``: drop the network namespace, bind hosts/resolv.conf, merge HOSTNAME=<hostname>."""
    with_host_namespace(spec, "network")
    with_host_hosts_file(spec)
    with_host_resolvconf(spec)
    with_env(spec, [f"HOSTNAME={hostname}"])


def host_hostname(proc_hostname_path: str = "/proc/sys/kernel/hostname") -> str:
    """The host name as Go's os.Hostname finds it (uname nodename, else the proc file without its LF)."""
    name = os.uname().nodename
    if 0 < len(name.encode("utf-8", "surrogateescape")) < 64:
        return name
    try:
        with open(proc_hostname_path, "rb") as fh:
            data = fh.read(512)
    except OSError as exc:
        raise MountSpecError(
            "get hostname: " + _go.path_error("open", proc_hostname_path, exc)
        ) from None
    if data.endswith(b"\n"):
        data = data[:-1]
    return _go.decode(data)
