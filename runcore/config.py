"""The administrator's configuration: curated plugin sets and option defaults.

Files, later ones overriding earlier ones key by key:

* ``/etc/runcore/config.toml`` (or the file named by ``RUNCORE_CONFIG``),
* ``/etc/runcore/config.d/*.toml`` (beside that file), in name order.

Format::

    [plugins]
    enable = ["seccomp"]            # load even if RUNCORE_PLUGINS is not set
    disable = ["nvidia"]            # never load
    required = ["seccomp>=0.1"]     # every command stops unless active and compatible

    [defaults]                      # option defaults, by option name
    seccomp = true
    snapshotter = "native"

    locked = ["seccomp"]            # the command line may not change these

``locked`` is read inside ``[defaults]`` (as above) or at the top of the file, before
any table. Nothing else is accepted: an unknown or misplaced key (``locked`` inside
``[plugins]``, a typo like ``disabel``) is an error naming the file, the line and the
key, because a security setting must never be ignored silently. ``[defaults]`` keys and
``locked`` names are checked against the options once the plugins are known
(:func:`check_options`).

Every decision remembers the file it came from, for ``runcore plugins --explain``.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple

from runcore.errors import PluginError, UsageError
from runcore.fingerprint import main_config_path

if TYPE_CHECKING:  # pragma: no cover
    from runcore.plugin.loader import Policy
    from runcore.plugin.manager import PluginRegistry


#: The keys a configuration file may hold, by table ("" = top level).
ALLOWED_KEYS: Dict[str, Tuple[str, ...]] = {
    "": ("plugins", "defaults", "locked"),
    "plugins": ("enable", "disable", "required"),
}


class ConfigError(UsageError):
    """A configuration file is unreadable, malformed, or holds an unknown key."""


@dataclass
class Config:
    """The merged configuration and where each value came from."""

    files: List[str] = field(default_factory=list)
    enable: Dict[str, str] = field(default_factory=dict)  # id -> file
    disable: Dict[str, str] = field(default_factory=dict)
    required: Dict[str, str] = field(default_factory=dict)  # requirement text -> file
    defaults: Dict[str, Any] = field(default_factory=dict)
    default_sources: Dict[str, str] = field(default_factory=dict)
    locked: Dict[str, str] = field(default_factory=dict)  # option name -> file
    #: option name -> "file:line" of its ``[defaults]`` key / of its ``locked`` entry
    default_lines: Dict[str, str] = field(default_factory=dict)
    locked_lines: Dict[str, str] = field(default_factory=dict)
    #: plugin id -> its own table (``[nri]``), merged over the files (later keys win)
    plugin_tables: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    #: plugin id -> "file:line" of its table, checked against the installed plugins
    plugin_table_lines: Dict[str, str] = field(default_factory=dict)

    def apply_to_policy(self, policy: "Policy") -> None:
        policy.enable_cfg.update(self.enable)
        policy.disable_cfg.update(self.disable)

    def check_required(self, plugins: "PluginRegistry") -> None:
        """Stop with one line when a required plugin is not usable, or a plugin's own
        table names no installed plugin (a typo must not silently drop a setting)."""
        from runcore.plugin import loader

        for plugin_id, where in self.plugin_table_lines.items():
            if plugins.info(plugin_id) is None:
                raise ConfigError(
                    f"{where}: unknown key {plugin_id!r} (a file holds [plugins], [defaults], "
                    "locked and tables of installed plugins)"
                )

        for text, source in self.required.items():
            name, spec = split_requirement(text, source)
            rec = plugins.info(name)
            if rec is None:
                raise PluginError(f"required plugin {name!r} (from {source}) is not installed")
            if rec.status not in (loader.ACTIVE, loader.BUILTIN):
                raise PluginError(
                    f"required plugin {name!r} (from {source}) is {rec.status}: {rec.reason}"
                )
            if spec and not loader.is_compatible(spec, rec.version or "0"):
                raise PluginError(
                    f"required plugin {name!r} (from {source}) must be {spec}, "
                    f"installed is {rec.version}"
                )


def split_requirement(text: str, source: str) -> "tuple[str, str]":
    """``(plugin id, specifier)`` of a PEP 508 requirement such as ``seccomp>=0.1``."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise UsageError(f"invalid configuration {source}: plugins.required: {exc}") from None
    return req.name, str(req.specifier)


def _read_toml(path: Path) -> Dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read configuration {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"invalid configuration {path}: {exc}") from None


def config_files(environ: Optional[Dict[str, str]] = None) -> List[Path]:
    """The configuration files that exist, in the order they apply."""
    env = os.environ if environ is None else environ
    main = Path(main_config_path(env))
    files: List[Path] = []
    if env.get("RUNCORE_CONFIG") and not main.exists():
        raise UsageError(f"RUNCORE_CONFIG names {main}, which does not exist")
    if main.exists():
        files.append(main)
    dropins = main.parent / "config.d"
    if dropins.is_dir():
        files.extend(sorted(p for p in dropins.glob("*.toml") if p.is_file()))
    return files


def _dotted_key(text: str) -> List[str]:
    """``a."b.c".d`` -> ``["a", "b.c", "d"]`` (TOML's bare and quoted key parts)."""
    return [
        m.group(1) or m.group(2) or m.group(3)
        for m in re.finditer(r'\s*(?:"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*(?:\.|$)', text)
    ]


