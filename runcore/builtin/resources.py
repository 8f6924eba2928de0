"""Built-in plugin ``core.resources``: cgroup settings.

Flags: ``--cpus``, ``--cpu-shares``, ``--cpu-quota``, ``--cpu-period``,
``--memory-limit``, ``--cgroup``, ``--rdt-class``.
"""
from __future__ import annotations

from typing import Any

import click

from runcore import hookimpl
from runcore.errors import UsageError

PLUGIN = "core.resources"


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--cgroup", default=None,
                  help="Cgroup path (with systemd cgroups: slice:prefix:name).")
    registrar.add("--cpus", type=float, default=0.0, help="Set the CFS cpu quota.")
    registrar.add("--cpu-shares", type=int, default=1024, show_default=True,
                  help="Set the cpu shares.")
    registrar.add("--cpu-quota", type=int, default=-1, help="Limit CPU CFS quota.")
    registrar.add("--cpu-period", type=click.IntRange(min=0), default=0,
                  help="Limit CPU CFS period.")
    registrar.add("--memory-limit", type=click.IntRange(min=0), default=0,
                  help="Memory limit (in bytes) for the container.")
    registrar.add("--rdt-class", default="",
                  help="Name of the RDT class to associate the container with.")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    if ctx.opt("cpus", 0) > 0 and (ctx.opt("cpu_quota", -1) != -1 or ctx.opt("cpu_period", 0) != 0):
        raise UsageError("cpus and quota/period should be used separately")


@hookimpl
def runcore_spec_resources(spec: Any, ctx: Any) -> None:
    cpus = ctx.opt("cpus", 0.0)
    if cpus > 0:
        spec.set("linux.resources.cpu.quota", int(cpus * 100000))
        spec.set("linux.resources.cpu.period", 100000)
    shares = ctx.opt("cpu_shares", 0)
    if shares > 0:
        spec.set("linux.resources.cpu.shares", shares)
    quota, period = ctx.opt("cpu_quota", -1), ctx.opt("cpu_period", 0)
    if quota != -1 or period != 0:
        spec.set("linux.resources.cpu.quota", quota)
        spec.set("linux.resources.cpu.period", period)
    if ctx.is_set("cgroup"):
        value = ctx.options.get("cgroup") or ""
        if value:
            spec.set("linux.cgroupsPath", value)
        else:
            spec.remove("linux.cgroupsPath")
    if ctx.opt("memory_limit", 0):
        spec.set("linux.resources.memory.limit", ctx.opt("memory_limit"))
    if ctx.opt("rdt_class"):
        spec.set("linux.intelRdt.closID", ctx.opt("rdt_class"))
