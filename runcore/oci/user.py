"""User and group resolution inside the container rootfs: WithUser, WithUserID, WithUsername, WithAdditionalGIDs.

Behaviour is that of Debian's containerd 1.7.24 (which carries the 1.7.27 range
backport): a numeric id outside 0..2147483647 is treated as a *name*.
Every function mutates ``spec`` in place; lookups read ``/etc/passwd`` and
``/etc/group`` through a :class:`~runcore.oci.rootfs.RootFS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from runcore import gocompat as _go
from .errors import NoGroupsFound, NoUsersFound, SpecError, UserLookupError
from .rootfs import DirectoryRootFS, RootFS
from .spec import user as _user

PASSWD = "/etc/passwd"
GROUP = "/etc/group"

MIN_ID = 0
MAX_ID = _go.INT32_MAX


@dataclass
class PasswdEntry:
    """One /etc/passwd line as moby/sys/user parses it (missing fields keep their zero value)."""

    name: str = ""
    password: str = ""
    uid: int = 0
    gid: int = 0
    gecos: str = ""
    home: str = ""
    shell: str = ""


@dataclass
class GroupEntry:
    """One /etc/group line as moby/sys/user parses it."""

    name: str = ""
    password: str = ""
    gid: int = 0
    members: List[str] = field(default_factory=list)


def _fields(line: str) -> List[str]:
    """Colon-separated fields of one line."""
    return line.split(":")


def _int_field(text: str) -> int:
    """strconv.Atoi with the error ignored (value kept: 0 on bad syntax, clamped on overflow)."""
    return _go.atoi(text)[0]


def parse_passwd(data: bytes) -> List[PasswdEntry]:
    """Parse passwd-formatted data (bufio.Scanner lines, TrimSpace, blank lines skipped; '#' lines are NOT skipped)."""
    out = []
    try:
        lines = _go.scan_lines(data)
    except _go.ScannerTooLong as exc:
        raise UserLookupError(str(exc)) from None
    for raw in lines:
        line = _go.trim_space(raw)
        if not line:
            continue
        parts = _fields(line)
        entry = PasswdEntry()
        names = ("name", "password", "uid", "gid", "gecos", "home", "shell")
        for attr, value in zip(names, parts):
            setattr(entry, attr, _int_field(value) if attr in ("uid", "gid") else value)
        out.append(entry)
    return out


def parse_group(data: bytes) -> List[GroupEntry]:
    """Parse group-formatted data (TrimSpace, blank and '#' lines skipped, members split on ',')."""
    out = []
    text = _go.decode(data)
    for raw in text.split("\n"):
        line = _go.trim_space(raw)
        if not line or line.startswith("#"):
            continue
        parts = _fields(line)
        entry = GroupEntry()
        if len(parts) > 0:
            entry.name = parts[0]
        if len(parts) > 1:
            entry.password = parts[1]
        if len(parts) > 2:
            entry.gid = _int_field(parts[2])
        if len(parts) > 3:
            entry.members = parts[3].split(",") if parts[3] else []
        out.append(entry)
    return out


def _read(rootfs: RootFS, path: str) -> Optional[bytes]:
    """rootfs.read_file, with None meaning 'does not exist'."""
    return rootfs.read_file(path)


class RootFSFileMissing(UserLookupError):
    """/etc/passwd or /etc/group does not exist (Go: ``open <host path>: no such file or directory``)."""


def _missing(rootfs: RootFS, path: str) -> RootFSFileMissing:
    """The error Go's os.Open gives for a missing file inside the rootfs."""
    return RootFSFileMissing(f"open {rootfs.host_path(path)}: no such file or directory")


def user_from_rootfs(rootfs: RootFS, match: Callable[[PasswdEntry], bool]) -> PasswdEntry:
    """First passwd entry matching ``match`` (oci.UserFromPath); NoUsersFound, or the open error when missing."""
    data = _read(rootfs, PASSWD)
    if data is None:
        raise _missing(rootfs, PASSWD)
    for entry in parse_passwd(data):
        if match(entry):
            return entry
    raise NoUsersFound()


def gid_from_rootfs(rootfs: RootFS, match: Callable[[GroupEntry], bool]) -> int:
    """GID (as uint32) of the first group matching ``match`` (oci.GIDFromPath); NoGroupsFound when none."""
    data = _read(rootfs, GROUP)
    if data is None:
        raise _missing(rootfs, GROUP)
    for entry in parse_group(data):
        if match(entry):
            return _go.to_uint32(entry.gid)
    raise NoGroupsFound()


