"""Finding and reading the network configuration, as ``ctr run --cni`` does.

The default network is the first file, in lexical (byte) order of the full path, among
the files of the configuration directory ending in ``.conf``, ``.conflist`` or ``.json``.
A ``.conflist`` is a network configuration list; a ``.conf`` or ``.json`` file is one
plugin's configuration and is wrapped as a list of one (its ``name`` and ``cniVersion``
becoming the list's). Only that first file is read: a broken first file is an error, it
does not make runcore fall back to the next one (neither does ctr).

Plugins are looked up by ``type`` in the plugin directories, first match wins.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from runcore_cni import version

EXTENSIONS = (".conf", ".conflist", ".json")
DEFAULT_CONF_DIR = "/etc/cni/net.d"
DEFAULT_BIN_DIR = "/opt/cni/bin"
CONF_DIR_ENV = "RUNCORE_CNI_CONF_DIR"
BIN_DIR_ENV = "RUNCORE_CNI_BIN_DIR"

#: Network names and container ids: an alphanumeric, then alphanumerics, ``_ . -``.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class ConfigError(Exception):
    """The configuration directory or file cannot be used (one line)."""


@dataclass
class NetworkList:
    """One network: a configuration list, possibly wrapped from a single configuration."""

    name: str
    cni_version: str
    plugins: List[Dict[str, Any]]
    disable_check: bool = False
    path: str = ""
    raw: Dict[str, Any] = field(default_factory=dict)

    @property
    def types(self) -> List[str]:
        return [str(p["type"]) for p in self.plugins]

    def to_json(self) -> Dict[str, Any]:
        """The list as a JSON object (what is cached with a result)."""
        return self.raw

    @classmethod
    def from_json(cls, data: Any, path: str = "") -> "NetworkList":
        return _parse_list(data, path or "<cached>")


def conf_files(conf_dir: str) -> List[str]:
    """The candidate files of ``conf_dir``, sorted; ``[]`` when it does not exist."""
    try:
        entries = os.listdir(conf_dir)
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise ConfigError(f"CNI config directory {conf_dir} is not a directory") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read CNI config directory {conf_dir}: {exc.strerror or exc}"
        ) from None
    files = []
    for name in entries:
        path = os.path.join(conf_dir, name)
        if os.path.splitext(name)[1] in EXTENSIONS and not os.path.isdir(path):
            files.append(path)
    return sorted(files, key=os.fsencode)


def _load_json(path: str) -> Any:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read CNI config {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"CNI config {path}: invalid JSON: {exc}") from None


def _check_version(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"CNI config {path}: cniVersion must be a string")
    if not version.supported(value):
        raise ConfigError(
            f"CNI config {path}: cniVersion {value!r} is not supported "
            f"(runcore speaks {', '.join(version.SUPPORTED)})"
        )
    return value


def _check_name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"CNI config {path}: the network has no name")
    if not NAME_RE.match(value):
        raise ConfigError(
            f"CNI config {path}: invalid network name {value!r} (letters, "
            "digits, '_', '.', '-', starting with a letter or digit)"
        )
    return value


def _check_type(plugin: Any, path: str, index: int) -> None:
    where = f"CNI config {path}: plugin {index + 1}"
    if not isinstance(plugin, dict):
        raise ConfigError(f"{where} is not a JSON object")
    kind = plugin.get("type")
    if not isinstance(kind, str) or not kind:
        raise ConfigError(f"{where} has no type")
    if "/" in kind or kind in (".", ".."):
        raise ConfigError(f"{where}: invalid type {kind!r} (a plugin name, not a path)")


def _parse_bool(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"CNI config {path}: disableCheck must be true or false")


def _parse_list(data: Any, path: str) -> NetworkList:
    if not isinstance(data, dict):
        raise ConfigError(f"CNI config {path}: not a JSON object")
    name = _check_name(data.get("name"), path)
    cni_version = _check_version(data.get("cniVersion"), path)
    plugins = data.get("plugins")
    if plugins is None:
        raise ConfigError(f"CNI config {path}: no 'plugins' list")
    if not isinstance(plugins, list) or not plugins:
        raise ConfigError(f"CNI config {path}: 'plugins' must be a non-empty list")
    for index, plugin in enumerate(plugins):
        _check_type(plugin, path, index)
    disable_check = _parse_bool(data.get("disableCheck", False), path)
    return NetworkList(
        name=name,
        cni_version=cni_version,
        plugins=plugins,
        disable_check=disable_check,
        path=path,
        raw=data,
    )


def _wrap_single(data: Any, path: str) -> NetworkList:
    if not isinstance(data, dict):
        raise ConfigError(f"CNI config {path}: not a JSON object")
    if not data.get("type"):
        hint = " (a configuration list belongs in a .conflist file)" if "plugins" in data else ""
        raise ConfigError(f"CNI config {path}: network type not found{hint}")
    _check_type(data, path, 0)
    name = _check_name(data.get("name"), path)
    cni_version = _check_version(data.get("cniVersion"), path)
    raw: Dict[str, Any] = {"name": name}
    if cni_version:
        raw["cniVersion"] = cni_version
    raw["plugins"] = [data]
    return NetworkList(name=name, cni_version=cni_version, plugins=[data], path=path, raw=raw)


def load_file(path: str) -> NetworkList:
    """Read one configuration file (list or single plugin, by its extension)."""
    data = _load_json(path)
    if path.endswith(".conflist"):
        return _parse_list(data, path)
    return _wrap_single(data, path)


def load_default(conf_dir: str) -> NetworkList:
    """The default network of ``conf_dir`` (first file in lexical order)."""
    files = conf_files(conf_dir)
    if not files:
        raise ConfigError(f"no network config found in {conf_dir}: cni plugin not initialized")
    return load_file(files[0])


def split_dirs(text: str) -> List[str]:
    """``DIR[:DIR...]`` → directories, empty parts dropped."""
    return [part for part in (text or "").split(":") if part]


def find_plugin(kind: str, bin_dirs: Sequence[str]) -> str:
    """The executable for plugin ``kind``: the first regular file of that name."""
    for directory in bin_dirs:
        candidate = os.path.join(directory, kind)
        if os.path.isfile(candidate):
            if not os.access(candidate, os.X_OK):
                raise ConfigError(f"CNI plugin {candidate} is not executable")
            return candidate
    raise ConfigError(f'failed to find plugin "{kind}" in path [{" ".join(bin_dirs)}]')


def ipam_type(plugin: Dict[str, Any]) -> Optional[str]:
    """The IPAM plugin a plugin will delegate to (the ``ipam.type`` convention), if any."""
    ipam = plugin.get("ipam")
    if isinstance(ipam, dict):
        kind = ipam.get("type")
        if isinstance(kind, str) and kind and "/" not in kind:
            return kind
    return None


def check_plugins(network: NetworkList, bin_dirs: Sequence[str]) -> Dict[str, str]:
    """type → executable for every plugin of ``network`` and the IPAM plugins they name."""
    found: Dict[str, str] = {}
    for plugin in network.plugins:
        for kind in (plugin["type"], ipam_type(plugin)):
            if kind and kind not in found:
                found[kind] = find_plugin(kind, bin_dirs)
    return found
