"""Is a profile loaded, and loading one with ``apparmor_parser``, as containerd 1.7 does it.

containerd (``contrib/apparmor.LoadDefaultProfile``) reads the kernel's list of loaded
profiles; if NAME is missing it writes the rendered profile to a temporary file (in
``$XDG_RUNTIME_DIR`` or the default temporary directory, named after the profile), runs
``apparmor_parser -Kr FILE`` (skip the cache, replace) and removes the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Callable, Optional

from runcore.api import path_error

#: The kernel's list of loaded profiles (``NAME (mode)`` per line).
PROFILES_FILE = "/sys/kernel/security/apparmor/profiles"

#: The parser containerd runs (looked up in ``$PATH``).
PARSER = "apparmor_parser"


class AppArmorError(Exception):
    """Loading failed; the message is one line."""


def unavailable_reason(profiles_file: Optional[str] = None) -> Optional[str]:
    """Why the list of loaded profiles cannot be read (Go's wording), or ``None``."""
    path = profiles_file or PROFILES_FILE
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return path_error("open", path, exc)


def is_loaded(name: str, profiles_file: Optional[str] = None) -> bool:
    """Whether a line of the profiles list starts with ``NAME `` (only complete lines
    count, as in containerd).

    :raises AppArmorError: the list cannot be read.
    """
    path = profiles_file or PROFILES_FILE
    prefix = (name + " ").encode()
    try:
        with open(path, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break
                if line.startswith(prefix):
                    return True
    except OSError as exc:
        raise AppArmorError(path_error("open", path, exc)) from None
    return False


def load(name: str, text: str, parser: Optional[str] = None) -> None:
    """Write ``text`` to a temporary file named after ``name`` and load it (``-Kr``).

    :raises AppArmorError: ``load apparmor profile FILE: parser error("OUTPUT"): STATUS``.
    """
    if "/" in name:  # Go's os.CreateTemp refuses such a pattern
        raise AppArmorError("pattern contains path separator")
    directory = os.environ.get("XDG_RUNTIME_DIR") or None
    try:
        fd, path = tempfile.mkstemp(prefix=name, suffix="", dir=directory)
    except OSError as exc:
        raise AppArmorError(path_error("open", str(exc.filename or directory), exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        program = parser or PARSER
        try:
            result = subprocess.run(
                [program, "-Kr", path],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except FileNotFoundError:
            status = f"exec: {json.dumps(program)}: executable file not found in $PATH"
            output = ""
        else:
            if result.returncode == 0:
                return
            output = result.stdout.decode("utf-8", errors="replace").strip()
            status = (
                f"exit status {result.returncode}"
                if result.returncode > 0
                else f"signal: {-result.returncode}"
            )
        raise AppArmorError(
            f"load apparmor profile {path}: parser error({json.dumps(output)}): {status}"
        )
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def ensure_loaded(
    name: str,
    text_for: Optional[Callable[[str], str]] = None,
    profiles_file: Optional[str] = None,
    parser: Optional[str] = None,
) -> bool:
    """Load the default profile ``name`` unless the kernel lists it; ``True`` if loaded now.

    :param text_for: callable ``name -> profile text`` (default: the host's rendering).
    """
    if is_loaded(name, profiles_file):
        return False
    if text_for is None:
        from runcore_apparmor.template import render_for_host

        text_for = render_for_host
    load(name, text_for(name), parser)
    return True
