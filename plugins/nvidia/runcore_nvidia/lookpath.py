"""``exec.LookPath`` as ctr 1.7 uses it (through ``golang.org/x/sys/execabs``).

A name without a slash is searched in ``$PATH`` (an empty element means the current
directory); the first entry that is not a directory and is executable wins, returned as
``filepath.Join(dir, name)`` (cleaned, not made absolute, symlinks kept). execabs refuses
a result relative to the current directory.
"""

from __future__ import annotations

import os
import stat
from typing import Mapping, Optional

from runcore.api import clean


class LookPathError(Exception):
    """The Go error text is ``str(exc)``."""


def _is_executable(path: str) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    if stat.S_ISDIR(st.st_mode):
        return False
    try:
        if os.access in os.supports_effective_ids:
            return os.access(path, os.X_OK, effective_ids=True)
        return os.access(path, os.X_OK)
    except OSError:
        return bool(st.st_mode & 0o111)


def look_path(name: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The path ctr would run for ``name``; :class:`LookPathError` with Go's text otherwise."""
    env = os.environ if environ is None else environ
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if "/" in name:
        if _is_executable(name):
            return name
        raise LookPathError(
            f"exec: {quoted}: permission denied"
            if os.path.exists(name)
            else f"exec: {quoted}: stat {name}: no such file or directory"
        )
    path_var = env.get("PATH", "")
    dirs = path_var.split(":") if path_var else []
    for directory in dirs:
        candidate = clean((directory or ".") + "/" + name)
        if _is_executable(candidate):
            if not candidate.startswith("/"):
                raise LookPathError(
                    f"{name} resolves to executable in current directory (./{candidate})"
                )
            return candidate
    raise LookPathError(f"exec: {quoted}: executable file not found in $PATH")
