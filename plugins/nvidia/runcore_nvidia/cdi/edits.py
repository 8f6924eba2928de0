"""Container edits of CDI devices: checking them and applying them to the spec.

Applying follows the reference library (``ContainerEdits.Apply``): environment entries
replace the same variable or are appended; device nodes (type/major/minor/mode read from
the host node when missing; owner defaulting to a non-root process user) replace a
device at the same path and add a cgroup rule with their permissions; network devices
are set by host interface; mounts replace a mount at the same destination (bind mounts
get ``idmap``/``ridmap`` when the spec has a user namespace) and all mounts are then
stably sorted by depth; hooks go to their named lists; RDT replaces ``linux.intelRdt``;
additional GIDs (0 ignored) are added once.

Beyond the reference library, two requested devices whose edits disagree (one device
path, mount destination, variable, network interface or RDT setting with different
values) are refused before anything is created.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

from runcore.api import DeviceError, device_from_path

from .registry import CDIError, Device
from .spec import Spec


def fill_device_node(node: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of a CDI device node with type, numbers and mode taken from the host node."""
    node = dict(node)
    minimal = node["type"] != "" and (node["major"] != 0 or node["type"] == "p")
    if node["hostPath"] == "":
        node["hostPath"] = node["path"]
    host = node["hostPath"]
    try:
        host_node = device_from_path(host)  # lstat: a symlink is not a device node
    except DeviceError as exc:
        if minimal:
            return node
        raise CDIError(f'failed to stat CDI host device "{host}": {exc}') from None
    host_type = host_node["type"]
    if node["fileMode"] is None:
        node["fileMode"] = host_node["fileMode"]
    if minimal:
        return node
    if node["type"] == "":
        node["type"] = host_type
    if node["type"] != host_type:
        raise CDIError(
            f'CDI device ("{node["path"]}", "{host}"), host type mismatch '
            f"({node['type']}, {host_type})"
        )
    if node["type"] == "p":
        return node
    if node["major"] == 0:
        node["major"], node["minor"] = host_node["major"], host_node["minor"]
    return node


@dataclass
class Prepared:
    """Edits ready to apply, with their origin (device name or spec file)."""

    origin: str
    edits: Dict[str, Any]


def prepare(edits: Dict[str, Any], origin: str) -> Prepared:
    edits = copy.deepcopy(edits)
    edits["deviceNodes"] = [fill_device_node(n) for n in edits["deviceNodes"] or ()]
    return Prepared(origin, edits)


@dataclass
class EditSet:
    """Everything already requested in this run, to find disagreements."""

    seen: Dict[Tuple[str, str], Tuple[Any, str]] = field(default_factory=dict)

    def _claim(self, what: str, key: str, value: Any, origin: str) -> None:
        previous = self.seen.get((what, key))
        if previous is None:
            self.seen[(what, key)] = (value, origin)
            return
        if previous[0] != value:
            raise CDIError(
                f'conflicting CDI edits: {what} "{key}" is set differently by '
                f"{previous[1]} and {origin}"
            )

    def add(self, prepared: Prepared) -> None:
        e, origin = prepared.edits, prepared.origin
        for env in e["env"] or ():
            key = env.split("=", 1)[0]
            self._claim("environment variable", key, env, origin)
        for node in e["deviceNodes"]:
            value = tuple(
                node.get(k)
                for k in (
                    "hostPath",
                    "type",
                    "major",
                    "minor",
                    "fileMode",
                    "permissions",
                    "uid",
                    "gid",
                )
            )
            self._claim("device node", node["path"], value, origin)
        for mount in e["mounts"] or ():
            value = (mount["hostPath"], tuple(mount["options"] or ()), mount["type"])
            self._claim("mount", mount["containerPath"], value, origin)
        for net in e["netDevices"] or ():
            self._claim("network device", net["hostInterfaceName"], net["name"], origin)
            self._claim(
                "container network interface", net["name"], net["hostInterfaceName"], origin
            )
        if e["intelRdt"] is not None:
            self._claim("RDT setting", "intelRdt", repr(sorted(e["intelRdt"].items())), origin)


def origin_of_device(dev: Device) -> str:
    return f"{dev.qualified} ({dev.spec.path})"


def origin_of_spec(spec: Spec) -> str:
    return f"the spec-wide edits of {spec.path}"


# ------------------------------------------------------------------ applying
def _depth(destination: str) -> int:
    return os.path.normpath(destination).count("/") if destination else 0


