"""The ``Tasks/Create.options`` message: which runtime gets which options type (as ctr)."""

from __future__ import annotations

from typing import Any, Dict

from runcore.errors import UsageError
from runcore.runtime_options import (
    LEGACY_OPTIONS_URL,
    RUNC_OPTIONS_URL,
    legacy_create_options,
    runc_options,
)


def is_runc_runtime(name: str) -> bool:
    """Whether ``name`` gets ``containerd.runc.v1.Options`` task options (as ctr decides)."""
    parts = name.split(".")
    return len(parts) >= 3 and parts[:3] == ["io", "containerd", "runc"]


def task_options_any(client: Any, runtime_name: str, options: Dict[str, Any]) -> Any:
    """The ``Tasks/Create.options`` Any for ``options`` (a fresh message, as ctr)."""
    if is_runc_runtime(runtime_name):
        try:
            value = runc_options(**options)
        except ValueError as exc:  # unknown field name
            raise UsageError(f"invalid task option: {exc}") from None
        return client.pb.any.Any(type_url=RUNC_OPTIONS_URL, value=value)
    try:
        value = legacy_create_options(**options)
    except ValueError:
        unknown = sorted(set(options) - legacy_option_names())
        raise UsageError(
            f"task option {unknown[0] if unknown else options!r} is not supported "
            f"by runtime options {LEGACY_OPTIONS_URL}"
        ) from None
    return client.pb.any.Any(type_url=LEGACY_OPTIONS_URL, value=value)


def legacy_option_names() -> set:
    """Field names of ``containerd.linux.runc.CreateOptions``."""
    from runcore.containerd import pb

    return {f.name for f in pb.runc_legacy_options.CreateOptions.DESCRIPTOR.fields}


__all__ = ["is_runc_runtime", "legacy_option_names", "task_options_any"]
