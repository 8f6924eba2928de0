"""What runcore's caches depend on, read with ``os`` calls only.

The plugin discovery cache (:mod:`runcore.plugin.cache`) and the help replay
(:mod:`runcore.cli.help_cache`) keep results that stay valid while these inputs are
unchanged. The help replay checks them before anything else is imported, so this
module imports nothing but ``os`` and ``sys`` (not even ``typing``).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from typing import Any, Dict, Iterable, List, Optional

#: The main configuration file when ``RUNCORE_CONFIG`` is not set.
DEFAULT_CONFIG_PATH = "/etc/runcore/config.toml"

_INFO_SUFFIXES = (".dist-info", ".egg-info")
_INFO_FILES = ("entry_points.txt", "METADATA", "PKG-INFO")


def file_state(path: str) -> "Optional[List[int]]":
    """``[mtime_ns, size]`` of ``path``, or ``None`` when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def distributions(paths: "Optional[Iterable[str]]" = None) -> "List[Any]":
    """What the installed distributions look like on ``paths`` (default ``sys.path``).

    Every ``*.dist-info`` / ``*.egg-info`` directory of every entry, with the
    modification times and sizes of the directory, its ``entry_points.txt`` and
    ``METADATA`` / ``PKG-INFO``: ``pip install``, ``uninstall`` and upgrades change it.
    """
    entries: "List[Any]" = []
    for entry in list(sys.path if paths is None else paths):
        where = entry or "."
        try:
            names = os.listdir(where)
        except OSError:  # a zip file, or gone
            entries.append([entry, file_state(where), None])
            continue
        infos = []
        for name in sorted(n for n in names if n.endswith(_INFO_SUFFIXES)):
            base = os.path.join(where, name)
            infos.append(
                [name, file_state(base)] + [file_state(os.path.join(base, f)) for f in _INFO_FILES]
            )
        entries.append([entry, None, infos])
    return [sys.version, sys.prefix, entries]


def main_config_path(environ: "Optional[Dict[str, str]]" = None) -> str:
    """The main configuration file: ``$RUNCORE_CONFIG``, else ``/etc/runcore/config.toml``."""
    env = os.environ if environ is None else environ
    return env.get("RUNCORE_CONFIG") or DEFAULT_CONFIG_PATH


def configuration(environ: "Optional[Dict[str, str]]" = None) -> "List[Any]":
    """The state of the configuration files: the main file, its ``config.d`` directory
    and every ``*.toml`` in it (adding, removing or editing one changes it)."""
    main = main_config_path(environ)
    dropins = os.path.join(os.path.dirname(main), "config.d")
    try:
        names = sorted(n for n in os.listdir(dropins) if n.endswith(".toml"))
    except OSError:
        names = []
    return [
        main,
        file_state(main),
        file_state(dropins),
        [[n, file_state(os.path.join(dropins, n))] for n in names],
    ]


def _cache_base(env: "Dict[str, str]") -> str:
    if env.get("RUNCORE_CACHE_DIR"):
        return env["RUNCORE_CACHE_DIR"]
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "runcore")


def cache_dir(environ: "Optional[Dict[str, str]]" = None) -> "Optional[str]":
    """The directory of runcore's cache files, or ``None`` when caching is off
    (``RUNCORE_NO_CACHE=1``): ``$RUNCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/runcore``,
    else ``~/.cache/runcore``."""
    env = os.environ if environ is None else environ
    if env.get("RUNCORE_NO_CACHE", "") not in ("", "0"):
        return None
    return _cache_base(env)


def flag_index_path(environ: "Optional[Dict[str, str]]" = None) -> str:
    """``flags.json``, the flags installed plugins declared when they last loaded: in the
    cache directory, and kept even with ``RUNCORE_NO_CACHE=1`` (it is an index, not a
    cache of results)."""
    return os.path.join(_cache_base(os.environ if environ is None else environ), "flags.json")
