"""The difference between a container's spec before and after the plugins, as NRI
v0.6.1's ``ContainerAdjustment``; or the reason why it cannot be one.

What containerd 1.7.24 (NRI v0.6.1) can apply, and so what is expressed:

=====================================  ===============================================
spec change                            adjustment
=====================================  ===============================================
annotation added, changed, removed      ``annotations`` (``-key`` removes)
environment variable added or changed  ``env``
mount added or changed (by target)     ``mounts``
OCI hook appended (any of the six)     ``hooks``
device added or changed (by path)      ``linux.devices`` (the runtime adds the cgroup
                                       rule itself, access ``rw``/``rwm``)
memory limit                           ``linux.resources.memory.limit``
cpu shares/quota/period/realtime/      ``linux.resources.cpu``
cpus/mems
unified cgroup v2 entries              ``linux.resources.unified``
``linux.intelRdt.closID`` alone        ``linux.resources.rdt_class``
block I/O of a ``--blockio-class``     ``linux.resources.blockio_class`` (the class
                                       *name*: containerd must load the same class file)
``linux.cgroupsPath``                  ``linux.cgroups_path``
rlimit added or changed (by type)      ``rlimits``
=====================================  ===============================================

Everything else (removing variables, mounts, devices or hooks; args; capabilities;
seccomp; AppArmor; namespaces; OOM score; pids; hugepages, which containerd drops by
default; memory fields other than the limit, which v0.6.1 accepts but never applies;
device cgroup rules that are not those of an added device) cannot be expressed and is
reported as an :class:`Inexpressible` item naming the spec path and the plugins that
wrote it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from runcore_nri.spec import CPU_FIELDS, HOOK_KINDS

#: The text every refusal carries (documented in docs/kubernetes.md).
CANNOT = "cannot be expressed through NRI v0.6.1 (containerd 1.7)"


@dataclass
class Inexpressible:
    """One change NRI v0.6.1 cannot carry."""

    path: str
    what: str  # e.g. "set", "removed", "changed"
    owners: List[str] = field(default_factory=list)

    def change(self) -> str:
        who = ", ".join(repr(o) for o in self.owners) or "an unknown plugin"
        return f"plugin {who} {self.what} {self.path}"

    def describe(self) -> str:
        return f"{self.change()}, which {CANNOT}"


def refusal(items: Sequence[Inexpressible]) -> str:
    """One line for a refused container: the first change in full, then the others."""
    text = f"runcore: {items[0].describe()}"
    if len(items) > 1:
        text += "; also " + "; ".join(item.change() for item in items[1:])
    return text


@dataclass
class Adjustment:
    """The expressible part of the difference, in plain Python values."""

    annotations: Dict[str, str] = field(default_factory=dict)
    env: List[Tuple[str, str]] = field(default_factory=list)
    mounts: List[Dict[str, Any]] = field(default_factory=list)
    hooks: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)  # OCI kind -> hooks
    devices: List[Dict[str, Any]] = field(default_factory=list)
    memory_limit: Optional[int] = None
    cpu: Dict[str, Any] = field(default_factory=dict)  # OCI names
    unified: Dict[str, str] = field(default_factory=dict)
    rdt_class: Optional[str] = None
    blockio_class: Optional[str] = None
    cgroups_path: Optional[str] = None
    rlimits: List[Dict[str, Any]] = field(default_factory=list)
    #: Human-readable names of what changed, for the decision log.
    fields: List[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not self.fields


def key_path(*keys: str) -> str:
    """A spec path in the spec editor's notation (``[key]`` for keys with dots)."""
    return ".".join(k if "." not in k else f"[{k}]" for k in keys)