def ensure_additional_gids(spec: Dict[str, Any]) -> None:
    """Prepend the primary gid to additionalGids unless it is already there (ensureAdditionalGids)."""
    u = _user(spec)
    gids = list(u.get("additionalGids") or [])
    if u["gid"] not in gids:
        gids.insert(0, u["gid"])
    u["additionalGids"] = gids


def _parse_id(text: str) -> Optional[int]:
    """Atoi with the 0..MaxInt32 range check of the Debian/1.7.27 backport; None means 'treat as a name'."""
    value, ok = _go.atoi(text)
    if not ok or value < MIN_ID or value > MAX_ID:
        return None
    return value


def with_user_id(spec: Dict[str, Any], uid: int, rootfs: RootFS) -> None:
    """Set uid and the gid of its passwd entry; missing file or entry gives gid 0 (oci.WithUserID)."""
    u = _user(spec)
    u.pop("additionalGids", None)
    try:
        try:
            entry = user_from_rootfs(rootfs, lambda e: e.uid == uid)
        except (NoUsersFound, RootFSFileMissing):
            u["uid"], u["gid"] = uid, 0
            return
        u["uid"], u["gid"] = _go.to_uint32(entry.uid), _go.to_uint32(entry.gid)
    finally:
        ensure_additional_gids(spec)


def with_username(spec: Dict[str, Any], name: str, rootfs: RootFS) -> None:
    """Set uid/gid from the passwd entry named ``name``; missing entry is ``no users found`` (oci.WithUsername)."""
    u = _user(spec)
    u.pop("additionalGids", None)
    try:
        entry = user_from_rootfs(rootfs, lambda e: e.name == name)
        u["uid"], u["gid"] = _go.to_uint32(entry.uid), _go.to_uint32(entry.gid)
    finally:
        ensure_additional_gids(spec)


def user_needs_rootfs(value: str) -> bool:
    """Whether with_user(value) reads the rootfs (False only for the numeric ``uid:gid`` form)."""
    parts = value.split(":")
    if len(parts) == 2:
        return _parse_id(parts[0]) is None or _parse_id(parts[1]) is None
    return len(parts) == 1


def with_user(spec: Dict[str, Any], value: str, rootfs: RootFS) -> None:
    """Apply a ``user``, ``uid``, ``user:group``, ``uid:gid``, ``uid:group`` or ``user:gid`` string (oci.WithUser, §7.3)."""
    u = _user(spec)
    u.pop("additionalGids", None)
    try:
        parts = value.split(":")
        if len(parts) == 1:
            uid = _parse_id(parts[0])
            if uid is None:
                with_username(spec, value, rootfs)
            else:
                with_user_id(spec, uid, rootfs)
            return
        if len(parts) == 2:
            uid_v = _parse_id(parts[0])
            gid_v = _parse_id(parts[1])
            username = parts[0] if uid_v is None else ""
            groupname = parts[1] if gid_v is None else ""
            uid = uid_v or 0
            gid = gid_v or 0
            if username == "" and groupname == "":
                u["uid"], u["gid"] = uid, gid
                return
            if username != "":
                uid = _go.to_uint32(user_from_rootfs(rootfs, lambda e: e.name == username).uid)
            if groupname != "":
                gid = gid_from_rootfs(rootfs, lambda g: g.name == groupname)
            u["uid"], u["gid"] = uid, gid
            return
        raise SpecError(f"invalid USER value {value}")
    finally:
        ensure_additional_gids(spec)


def with_additional_gids(spec: Dict[str, Any], value: str, rootfs: RootFS) -> None:
    """Set additionalGids from /etc/group memberships of ``value`` (uid or name), then ensure the primary gid (§7.4)."""
    u = _user(spec)
    u.pop("additionalGids", None)
    try:
        uid, ok = _go.atoi(value)
        if ok:
            data = _read(rootfs, PASSWD)
            if data is None:
                return
            match = [e for e in parse_passwd(data) if e.uid == uid]
            if not match:
                return
            username = match[0].name
        else:
            username = value
        data = _read(rootfs, GROUP)
        if data is None:
            return
        gids = [
            _go.to_uint32(g.gid)
            for g in parse_group(data)
            if g.name != username and username in g.members
        ]
        u["additionalGids"] = gids
    finally:
        ensure_additional_gids(spec)


def rootfs_for_path(root_path: str) -> DirectoryRootFS:
    """RootFS for an unmanaged (``--rootfs``) container; the path must be absolute like ctr requires."""
    if not os.path.isabs(root_path):
        raise SpecError("rootfs absolute path is required")
    return DirectoryRootFS(root_path)
