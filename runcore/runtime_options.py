"""Encoders for the runtime option messages stored in records and sent with tasks."""

from __future__ import annotations

from typing import Any

#: Type URL of the runc shim's task and runtime options.
RUNC_OPTIONS_URL = "containerd.runc.v1.Options"
#: Type URL ctr uses for task options of other runtimes (the legacy runc message).
LEGACY_OPTIONS_URL = "containerd.linux.runc.CreateOptions"


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


def legacy_create_options(**fields: Any) -> bytes:
    """Serialized ``containerd.linux.runc.CreateOptions`` (runtimes not named io.containerd.runc.*).

    Raises ``ValueError`` for a field the message does not have.
    """
    from runcore.containerd import pb

    message = pb.runc_legacy_options.CreateOptions(**{k: v for k, v in fields.items() if v})
    return message.SerializeToString(deterministic=True)
