"""The plugin discovery cache: entry points, distribution metadata and requirement checks.

Finding plugins through ``importlib.metadata`` costs every command 25-40 ms (importing
``importlib.metadata`` and ``email``, reading every distribution's ``entry_points.txt``
and ``METADATA``, and ``packaging`` to check each plugin's requirement on runcore).
None of it changes unless something is installed, upgraded or removed, so the result is
kept in one JSON file per interpreter and reused while its *fingerprint* still matches:

* the interpreter (``sys.version``, ``sys.prefix``) and ``sys.path``, in order;
* for every ``sys.path`` entry, each ``*.dist-info`` / ``*.egg-info`` directory in it,
  with the modification times (ns) and sizes of the directory, its ``entry_points.txt``
  and its ``METADATA`` / ``PKG-INFO``.

``pip install``, ``pip uninstall`` and upgrades create, remove or rewrite those
directories, so any of them invalidates the cache (``tests/unit/test_plugin_cache.py``
proves each case). Checking the fingerprint is a few ``listdir``/``stat`` calls.

The configuration files are deliberately *not* part of the key: nothing derived from
them is cached. The policy (``-p no:ID``, ``RUNCORE_PLUGINS``, the config's
enable/disable/required) is applied afresh by the loader on every command, on top of
the cached discovery.

Requirement checks (``packaging.specifiers``) are memoized by (specifier, version),
which is a pure function, and stored in the same file.

Where: ``$RUNCORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/runcore``, else
``~/.cache/runcore``; ``RUNCORE_NO_CACHE=1`` turns the cache off. A cache that cannot be
read or written is ignored (the scan result is used directly), and so is a file owned by
another user (it names the modules to import).

Written by hand: no maintained library caches ``importlib.metadata`` entry points
against the installed distributions.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import zlib
from typing import Any, Callable, Dict, Iterable, List, Optional, TypeVar

from runcore import fingerprint as _fingerprint

#: Bumped when the file format changes.
FORMAT = 1


F = TypeVar("F", bound=Callable[..., Any])


class CachedDistribution:
    """What the loader reads from a distribution: name, version, ``Requires-Dist``."""

    def __init__(
        self,
        name: Optional[str],
        version: Optional[str],
        requires: Optional[List[str]],
        runcore_requirement: Optional[str] = None,
    ) -> None:
        self.name = name
        self.version = version
        self.requires = requires
        #: the specifier on runcore, as the loader computed it (None: not known)
        self.runcore_requirement = runcore_requirement

    def __repr__(self) -> str:
        return f"<cached distribution {self.name} {self.version}>"


class CachedEntryPoint:
    """An entry point as ``importlib.metadata`` gave it: ``name``, ``value``, ``group``,
    ``dist`` and :meth:`load`, without importing ``importlib.metadata``."""

    def __init__(
        self, name: str, value: str, group: str, dist: Optional[CachedDistribution]
    ) -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist = dist

    @property
    def module(self) -> str:
        return self.value.split("[", 1)[0].partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.split("[", 1)[0].partition(":")[2].strip()

    def load(self) -> Any:
        """Import the module and return the named attribute (as ``EntryPoint.load``)."""
        obj: Any = importlib.import_module(self.module)
        for part in filter(None, self.attr.split(".")):
            obj = getattr(obj, part)
        return obj

    def __repr__(self) -> str:
        return f"<cached entry point {self.name} = {self.value}>"


# ----------------------------------------------------------------------------- fingerprint


def fingerprint(paths: Optional[Iterable[str]] = None) -> List[Any]:
    """What the installed distributions look like on ``paths`` (default ``sys.path``)."""
    return [FORMAT, *_fingerprint.distributions(paths)]


# ----------------------------------------------------------------------------- the file


def cache_file(environ: Optional[Dict[str, str]] = None) -> Optional[str]:
    """This interpreter's cache file (one per ``sys.prefix`` and executable)."""
    where = _fingerprint.cache_dir(environ)
    if where is None:
        return None
    key = zlib.crc32(f"{sys.prefix}\0{sys.executable}".encode())  # the file checks the rest
    return os.path.join(where, f"plugins-{key:08x}.json")


#: Fingerprints kept per file: ``runcore`` and ``python -m runcore`` from different
#: directories see different ``sys.path``s and should not evict each other.
KEEP = 8


class _State:
    """The cache of this process: its file, and memoized requirement checks."""

    def __init__(self) -> None:
        self.path: Optional[str] = None
        self.compat: Dict[str, bool] = {}
        self.scanning = False  # the scan stores once at its end


_STATE = _State()