def _env_map(env: Iterable[str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for item in env:
        key, _, value = item.partition("=")
        out[key] = value
    return out


class _Differ:
    def __init__(
        self,
        old: Dict[str, Any],
        new: Dict[str, Any],
        owners_of: Callable[[str], List[str]],
        blockio_class: Optional[str],
    ) -> None:
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)
        self.owners_of = owners_of
        self.blockio_class = blockio_class
        self.adj = Adjustment()
        self.bad: List[Inexpressible] = []

    def refuse(self, path: str, what: str) -> None:
        self.bad.append(Inexpressible(path, what, self.owners_of(path)))

    @staticmethod
    def pop(spec: Dict[str, Any], *keys: str) -> Any:
        node: Any = spec
        for key in keys[:-1]:
            if not isinstance(node, dict) or not isinstance(node.get(key), dict):
                return None
            node = node[key]
        if not isinstance(node, dict):
            return None
        return node.pop(keys[-1], None)

    # ------------------------------------------------------------------ areas
    def annotations(self) -> None:
        old = self.pop(self.old, "annotations") or {}
        new = self.pop(self.new, "annotations") or {}
        for key, value in new.items():
            if old.get(key) != value:
                self.adj.annotations[key] = str(value)
                self.adj.fields.append(f"annotations[{key}]")
        for key in old:
            if key not in new:
                self.adj.annotations["-" + key] = ""
                self.adj.fields.append(f"annotations[-{key}]")

    def env(self) -> None:
        old = _env_map(self.pop(self.old, "process", "env") or [])
        new = _env_map(self.pop(self.new, "process", "env") or [])
        for key, value in new.items():
            if old.get(key) != value:
                self.adj.env.append((key, value))
                self.adj.fields.append(f"env[{key}]")
        for key in old:
            if key not in new:
                self.refuse("process.env", f"removed variable {key} from")

    def mounts(self) -> None:
        old = {m.get("destination"): m for m in self.pop(self.old, "mounts") or []}
        new = {m.get("destination"): m for m in self.pop(self.new, "mounts") or []}
        for dest, mount in new.items():
            if old.get(dest) != mount:
                self.adj.mounts.append(mount)
                self.adj.fields.append(f"mounts[{dest}]")
        for dest in old:
            if dest not in new:
                self.refuse("mounts", f"removed the mount on {dest} from")

    def hooks(self) -> None:
        old = self.pop(self.old, "hooks") or {}
        new = self.pop(self.new, "hooks") or {}
        for _field, kind in HOOK_KINDS:
            before, after = old.pop(kind, None) or [], new.pop(kind, None) or []
            if after[: len(before)] != before:
                self.refuse(key_path("hooks", kind), "changed or removed existing hooks in")
                continue
            if len(after) > len(before):
                self.adj.hooks[kind] = after[len(before) :]
                self.adj.fields.append(f"hooks.{kind}+{len(after) - len(before)}")
        for kind in set(old) | set(new):
            if old.get(kind) != new.get(kind):
                self.refuse(key_path("hooks", kind), "set")

    def devices(self) -> List[Tuple[str, int, int]]:
        old = {d.get("path"): d for d in self.pop(self.old, "linux", "devices") or []}
        new = {d.get("path"): d for d in self.pop(self.new, "linux", "devices") or []}
        added = []
        for path, dev in new.items():
            if old.get(path) != dev:
                self.adj.devices.append(dev)
                self.adj.fields.append(f"devices[{path}]")
                added.append((dev.get("type", ""), dev.get("major"), dev.get("minor")))
        for path in old:
            if path not in new:
                self.refuse("linux.devices", f"removed device {path} from")
        return added

    def device_rules(self, added: List[Tuple[str, int, int]]) -> None:
        before = self.pop(self.old, "linux", "resources", "devices") or []
        after = self.pop(self.new, "linux", "resources", "devices") or []
        if after[: len(before)] != before:
            self.refuse("linux.resources.devices", "changed existing device cgroup rules in")
            return
        for rule in after[len(before) :]:
            covered = (
                rule.get("allow")
                and (rule.get("type"), rule.get("major"), rule.get("minor")) in added
            )
            if not covered:
                self.refuse("linux.resources.devices", "added a device cgroup rule to")
                return

    def resources(self) -> None:
        old_res = (self.old.get("linux") or {}).get("resources") or {}
        new_res = (self.new.get("linux") or {}).get("resources") or {}
        old_mem, new_mem = old_res.get("memory") or {}, new_res.get("memory") or {}
        if new_mem.get("limit") != old_mem.get("limit"):
            if "limit" in new_mem and new_mem["limit"]:
                self.adj.memory_limit = int(new_mem["limit"])
                self.adj.fields.append("memory.limit")
            else:
                self.refuse("linux.resources.memory.limit", "removed")
        old_mem.pop("limit", None)
        new_mem.pop("limit", None)
        old_cpu, new_cpu = old_res.get("cpu") or {}, new_res.get("cpu") or {}
        for name in [oci for _f, oci in CPU_FIELDS] + ["cpus", "mems"]:
            if new_cpu.get(name) != old_cpu.get(name):
                if name in new_cpu:
                    self.adj.cpu[name] = new_cpu[name]
                    self.adj.fields.append(f"cpu.{name}")
                else:
                    self.refuse(key_path("linux", "resources", "cpu", name), "removed")
            old_cpu.pop(name, None)
            new_cpu.pop(name, None)
        old_uni, new_uni = old_res.pop("unified", None) or {}, new_res.pop("unified", None) or {}
        for key, value in new_uni.items():
            if old_uni.get(key) != value:
                self.adj.unified[key] = str(value)
                self.adj.fields.append(f"unified[{key}]")
        for key in old_uni:
            if key not in new_uni:
                self.refuse(key_path("linux", "resources", "unified", key), "removed")
        old_bio, new_bio = old_res.pop("blockIO", None), new_res.pop("blockIO", None)
        if old_bio != new_bio:
            if self.blockio_class and new_bio is not None:
                self.adj.blockio_class = self.blockio_class
                self.adj.fields.append("blockio_class")
            else:
                self.refuse("linux.resources.blockIO", "set")
        for key in ("memory", "cpu"):  # emptied by the above on both sides: nothing left
            if not old_res.get(key) and not new_res.get(key):
                old_res.pop(key, None)
                new_res.pop(key, None)
            else:
                old_res.setdefault(key, {})
                new_res.setdefault(key, {})

    def linux_misc(self) -> None:
        old_cg = self.pop(self.old, "linux", "cgroupsPath")
        new_cg = self.pop(self.new, "linux", "cgroupsPath")
        if old_cg != new_cg:
            if new_cg:
                self.adj.cgroups_path = new_cg
                self.adj.fields.append("cgroups_path")
            else:
                self.refuse("linux.cgroupsPath", "cleared")
        old_rdt = self.pop(self.old, "linux", "intelRdt")
        new_rdt = self.pop(self.new, "linux", "intelRdt")
        if old_rdt != new_rdt:
            if isinstance(new_rdt, dict) and set(new_rdt) == {"closID"}:
                self.adj.rdt_class = new_rdt["closID"]
                self.adj.fields.append("rdt_class")
            else:
                self.refuse("linux.intelRdt", "set")

    def rlimits(self) -> None:
        old = {r.get("type"): r for r in self.pop(self.old, "process", "rlimits") or []}
        new = {r.get("type"): r for r in self.pop(self.new, "process", "rlimits") or []}
        for kind, rlimit in new.items():
            if old.get(kind) != rlimit:
                self.adj.rlimits.append(rlimit)
                self.adj.fields.append(f"rlimits[{kind}]")
        for kind in old:
            if kind not in new:
                self.refuse("process.rlimits", f"removed {kind} from")

    def rest(self, keys: Tuple[str, ...], old: Any, new: Any) -> None:
        """Whatever differs in what is left is a change NRI cannot carry."""
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                if key not in new:
                    self.refuse(key_path(*keys, key), "removed")
                elif key not in old:
                    self.refuse(key_path(*keys, key), "set")
                else:
                    self.rest((*keys, key), old[key], new[key])
        elif old != new or type(old) is not type(new):
            self.refuse(key_path(*keys), "changed")

    def run(self) -> None:
        self.annotations()
        self.env()
        self.mounts()
        self.hooks()
        self.device_rules(self.devices())
        self.resources()
        self.linux_misc()
        self.rlimits()
        self.rest((), self.old, self.new)


@dataclass
class Diff:
    """The result of :func:`diff`."""

    adjustment: Adjustment
    refused: List[Inexpressible]
    dropped: List[Inexpressible]


def diff(
    old: Dict[str, Any],
    new: Dict[str, Any],
    owners_of: Callable[[str], List[str]],
    best_effort: Sequence[str] = (),
    blockio_class: Optional[str] = None,
) -> Diff:
    """Split ``new`` - ``old`` into an :class:`Adjustment` and what cannot be expressed.

    :param owners_of: the plugins that wrote a spec path (from the spec editor).
    :param best_effort: plugin ids whose inexpressible changes are dropped instead of
        refused; a change counts as dropped only when every plugin that wrote it is one.
    :param blockio_class: the ``--blockio-class`` in effect, passed as NRI's class name
        when the block I/O settings changed.
    """
    differ = _Differ(old, new, owners_of, blockio_class)
    differ.run()
    lenient: Set[str] = set(best_effort)
    refused, dropped = [], []
    for item in differ.bad:
        if item.owners and all(owner in lenient for owner in item.owners):
            dropped.append(item)
        else:
            refused.append(item)
    return Diff(differ.adj, refused, dropped)


def owners_from_changes(changes: Iterable[Any]) -> Callable[[str], List[str]]:
    """``owners_of(path)`` over a spec editor's recorded changes.

    A change counts for ``path`` when it wrote ``path``, something under it, or an
    object containing it. The ``default`` owner (values present before the plugins)
    is left out.
    """
    recorded = [(c.path, c.owner) for c in changes]

    def owners_of(path: str) -> List[str]:
        out: List[str] = []
        for written, owner in recorded:
            if owner == "default" or owner in out:
                continue
            if written == path or written.startswith(path + ".") or path.startswith(written + "."):
                out.append(owner)
        return out

    return owners_of


def to_message(adj: Adjustment, api: Any) -> Any:
    """The ``ContainerAdjustment`` message (``api`` = the generated NRI module)."""
    msg = api.ContainerAdjustment()
    for key, value in adj.annotations.items():
        msg.annotations[key] = value
    for key, value in adj.env:
        msg.env.add(key=key, value=value)
    for m in adj.mounts:
        msg.mounts.add(
            destination=m.get("destination", ""),
            type=m.get("type", ""),
            source=m.get("source", ""),
            options=list(m.get("options") or []),
        )
    for field_name, kind in HOOK_KINDS:
        for h in adj.hooks.get(kind, []):
            hook = getattr(msg.hooks, field_name).add(
                path=h.get("path", ""), args=list(h.get("args") or []), env=list(h.get("env") or [])
            )
            if h.get("timeout") is not None:
                hook.timeout.value = int(h["timeout"])
    for d in adj.devices:
        dev = msg.linux.devices.add(
            path=d.get("path", ""),
            type=d.get("type", ""),
            major=int(d.get("major") or 0),
            minor=int(d.get("minor") or 0),
        )
        if d.get("fileMode") is not None:
            dev.file_mode.value = int(d["fileMode"])
        if d.get("uid") is not None:
            dev.uid.value = int(d["uid"])
        if d.get("gid") is not None:
            dev.gid.value = int(d["gid"])
    res = msg.linux.resources
    if adj.memory_limit is not None:
        res.memory.limit.value = adj.memory_limit
    names = dict((oci, f) for f, oci in CPU_FIELDS)
    for name, value in adj.cpu.items():
        if name in ("cpus", "mems"):
            setattr(res.cpu, name, str(value))
        else:
            getattr(res.cpu, names[name]).value = int(value)
    for key, value in adj.unified.items():
        res.unified[key] = value
    if adj.rdt_class is not None:
        res.rdt_class.value = adj.rdt_class
    if adj.blockio_class is not None:
        res.blockio_class.value = adj.blockio_class
    if adj.cgroups_path is not None:
        msg.linux.cgroups_path = adj.cgroups_path
    for r in adj.rlimits:
        msg.rlimits.add(
            type=r.get("type", ""), hard=int(r.get("hard") or 0), soft=int(r.get("soft") or 0)
        )
    return msg
