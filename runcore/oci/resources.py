"""Resource options: CPU shares/CFS, memory limit, cgroups path, RDT class, block IO."""

from __future__ import annotations

from typing import Any, Dict, Optional

from runcore import gocompat as _go
from .errors import ValidationError
from .spec import cpu, linux, memory, resources

#: CFS period ctr uses with ``--cpus``.
CPUS_PERIOD = 100000
CPUS_CONFLICT_ERROR = "cpus and quota/period should be used separately"


def cpus_to_quota(cpus: float) -> int:
    """int64(cpus * 100000.0) with Go's truncation."""
    return _go.float_to_int64(cpus * 100000.0)


def with_cpu_cfs(spec: Dict[str, Any], quota: int, period: int) -> None:
    """Set cpu.quota and cpu.period (oci.WithCPUCFS)."""
    c = cpu(spec)
    c["quota"] = quota
    c["period"] = period


def with_cpu_shares(spec: Dict[str, Any], shares: int) -> None:
    """Set cpu.shares (oci.WithCPUShares)."""
    cpu(spec)["shares"] = shares


def check_cpu_flags(cpus: float = 0.0, quota: int = -1, period: int = 0) -> None:
    """Raise ctr's conflict error when ``--cpus`` is combined with ``--cpu-quota``/``--cpu-period``."""
    if (quota != -1 or period != 0) and cpus > 0.0:
        raise ValidationError(CPUS_CONFLICT_ERROR)


def apply_cpu_flags(
    spec: Dict[str, Any], cpus: float = 0.0, shares: int = 1024, quota: int = -1, period: int = 0
) -> None:
    """ctr's CPU flag handling in its order: --cpus, --cpu-shares (if > 0), then quota/period (§3.4).

    Validation (:func:`check_cpu_flags`) is done first, so nothing is changed on error;
    ctr reports this error before any spec option runs.
    """
    check_cpu_flags(cpus, quota, period)
    if cpus > 0.0:
        with_cpu_cfs(spec, cpus_to_quota(cpus), CPUS_PERIOD)
    if shares > 0:
        with_cpu_shares(spec, shares)
    if quota != -1 or period != 0:
        with_cpu_cfs(spec, quota, period)


def with_memory_limit(spec: Dict[str, Any], limit: int) -> None:
    """Set memory.limit = int64(limit) when the spec has a linux section (oci.WithMemoryLimit)."""
    if spec.get("linux") is not None:
        memory(spec)["limit"] = _go.to_int64(limit)


def with_cgroup(spec: Dict[str, Any], path: str) -> None:
    """Set linux.cgroupsPath ("" makes the key disappear from the JSON) (oci.WithCgroup)."""
    linux(spec)["cgroupsPath"] = path


def with_rdt(
    spec: Dict[str, Any], clos_id: str, l3_cache_schema: str = "", mem_bw_schema: str = ""
) -> None:
    """Replace linux.intelRdt (oci.WithRdt)."""
    rdt: Dict[str, Any] = {"closID": clos_id}
    if l3_cache_schema:
        rdt["l3CacheSchema"] = l3_cache_schema
    if mem_bw_schema:
        rdt["memBwSchema"] = mem_bw_schema
    linux(spec)["intelRdt"] = rdt


def with_block_io(spec: Dict[str, Any], block_io: Optional[Dict[str, Any]]) -> None:
    """Set linux.resources.blockIO to a LinuxBlockIO dict (oci.WithBlockIO)."""
    resources(spec)["blockIO"] = block_io