def key_line(text: str, table: str, key: str) -> int:
    """The 1-based line where ``key`` of ``table`` ("" = top level) is defined in the TOML
    ``text``, or 0.

    tomllib reports no positions, so the text is scanned: each table header and each
    ``key = value`` line gives a full dotted path (``[plugins]`` + ``extra.x`` is
    ``plugins.extra.x``); the first whose path starts with ``table.key`` is the line.
    """
    target = [*_dotted_key(table), key] if table else [key]
    current: List[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[\[?(.+?)\]\]?\s*(?:#.*)?$", line)
        if header:
            current = _dotted_key(header.group(1))
            path = current
        else:
            assignment = re.match(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=""", line)
            if not assignment:
                continue
            path = current + _dotted_key(assignment.group(1))
        if path[: len(target)] == target:
            return number
    return 0


def _where(path: Path, text: str, table: str, key: str) -> str:
    line = key_line(text, table, key)
    return f"{path}:{line}" if line else str(path)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def load(environ: Optional[Dict[str, str]] = None) -> Config:
    """Read and merge every configuration file.

    :raises ConfigError: a file cannot be read or parsed, or holds a key that is
        unknown or misplaced (naming file, line and key).
    """
    cfg = Config()
    for path in config_files(environ):
        data = _read_toml(path)
        try:
            text = path.read_text(errors="replace")
        except OSError:  # pragma: no cover - it was just read
            text = ""
        source = str(path)
        cfg.files.append(source)
        for key in data:
            if key in ALLOWED_KEYS[""]:
                continue
            if isinstance(data[key], dict):  # a plugin's own table, e.g. [nri]
                cfg.plugin_tables.setdefault(key, {}).update(data[key])
                cfg.plugin_table_lines.setdefault(key, _where(path, text, "", key))
                continue
            raise ConfigError(
                f"{_where(path, text, '', key)}: unknown key {key!r} "
                "(a file holds [plugins], [defaults], locked and tables of "
                "installed plugins)"
            )
        plugins = data.get("plugins", {})
        if not isinstance(plugins, dict):
            raise ConfigError(f"{_where(path, text, '', 'plugins')}: [plugins] must be a table")
        for key in plugins:
            if key not in ALLOWED_KEYS["plugins"]:
                hint = (
                    " (locked belongs in [defaults])"
                    if key == "locked"
                    else " (expected enable, disable or required)"
                )
                raise ConfigError(
                    f"{_where(path, text, 'plugins', key)}: unknown key {key!r} in [plugins]{hint}"
                )
        for key in ("enable", "disable", "required"):
            if not _strings(plugins.get(key, [])):
                raise ConfigError(
                    f"{_where(path, text, 'plugins', key)}: plugins.{key} must be a list of strings"
                )
        for name in plugins.get("enable", []):
            cfg.enable[name] = source
            cfg.disable.pop(name, None)
        for name in plugins.get("disable", []):
            cfg.disable[name] = source
            cfg.enable.pop(name, None)
        for req in plugins.get("required", []):
            cfg.required[req] = source
        defaults = data.get("defaults", {})
        if not isinstance(defaults, dict):
            raise ConfigError(f"{_where(path, text, '', 'defaults')}: [defaults] must be a table")
        locks: List[Tuple[str, str]] = []  # (table, name)
        for key, value in defaults.items():
            if key == "locked":
                if not _strings(value):
                    raise ConfigError(
                        f"{_where(path, text, 'defaults', key)}: locked must be "
                        "a list of option names"
                    )
                locks.extend(("defaults", v) for v in value)
                continue
            name = key.replace("-", "_")
            cfg.defaults[name] = value
            cfg.default_sources[name] = source
            cfg.default_lines[name] = _where(path, text, "defaults", key)
        top_locked = data.get("locked", [])
        if not _strings(top_locked):
            raise ConfigError(
                f"{_where(path, text, '', 'locked')}: locked must be a list of option names"
            )
        locks.extend(("", v) for v in top_locked)
        for table, key in locks:
            name = key.replace("-", "_")
            cfg.locked[name] = source
            cfg.locked_lines[name] = _where(path, text, table, "locked")
    return cfg


def check_options(cfg: Config, known: Iterable[str], inactive: Dict[str, str]) -> List[str]:
    """Check ``[defaults]`` keys and ``locked`` names against the options.

    :param known: option names of the core and the active plugins.
    :param inactive: option name -> why its (installed) plugin is not active.
    :return: warnings for keys naming an inactive plugin's option (ignored).
    :raises ConfigError: a key or locked name that names no option at all.
    """
    known = set(known)
    warnings: List[str] = []
    for kind, names, where in (
        ("[defaults]", cfg.defaults, cfg.default_lines),
        ("locked", cfg.locked, cfg.locked_lines),
    ):
        for name in sorted(names):
            if name in known:
                continue
            flag = name.replace("_", "-")
            if name in inactive:
                warnings.append(
                    f"{where.get(name, '')}: {kind} {flag} is an option of "
                    f"{inactive[name]}; ignored"
                )
                continue
            raise ConfigError(
                f"{where.get(name, '')}: {kind} {flag} is not an option of "
                "runcore or of any installed plugin"
            )
    return warnings
