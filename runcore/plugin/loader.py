"""Find plugins, decide which may load, and import them in isolation.

Steps, in order:

1. enumerate entry points of the group ``runcore.plugins`` (the name is the plugin id);
2. decide each plugin's status *before* importing it: ``-p no:ID`` on the command line,
   then ``RUNCORE_PLUGINS`` (allowlist) and ``RUNCORE_DISABLE_PLUGINS`` (blocklist), then
   the configuration files (see :mod:`runcore.config`);
3. check the plugin's declared requirement on ``runcore`` against this version;
4. import it; a plugin that fails to import is recorded as ``failed`` with a one-line
   error and everything else keeps working.

Nothing here imports a disabled or incompatible plugin.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

from runcore.plugin import cache

ENTRY_POINT_GROUP = "runcore.plugins"

ACTIVE = "active"
DISABLED = "disabled"
FAILED = "failed"
INCOMPATIBLE = "incompatible"
BUILTIN = "builtin"


@dataclass
class PluginInfo:
    """What runcore knows about one plugin, loaded or not."""

    id: str
    dist: Optional[str] = None
    version: Optional[str] = None
    status: str = ACTIVE
    reason: str = ""
    module: Any = None
    builtin: bool = False
    entry_point: str = ""
    flags: List[str] = field(default_factory=list)
    commands: List[str] = field(default_factory=list)
    requires_runcore: str = ""

    @property
    def label(self) -> str:
        """``plugin 'id' (dist version)``, the form used in every message."""
        if self.builtin:
            return f"built-in plugin {self.id!r}"
        if self.dist:
            return f"plugin {self.id!r} ({self.dist} {self.version})"
        return f"plugin {self.id!r}"

    def as_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "distribution": self.dist,
            "version": self.version,
            "status": self.status,
            "reason": self.reason,
            "builtin": self.builtin,
            "entry_point": self.entry_point,
            "requires_runcore": self.requires_runcore,
            "flags": list(self.flags),
            "commands": list(self.commands),
        }


@dataclass
class Policy:
    """Which plugins may load, and why: every decision keeps its source for ``--explain``."""

    blocked_cli: Sequence[str] = ()
    allow_env: Optional[Sequence[str]] = None
    block_env: Sequence[str] = ()
    enable_cfg: Dict[str, str] = field(default_factory=dict)  # id -> source file
    disable_cfg: Dict[str, str] = field(default_factory=dict)  # id -> source file

    @classmethod
    def from_environment(
        cls, argv: Sequence[str], environ: Optional[Dict[str, str]] = None
    ) -> "Policy":
        environ = dict(os.environ if environ is None else environ)
        allow = environ.get("RUNCORE_PLUGINS")
        return cls(
            blocked_cli=preparse_blocked(argv),
            allow_env=None if allow is None else _split(allow),
            block_env=_split(environ.get("RUNCORE_DISABLE_PLUGINS", "")),
        )

    def decide(self, plugin_id: str) -> Optional[str]:
        """Why ``plugin_id`` is disabled, or ``None`` when it may load."""
        if plugin_id in self.blocked_cli:
            return f"disabled by -p no:{plugin_id}"
        if self.allow_env is not None and plugin_id not in self.allow_env:
            return "disabled: not listed in RUNCORE_PLUGINS"
        if plugin_id in self.block_env:
            return "disabled by RUNCORE_DISABLE_PLUGINS"
        if plugin_id in self.disable_cfg and plugin_id not in self.enable_cfg:
            return f"disabled by {self.disable_cfg[plugin_id]}"
        return None

    def source_of(self, plugin_id: str) -> str:
        """Where the decision for an enabled plugin came from."""
        if self.allow_env is not None:
            return "enabled by RUNCORE_PLUGINS"
        if plugin_id in self.enable_cfg:
            return f"enabled by {self.enable_cfg[plugin_id]}"
        return "enabled (installed; autoload)"


def _split(value: str) -> List[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


#: Global options that take a separate value (``--address /x.sock``): their value is
#: not the sub-command.
_GLOBAL_VALUE_OPTIONS = ("--address", "-a", "--namespace", "-n", "--timeout", "--connect-timeout")


def preparse_blocked(argv: Sequence[str]) -> List[str]:
    """The ids named by ``-p no:ID`` (or ``-pno:ID``, ``--plugin no:ID``) in ``argv``.

    Only the global options before the sub-command are looked at.
    """
    blocked: List[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        value = None
        if arg in _GLOBAL_VALUE_OPTIONS:
            i += 2
            continue
        if arg in ("-p", "--plugin") and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        elif arg.startswith("-p") and not arg.startswith("--"):
            value = arg[2:]
        elif arg.startswith("--plugin="):
            value = arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            break
        if value and value.startswith("no:"):
            blocked.append(value[3:])
        i += 1
    return blocked


def discover() -> List[Any]:
    """Entry points of :data:`ENTRY_POINT_GROUP`, first of each name, sorted by name
    (from :mod:`runcore.plugin.cache` while nothing was installed or removed)."""
    from runcore import __version__

    return cache.entry_points(
        ENTRY_POINT_GROUP,
        scan=_scan,
        requirement_of=runcore_requirement,
        check=lambda spec: is_compatible(spec, __version__),
    )


def _scan() -> List[Any]:
    if sys.version_info >= (3, 10):
        from importlib import metadata as importlib_metadata
    else:  # pragma: no cover
        import importlib_metadata

    seen: Dict[str, Any] = {}
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        seen.setdefault(ep.name, ep)
    return [seen[name] for name in sorted(seen)]


def _dist_of(ep: Any) -> Any:
    return getattr(ep, "dist", None)


@cache.memoize_requirement
def runcore_requirement(dist: Any) -> str:
    """The specifier a distribution puts on ``runcore`` (``""`` when none).

    Requirements are parsed with :class:`packaging.requirements.Requirement` (PEP 508);
    one that applies only to an extra of the plugin is not a requirement of the plugin.

    :raises packaging.requirements.InvalidRequirement: a malformed requirement.
    """
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    for text in getattr(dist, "requires", None) or []:
        req = Requirement(text)
        if canonicalize_name(req.name) != "runcore":
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        return str(req.specifier)
    return ""


@cache.memoize_compatibility
def is_compatible(specifier: str, version: str) -> bool:
    """Whether ``version`` of runcore satisfies ``specifier`` (imports packaging lazily)."""
    if not specifier:
        return True
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(specifier).contains(version, prereleases=True)


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load(policy: Policy, entry_points: Optional[Iterable[Any]] = None) -> List[PluginInfo]:
    """Apply ``policy`` to the installed plugins and import the ones allowed."""
    from runcore import __version__

    records: List[PluginInfo] = []
    for ep in discover() if entry_points is None else entry_points:
        dist = _dist_of(ep)
        record = PluginInfo(
            id=ep.name,
            dist=getattr(dist, "name", None) if dist is not None else None,
            version=getattr(dist, "version", None) if dist is not None else None,
            entry_point=ep.value,
        )
        records.append(record)
        bad_requirement: Optional[Exception] = None
        try:
            record.requires_runcore = runcore_requirement(dist) if dist is not None else ""
        except Exception as exc:  # a malformed requirement is the plugin's fault
            bad_requirement = exc
        why = policy.decide(ep.name)
        if why:
            record.status, record.reason = DISABLED, why
            continue
        try:
            if bad_requirement is not None:
                raise bad_requirement
            compatible = is_compatible(record.requires_runcore, __version__)
        except Exception as exc:  # a malformed specifier is the plugin's fault
            record.status, record.reason = FAILED, f"bad runcore requirement: {one_line(exc)}"
            continue
        if not compatible:
            record.status = INCOMPATIBLE
            record.reason = f"needs runcore{record.requires_runcore}, this is runcore {__version__}"
            continue
        try:
            record.module = ep.load()
        except Exception as exc:
            record.status, record.reason = FAILED, f"import error: {one_line(exc)}"
            continue
        record.reason = policy.source_of(ep.name)
    return records