def _has_userns(spec: Any) -> bool:
    return any(ns.get("type") == "user" for ns in spec.get("linux.namespaces", []) or [])


def _idmap(mount: Dict[str, Any]) -> None:
    option = "idmap" if mount.get("type") == "bind" else ""
    for opt in mount.get("options") or []:
        if opt in ("idmap", "ridmap"):
            return
        if opt == "bind":
            option = "idmap"
        elif opt == "rbind":
            option = "ridmap"
    if option:
        mount["options"] = list(mount.get("options") or []) + [option]


def apply(spec: Any, prepared: Prepared) -> None:
    """Apply one set of container edits through the runcore spec editor ``spec``."""
    e = prepared.edits
    if e["env"]:
        env = spec.get("process.env", []) or []
        index = {item.split("=", 1)[0]: i for i, item in enumerate(env)}
        for value in e["env"]:
            key = value.split("=", 1)[0]
            if key in index:
                env[index[key]] = value
            else:
                env.append(value)
                index[key] = len(env) - 1
        spec.set("process.env", env, replace=True)  # CDI: an edit's env wins over the same key

    for node in e["deviceNodes"]:
        dev: Dict[str, Any] = {
            "path": node["path"],
            "type": node["type"],
            "major": node["major"],
            "minor": node["minor"],
        }
        if node["fileMode"] is not None:
            dev["fileMode"] = node["fileMode"]
        uid, gid = node["uid"], node["gid"]
        if uid is None and (spec.get("process.user.uid", 0) or 0) > 0:
            uid = spec.get("process.user.uid")
        if gid is None and (spec.get("process.user.gid", 0) or 0) > 0:
            gid = spec.get("process.user.gid")
        if uid is not None:
            dev["uid"] = uid
        if gid is not None:
            dev["gid"] = gid
        devices = spec.get("linux.devices", []) or []
        for i, existing in enumerate(devices):
            if existing.get("path") == dev["path"]:
                del devices[i]
                break
        devices.append(dev)
        spec.set("linux.devices", devices, replace=True)  # CDI: replaces a node of the same path
        if dev["type"] in ("b", "c"):
            access = {"": "rwm", "none": ""}.get(node["permissions"], node["permissions"])
            rule: Dict[str, Any] = {
                "allow": True,
                "type": dev["type"],
                "major": dev["major"],
                "minor": dev["minor"],
            }
            if access:
                rule["access"] = access
            spec.append("linux.resources.devices", rule)

    for net in e["netDevices"] or ():
        spec.set(
            ("linux", "netDevices", net["hostInterfaceName"]), {"name": net["name"]}, replace=True
        )

    if e["mounts"]:
        mounts = spec.get("mounts", []) or []
        userns = _has_userns(spec)
        for m in e["mounts"]:
            for i, existing in enumerate(mounts):
                if existing.get("destination") == m["containerPath"]:
                    del mounts[i]
                    break
            mount: Dict[str, Any] = {"destination": m["containerPath"]}
            if m["type"]:
                mount["type"] = m["type"]
            mount["source"] = m["hostPath"]
            if m["options"]:
                mount["options"] = list(m["options"])
            if userns:
                _idmap(mount)
            mounts.append(mount)
        mounts.sort(key=lambda item: _depth(item.get("destination", "")))  # stable
        spec.set("mounts", mounts, replace=True)  # CDI: replaces a mount at the same path

    for hook in e["hooks"] or ():
        oci: Dict[str, Any] = {"path": hook["path"]}
        if hook["args"]:
            oci["args"] = list(hook["args"])
        if hook["env"]:
            oci["env"] = list(hook["env"])
        if hook["timeout"] is not None:
            oci["timeout"] = hook["timeout"]
        spec.append(f"hooks.{hook['hookName']}", oci)

    rdt = e["intelRdt"]
    if rdt is not None:
        value: Dict[str, Any] = {}
        for src, dst in (
            ("closID", "closID"),
            ("l3CacheSchema", "l3CacheSchema"),
            ("memBwSchema", "memBwSchema"),
        ):
            if rdt[src]:
                value[dst] = rdt[src]
        if rdt["schemata"]:
            value["schemata"] = list(rdt["schemata"])
        if rdt["enableMonitoring"]:
            value["enableMonitoring"] = True
        spec.set("linux.intelRdt", value, replace=True)

    gids = [g for g in e["additionalGids"] or () if g != 0]
    if gids:
        current = spec.get("process.user.additionalGids", []) or []
        for gid in gids:
            if gid not in current:
                current.append(gid)
        spec.set("process.user.additionalGids", current)
