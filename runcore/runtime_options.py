"""Encoders for the runtime option messages stored in records and sent with tasks."""
from __future__ import annotations

from typing import Any

#: Type URL of ``containerd.runc.v1.Options`` (record runtime options, task options).
RUNC_OPTIONS_URL = "containerd.runc.v1.Options"


def runc_options(**fields: Any) -> bytes:
    """Serialized ``containerd.runc.v1.Options`` (empty bytes when every field is default)."""
    from runcore.containerd import pb

    message = pb.runc_options.Options(**{k: v for k, v in fields.items() if v})
    return message.SerializeToString(deterministic=True)


def runtime_options(**fields: Any) -> bytes:
    """Serialized ``runtimeoptions.v1.Options`` (``config_path``, ``config_body``)."""
    from runcore.containerd import pb

    message = pb.runtime_options.Options(**{k: v for k, v in fields.items() if v})
    return message.SerializeToString(deterministic=True)
