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

    locked = ["seccomp"]            # (top level) the command line may not change these

Every decision remembers the file it came from, for ``runcore plugins --explain``.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from runcore.errors import PluginError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from runcore.plugin.loader import Policy
    from runcore.plugin.manager import PluginRegistry

DEFAULT_PATH = "/etc/runcore/config.toml"


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

    def apply_to_policy(self, policy: "Policy") -> None:
        policy.enable_cfg.update(self.enable)
        policy.disable_cfg.update(self.disable)

    def check_required(self, plugins: "PluginRegistry") -> None:
        """Stop with one line when a required plugin is not usable."""
        from runcore.plugin import loader

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
    main = Path(env.get("RUNCORE_CONFIG") or DEFAULT_PATH)
    files: List[Path] = []
    if env.get("RUNCORE_CONFIG") and not main.exists():
        raise UsageError(f"RUNCORE_CONFIG names {main}, which does not exist")
    if main.exists():
        files.append(main)
    dropins = main.parent / "config.d"
    if dropins.is_dir():
        files.extend(sorted(p for p in dropins.glob("*.toml") if p.is_file()))
    return files


def load(environ: Optional[Dict[str, str]] = None) -> Config:
    """Read and merge every configuration file."""
    cfg = Config()
    for path in config_files(environ):
        data = _read_toml(path)
        source = str(path)
        cfg.files.append(source)
        plugins = data.get("plugins", {})
        if not isinstance(plugins, dict):
            raise UsageError(f"invalid configuration {path}: [plugins] must be a table")
        for key in ("enable", "disable", "required"):
            value = plugins.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"invalid configuration {path}: plugins.{key} must be a list of strings")
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
            raise UsageError(f"invalid configuration {path}: [defaults] must be a table")
        for key, value in defaults.items():
            name = key.replace("-", "_")
            cfg.defaults[name] = value
            cfg.default_sources[name] = source
        locked = data.get("locked", [])
        if not isinstance(locked, list):
            raise UsageError(f"invalid configuration {path}: locked must be a list of option names")
        for key in locked:
            cfg.locked[str(key).replace("-", "_")] = source
    return cfg