def _read(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            if os.fstat(fh.fileno()).st_uid != os.geteuid():
                return {}  # names modules to import: only our own file is trusted
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    return data


def _write(path: str, data: Dict[str, Any]) -> None:
    """Replace ``path`` atomically; errors are ignored (the cache is an optimisation)."""
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".plugins-", suffix=".tmp", dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


def _store(fp: Optional[List[Any]] = None, group: str = "", records: Any = None) -> None:
    """Merge into the file: this fingerprint's entry points (most recent first) and the
    memoized requirement checks. Re-read first, so concurrent writers lose little."""
    if _STATE.path is None:
        return
    data = _read(_STATE.path)
    entries = [e for e in data.get("entries") or [] if isinstance(e, dict)]
    if fp is not None:
        entry = next((e for e in entries if e.get("fingerprint") == fp), None)
        if entry is None:
            entry = {"fingerprint": fp, "groups": {}}
        else:
            entries.remove(entry)
        entry.setdefault("groups", {})[group] = records
        entries.insert(0, entry)
    compat = dict(data.get("compat") or {})
    compat.update(_STATE.compat)
    _write(_STATE.path, {"format": FORMAT, "entries": entries[:KEEP], "compat": compat})


# ----------------------------------------------------------------------------- discovery


def _dist_record(dist: Any, requirement_of: Callable[[Any], str]) -> Optional[Dict[str, Any]]:
    if dist is None:
        return None
    try:
        requires = list(dist.requires) if dist.requires is not None else None
    except Exception:
        requires = None
    try:
        requirement: Optional[str] = requirement_of(dist)
    except Exception:  # malformed: the loader reports it when it loads the plugin
        requirement = None
    return {
        "name": getattr(dist, "name", None),
        "version": getattr(dist, "version", None),
        "requires": requires,
        "runcore_requirement": requirement,
    }


def _entry_points(records: List[Dict[str, Any]]) -> List[CachedEntryPoint]:
    out = []
    for rec in records:
        d = rec.get("dist")
        dist = (
            None
            if d is None
            else CachedDistribution(
                d["name"], d["version"], d["requires"], d["runcore_requirement"]
            )
        )
        out.append(CachedEntryPoint(rec["name"], rec["value"], rec["group"], dist))
    return out


def entry_points(
    group: str,
    scan: Callable[[], List[Any]],
    requirement_of: Callable[[Any], str],
    check: Optional[Callable[[str], Any]] = None,
) -> List[CachedEntryPoint]:
    """The entry points ``scan()`` finds for ``group``, from the cache while it is valid.

    ``scan`` returns ``importlib.metadata`` entry points; ``requirement_of(dist)`` gives a
    distribution's requirement on runcore; ``check(specifier)`` is called for each such
    requirement on a miss so that its (memoized) result is stored too.
    """
    path = cache_file()
    current = fingerprint()
    if path is not None:
        data = _read(path)
        _STATE.path = path
        _STATE.compat.update(data.get("compat") or {})
        for entry in data.get("entries") or []:
            if isinstance(entry, dict) and entry.get("fingerprint") == current:
                groups = entry.get("groups") or {}
                if group in groups:
                    return _entry_points(groups[group])
    records = []
    for ep in scan():
        records.append(
            {
                "name": ep.name,
                "value": ep.value,
                "group": group,
                "dist": _dist_record(getattr(ep, "dist", None), requirement_of),
            }
        )
    if check is not None:
        _STATE.scanning = True
        try:
            _check_all(records, check)
        finally:
            _STATE.scanning = False
    _store(current, group, records)
    return _entry_points(records)


def _check_all(records: List[Dict[str, Any]], check: Callable[[str], Any]) -> None:
    for rec in records:
        spec = (rec["dist"] or {}).get("runcore_requirement")
        if spec:
            try:
                check(spec)
            except Exception:  # a malformed specifier: the loader reports it
                pass


# ----------------------------------------------------------------------------- memoizing


def memoize_requirement(function: F) -> F:
    """Decorator for ``runcore_requirement(dist)``: a cached distribution answers from
    the cache (no ``packaging`` import); any other distribution is computed."""

    @functools.wraps(function)
    def wrapper(dist: Any) -> Any:
        if isinstance(dist, CachedDistribution) and dist.runcore_requirement is not None:
            return dist.runcore_requirement
        return function(dist)

    return wrapper  # type: ignore[return-value]


def memoize_compatibility(function: F) -> F:
    """Decorator for ``is_compatible(specifier, version)``: results are memoized (in the
    cache file too); errors are not."""

    @functools.wraps(function)
    def wrapper(specifier: str, version: str) -> Any:
        if not specifier:
            return function(specifier, version)
        key = f"{specifier}\0{version}"
        try:
            return _STATE.compat[key]
        except KeyError:
            pass
        result = bool(function(specifier, version))
        _STATE.compat[key] = result
        if not _STATE.scanning:
            _store()
        return result

    return wrapper  # type: ignore[return-value]


def forget() -> None:
    """Drop what this process read from the cache (tests)."""
    global _STATE
    _STATE = _State()
