"""A network configuration list run against one container: ADD, DEL and CHECK.

* ``ADD`` runs the plugins in order; from 0.3.0 on each one after the first gets the
  previous plugin's result as ``prevResult``. The last result is cached.
* ``DEL`` runs them in reverse order; from 0.4.0 on each one gets the cached ``ADD``
  result as ``prevResult`` (when there is one). The list stops at the first error, as the
  specification requires; the cache entry goes only after a successful ``DEL``.
* ``CHECK`` (0.4.0 and later, unless the list says ``disableCheck``) runs them in order,
  each with the cached result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from runcore.api import RuncoreError

from runcore_cni import cache, config, version
from runcore_cni.invoke import PluginFailure, RuntimeConf, plugin_config, run_plugin

IFNAME = "eth0"


class CNIError(RuncoreError):
    """A network could not be set up, checked or removed (one line)."""


@dataclass
class Attachment:
    """One container attached (or to be attached) to one network."""

    network: config.NetworkList
    bin_dirs: List[str]
    rt: RuntimeConf
    cache_dir: str = field(default_factory=cache.cache_dir)

    @property
    def label(self) -> str:
        where = (
            f" ({self.network.path})"
            if self.network.path and not self.network.path.startswith("<")
            else ""
        )
        return f'cni network "{self.network.name}"{where}'

    def _executable(self, kind: str) -> str:
        try:
            return config.find_plugin(kind, self.bin_dirs)
        except config.ConfigError as exc:
            raise CNIError(f"{self.label}: {exc}") from None

    def cache_entry(self, result: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        return {
            "containerId": self.rt.container_id,
            "ifName": self.rt.ifname,
            "networkName": self.network.name,
            "netns": self.rt.netns,
            "confFile": self.network.path,
            "binDirs": list(self.bin_dirs),
            "networkConfig": self.network.to_json(),
            "result": result,
        }

    @property
    def cache_path(self) -> str:
        return cache.entry_path(
            self.cache_dir, self.network.name, self.rt.container_id, self.rt.ifname
        )

    # ------------------------------------------------------------------ commands

    def add(self) -> Dict[str, Any]:
        """ADD every plugin; cache and return the final result. Nothing is undone here."""
        net = self.network
        chaining = version.has_chaining(net.cni_version)
        result: Optional[Dict[str, Any]] = None
        for plugin in net.plugins:
            kind = plugin["type"]
            conf = plugin_config(plugin, net.name, net.cni_version, result if chaining else None)
            try:
                result = run_plugin(
                    self._executable(kind), kind, "ADD", self.rt, self.bin_dirs, conf
                )
            except PluginFailure as exc:
                raise CNIError(f"{self.label}: {exc}") from None
        try:
            cache.write(self.cache_dir, self.cache_entry(result))
        except OSError as exc:
            raise CNIError(
                f"{self.label}: cannot cache the result in {self.cache_dir}: {exc.strerror or exc}"
            ) from None
        return result or {}

    def delete(self, prev_result: Optional[Dict[str, Any]] = None) -> None:
        """DEL every plugin in reverse order; then forget the cached result."""
        net = self.network
        if not version.passes_prev_result_on_del(net.cni_version):
            prev_result = None
        for plugin in reversed(net.plugins):
            kind = plugin["type"]
            conf = plugin_config(plugin, net.name, net.cni_version, prev_result)
            try:
                run_plugin(self._executable(kind), kind, "DEL", self.rt, self.bin_dirs, conf)
            except PluginFailure as exc:
                raise CNIError(f"{self.label}: {exc}") from None
        cache.remove(self.cache_path)

    def check(self, prev_result: Dict[str, Any]) -> None:
        """CHECK every plugin with the cached result."""
        net = self.network
        if not version.has_check(net.cni_version):
            raise CNIError(
                f"{self.label}: cniVersion "
                f"{version.effective(net.cni_version)} has no CHECK (0.4.0 and later)"
            )
        if net.disable_check:
            raise CNIError(f"{self.label}: CHECK is disabled by the configuration (disableCheck)")
        for plugin in net.plugins:
            kind = plugin["type"]
            conf = plugin_config(plugin, net.name, net.cni_version, prev_result)
            try:
                run_plugin(self._executable(kind), kind, "CHECK", self.rt, self.bin_dirs, conf)
            except PluginFailure as exc:
                raise CNIError(f"{self.label}: {exc}") from None


def from_cache_entry(entry: Dict[str, Any], netns: str = "") -> Attachment:
    """The attachment a cache entry describes (``netns`` replaces the recorded one)."""
    network = config.NetworkList.from_json(
        entry.get("networkConfig"), entry.get("confFile") or "<cached>"
    )
    if entry.get("confFile"):
        network.path = entry["confFile"]
    bin_dirs = [d for d in entry.get("binDirs") or [] if isinstance(d, str)] or [
        config.DEFAULT_BIN_DIR
    ]
    rt = RuntimeConf(
        container_id=str(entry.get("containerId")),
        netns=netns,
        ifname=str(entry.get("ifName") or IFNAME),
    )
    return Attachment(network=network, bin_dirs=bin_dirs, rt=rt)
