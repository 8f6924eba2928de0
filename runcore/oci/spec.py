"""Accessors that create missing spec sections, like containerd's setProcess/setLinux/setResources."""

from __future__ import annotations

from typing import Any, Dict

Spec = Dict[str, Any]


def _section(parent: Dict[str, Any], key: str) -> Dict[str, Any]:
    """parent[key] as a dict, created (empty) when missing or None."""
    value = parent.get(key)
    if value is None:
        value = {}
        parent[key] = value
    return value


def process(spec: Spec) -> Dict[str, Any]:
    """spec['process'], created if unset (setProcess)."""
    return _section(spec, "process")


def user(spec: Spec) -> Dict[str, Any]:
    """spec['process']['user'] with uid/gid present (a Go value struct is never nil)."""
    u = _section(process(spec), "user")
    u.setdefault("uid", 0)
    u.setdefault("gid", 0)
    return u


def capabilities(spec: Spec) -> Dict[str, Any]:
    """spec['process']['capabilities'], created if unset (setCapabilities)."""
    return _section(process(spec), "capabilities")


def root(spec: Spec) -> Dict[str, Any]:
    """spec['root'], created if unset (setRoot)."""
    return _section(spec, "root")


def linux(spec: Spec) -> Dict[str, Any]:
    """spec['linux'], created if unset (setLinux)."""
    return _section(spec, "linux")


def resources(spec: Spec) -> Dict[str, Any]:
    """spec['linux']['resources'], created (with linux) if unset."""
    return _section(linux(spec), "resources")


def cpu(spec: Spec) -> Dict[str, Any]:
    """spec['linux']['resources']['cpu'], created if unset (setCPU)."""
    return _section(resources(spec), "cpu")


def memory(spec: Spec) -> Dict[str, Any]:
    """spec['linux']['resources']['memory'], created if unset."""
    return _section(resources(spec), "memory")
