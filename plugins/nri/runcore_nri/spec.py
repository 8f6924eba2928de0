"""The OCI spec that NRI shows of a container, as a spec dict the spec phases can edit.

containerd 1.7.24 (NRI v0.6.1) sends, for a container being created, the parts of its
OCI spec that NRI can describe: process args and env, mounts, OCI hooks, annotations
(the spec's plus CRI's container annotations), Linux namespaces, devices, resources,
OOM score and cgroups path. Everything else (capabilities, seccomp, AppArmor, the
root filesystem, the user, ...) is not sent, so it is absent from the dict built here;
a plugin that sets such a field makes a change NRI cannot express, which
:mod:`runcore_nri.adjust` refuses.
"""

from __future__ import annotations

from typing import Any, Dict, List

#: NRI hook list field -> OCI spec hook list name.
HOOK_KINDS = (
    ("prestart", "prestart"),
    ("create_runtime", "createRuntime"),
    ("create_container", "createContainer"),
    ("start_container", "startContainer"),
    ("poststart", "poststart"),
    ("poststop", "poststop"),
)

#: NRI LinuxMemory field -> OCI name.
MEMORY_FIELDS = (
    ("limit", "limit"),
    ("reservation", "reservation"),
    ("swap", "swap"),
    ("kernel", "kernel"),
    ("kernel_tcp", "kernelTCP"),
    ("swappiness", "swappiness"),
    ("disable_oom_killer", "disableOOMKiller"),
    ("use_hierarchy", "useHierarchy"),
)
#: NRI LinuxCPU optional fields -> OCI name (cpus/mems are plain strings).
CPU_FIELDS = (
    ("shares", "shares"),
    ("quota", "quota"),
    ("period", "period"),
    ("realtime_runtime", "realtimeRuntime"),
    ("realtime_period", "realtimePeriod"),
)


def _hook(h: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"path": h.path}
    if h.args:
        out["args"] = list(h.args)
    if h.env:
        out["env"] = list(h.env)
    if h.HasField("timeout"):
        out["timeout"] = h.timeout.value
    return out


def _resources(res: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if res.HasField("memory"):
        memory = {
            oci: getattr(res.memory, f).value for f, oci in MEMORY_FIELDS if res.memory.HasField(f)
        }
        if memory:
            out["memory"] = memory
    if res.HasField("cpu"):
        cpu: Dict[str, Any] = {
            oci: getattr(res.cpu, f).value for f, oci in CPU_FIELDS if res.cpu.HasField(f)
        }
        if res.cpu.cpus:
            cpu["cpus"] = res.cpu.cpus
        if res.cpu.mems:
            cpu["mems"] = res.cpu.mems
        if cpu:
            out["cpu"] = cpu
    if res.hugepage_limits:
        out["hugepageLimits"] = [
            {"pageSize": h.page_size, "limit": h.limit} for h in res.hugepage_limits
        ]
    if res.unified:
        out["unified"] = dict(res.unified)
    rules: List[Dict[str, Any]] = []
    for d in res.devices:
        rule: Dict[str, Any] = {"allow": d.allow}
        if d.type:
            rule["type"] = d.type
        if d.HasField("major"):
            rule["major"] = d.major.value
        if d.HasField("minor"):
            rule["minor"] = d.minor.value
        if d.access:
            rule["access"] = d.access
        rules.append(rule)
    if rules:
        out["devices"] = rules
    return out


def _device(d: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"path": d.path, "type": d.type, "major": d.major, "minor": d.minor}
    if d.HasField("file_mode"):
        out["fileMode"] = d.file_mode.value
    if d.HasField("uid"):
        out["uid"] = d.uid.value
    if d.HasField("gid"):
        out["gid"] = d.gid.value
    return out


def spec_from_container(container: Any) -> Dict[str, Any]:
    """The spec dict of an NRI ``Container`` message (only what NRI describes)."""
    process: Dict[str, Any] = {"args": list(container.args), "env": list(container.env)}
    if container.rlimits:
        process["rlimits"] = [
            {"type": r.type, "hard": r.hard, "soft": r.soft} for r in container.rlimits
        ]
    spec: Dict[str, Any] = {
        "process": process,
        "mounts": [
            {
                "destination": m.destination,
                "type": m.type,
                "source": m.source,
                "options": list(m.options),
            }
            for m in container.mounts
        ],
        "annotations": dict(container.annotations),
    }
    hooks = {
        oci: [_hook(h) for h in getattr(container.hooks, field)]
        for field, oci in HOOK_KINDS
        if getattr(container.hooks, field)
    }
    if hooks:
        spec["hooks"] = hooks
    linux: Dict[str, Any] = {}
    if container.HasField("linux"):
        lx = container.linux
        linux["namespaces"] = [
            {"type": n.type, **({"path": n.path} if n.path else {})} for n in lx.namespaces
        ]
        linux["devices"] = [_device(d) for d in lx.devices]
        linux["resources"] = _resources(lx.resources) if lx.HasField("resources") else {}
        if lx.cgroups_path:
            linux["cgroupsPath"] = lx.cgroups_path
        if lx.HasField("oom_score_adj"):
            process["oomScoreAdj"] = lx.oom_score_adj.value
    else:
        linux = {"namespaces": [], "devices": [], "resources": {}}
    spec["linux"] = linux
    return spec
