"""Read-only access to files inside a container root filesystem, resolved like continuity's fs.RootPath."""

from __future__ import annotations

import errno
import os
import stat
from typing import Optional

from typing import Protocol, runtime_checkable

from runcore import gocompat as _go
from .errors import RootFSReadError

MAX_LINKS = 255


@runtime_checkable
class RootFS(Protocol):
    """What the user/group lookups need from a container root filesystem."""

    def read_file(self, path: str) -> Optional[bytes]:
        """Contents of ``path`` (absolute, inside the container); None when it does not exist."""
        ...

    def host_path(self, path: str) -> str:
        """The host path ``path`` resolves to (used in error messages, like Go's PathError)."""
        ...


class DirectoryRootFS:
    """A RootFS backed by a host directory; symlinks are resolved relative to it and never escape it."""

    def __init__(self, host_dir: str) -> None:
        self.root = host_dir

    def __repr__(self) -> str:
        return f"DirectoryRootFS({self.root!r})"

    def resolve(self, path: str) -> str:
        """Container path with every symlink resolved inside the root (absolute, cleaned)."""
        return _resolve(self.root, path)

    def host_path(self, path: str) -> str:
        """Host path for ``path``, i.e. filepath.Join(root, resolved)."""
        try:
            resolved = self.resolve(path)
        except RootFSReadError:
            resolved = _go.clean("/" + path)
        return _go.join(self.root, resolved)

    def read_file(self, path: str) -> Optional[bytes]:
        """Contents of ``path``; None if missing (ENOENT); RootFSReadError with Go's text otherwise."""
        host = _go.join(self.root, self.resolve(path))
        try:
            with open(host, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except IsADirectoryError as exc:
            # Go opens directories fine and fails on the first read.
            raise RootFSReadError(_go.path_error("read", host, exc)) from None
        except OSError as exc:
            raise RootFSReadError(_go.path_error("open", host, exc)) from None


def _resolve(root: str, path: str) -> str:
    """Resolve ``path`` below ``root`` component by component, following symlinks with the root as '/'."""
    links = 0
    pending = [p for p in path.split("/") if p not in ("", ".")]
    done: list = []
    while pending:
        part = pending.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = done + [part]
        host = os.path.join(root, *candidate)
        try:
            st = os.lstat(host)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                # A missing component counts as a plain one (walkLink's IsNotExist case).
                done = candidate
                continue
            raise RootFSReadError(_go.path_error("lstat", host, exc)) from None
        if not stat.S_ISLNK(st.st_mode):
            done = candidate
            continue
        links += 1
        if links > MAX_LINKS:
            raise RootFSReadError("too many links")
        try:
            target = os.readlink(host)
        except OSError as exc:
            raise RootFSReadError(_go.path_error("readlink", host, exc)) from None
        target_parts = [p for p in target.split("/") if p not in ("", ".")]
        if target.startswith("/"):
            done = []
        pending = target_parts + pending
    return "/" + "/".join(done)
