"""The public surface for plugins: everything a plugin may use from runcore.

Plugins, first-party or not, import from here and nowhere else in ``runcore``::

    from runcore.api import hookimpl, UsageError, warn

Names that need heavy modules (the containerd client, image resolution, mounting) are
loaded on first use, so importing this module costs no more than ``import runcore``.
The list of names is :data:`__all__`; the plugin guide documents each.
"""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any, Dict, Tuple

from runcore import __version__, hookimpl
from runcore.context import RunContext
from runcore.errors import (
    AlreadyExists,
    ContainerdError,
    ExitStatus,
    FailedPrecondition,
    ImageError,
    NotFound,
    PluginError,
    RuncoreError,
    SpecConflict,
    Unavailable,
    UsageError,
)
from runcore.record import ContainerRecord, SnapshotRequest, TaskInfo
from runcore.spec_editor import SpecEditor

if TYPE_CHECKING:  # pragma: no cover
    from runcore.gocompat import clean, errno_text, go_quote, path_error
    from runcore.oci import DeviceError, device_from_path, parse_id_mapping, parse_key_values

#: Lazily loaded names: public name -> (module, attribute in it; "" for the module).
_LAZY: Dict[str, Tuple[str, str]] = {
    # Go-compatible texts and parsers (error messages that match ctr's byte for byte).
    "go_quote": ("runcore.gocompat", "go_quote"),
    "errno_text": ("runcore.gocompat", "errno_text"),
    "path_error": ("runcore.gocompat", "path_error"),
    "clean": ("runcore.gocompat", "clean"),
    # Small composable OCI spec functions (use them through ``spec.apply``).
    "oci": ("runcore.oci", ""),
    "parse_key_values": ("runcore.oci", "parse_key_values"),
    "parse_id_mapping": ("runcore.oci", "parse_id_mapping"),
    "DeviceError": ("runcore.oci", "DeviceError"),
    "device_from_path": ("runcore.oci", "device_from_path"),
    # Images and snapshots (need the containerd client: imported on first use).
    "resolve_image": ("runcore.images", "resolve_image"),
    # Supplying images from elsewhere (registries): content, names, platforms, unpack.
    "ClientStore": ("runcore.images.store", "ClientStore"),
    "fetch_blob": ("runcore.containerd.content", "fetch_blob"),
    "inspect_image": ("runcore.images.unpack", "inspect_image"),
    "unpack_image": ("runcore.images.unpack", "unpack"),
    "image_platforms": ("runcore.images.manifests", "image_platforms"),
    "validate_media_type": ("runcore.images.manifests", "validate_media_type"),
    "mediatypes": ("runcore.images.mediatypes", ""),
    "platforms": ("runcore.images.platforms", ""),
    "normalize_docker_ref": ("runcore.images.reference", "normalize_docker_ref"),
    "human_bytes": ("runcore.images.progress", "human_bytes"),
    "rootfs_mount": ("runcore.rootfs_mount", ""),
    # Command-line access for plugin commands.
    "global_options": ("runcore.cli.common", "global_options"),
    "load_config": ("runcore.config", "load"),
}


def warn(message: str) -> None:
    """Print one warning line, ``runcore: warning: <message>``, on standard error."""
    sys.stderr.write(f"runcore: warning: {message}\n")
    sys.stderr.flush()


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'runcore.api' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = getattr(module, attribute) if attribute else module
    globals()[name] = value
    return value


__all__ = [
    "__version__",
    "hookimpl",
    "warn",
    # errors
    "RuncoreError",
    "UsageError",
    "PluginError",
    "SpecConflict",
    "ContainerdError",
    "NotFound",
    "AlreadyExists",
    "FailedPrecondition",
    "Unavailable",
    "ImageError",
    "ExitStatus",
    # what hooks receive
    "RunContext",
    "SpecEditor",
    "ContainerRecord",
    "SnapshotRequest",
    "TaskInfo",
    *sorted(_LAZY),
]
