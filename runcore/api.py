"""The public surface for plugins: everything a plugin may use from runcore.

Plugins, first-party or not, import from here and nowhere else in ``runcore``::

    from runcore.api import hookimpl, UsageError, warn

Names that need heavy modules (the containerd client, image resolution, mounting) are
loaded on first use, so importing this module costs no more than ``import runcore``.
The list of names is :data:`__all__`; the plugin guide documents each.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Dict, Tuple

from runcore import __version__, hookimpl
from runcore.context import CommandContext, RunContext, Stash, StashKey
from runcore.errors import (
    AlreadyExists,
    ContainerdError,
    ExitStatus,
    FailedPrecondition,
    ImageError,
    NotFound,
    PluginError,
    PluginFailed,
    RuncoreError,
    SpecConflict,
    Unavailable,
    UsageError,
    warn,
)
from runcore.record import ContainerRecord, SnapshotRequest, TaskInfo
from runcore.spec_editor import SpecEditor

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

    from runcore.cli.common import global_options
    from runcore.cli.plugin_set import plugin_set
    from runcore.config import config_files
    from runcore.config import load as load_config
    from runcore.runner import edit_spec
    from runcore.gocompat import clean, errno_text, go_quote, path_error
    from runcore.containerd.content import fetch_blob
    from runcore.images import mediatypes, platforms, resolve_image
    from runcore.images.manifests import image_platforms, validate_media_type
    from runcore.images.progress import human_bytes
    from runcore.images.reference import normalize_docker_ref
    from runcore.images.store import ClientStore
    from runcore.images.unpack import inspect_image
    from runcore.images.unpack import unpack as unpack_image
    from runcore.images.platforms import Platform
    from runcore import gocompat
    from runcore.gocompat import GoNumError, parse_int, parse_uint
    from runcore.gocompat import json as gojson
    from runcore.oci.jsonutil import runtime_spec_schema
    from runcore.options_types import GoFloat, GoInt
    from runcore.oci import DeviceError, device_from_path, parse_id_mapping, parse_key_values
    from runcore.plugin.commands import CommandRegistrar
    from runcore.plugin.options import OptionRegistrar

    oci: ModuleType
    rootfs_mount: ModuleType

#: Lazily loaded names: public name -> (module, attribute in it; "" for the module).
_LAZY: Dict[str, Tuple[str, str]] = {
    # Go-compatible texts and parsers (error messages that match ctr's byte for byte).
    "go_quote": ("runcore.gocompat", "go_quote"),
    "errno_text": ("runcore.gocompat", "errno_text"),
    "path_error": ("runcore.gocompat", "path_error"),
    "clean": ("runcore.gocompat", "clean"),
    "gocompat": ("runcore.gocompat", ""),
    "gojson": ("runcore.gocompat.json", ""),
    "runtime_spec_schema": ("runcore.oci.jsonutil", "runtime_spec_schema"),
    "GoNumError": ("runcore.gocompat", "GoNumError"),
    "parse_int": ("runcore.gocompat", "parse_int"),
    "parse_uint": ("runcore.gocompat", "parse_uint"),
    # Option value types with their Go range (declare every integer option with GoInt).
    "GoInt": ("runcore.options_types", "GoInt"),
    "GoFloat": ("runcore.options_types", "GoFloat"),
    # Small composable OCI spec functions (use them through ``spec.apply``).
    "oci": ("runcore.oci", ""),
    "parse_key_values": ("runcore.oci", "parse_key_values"),
    "parse_id_mapping": ("runcore.oci", "parse_id_mapping"),
    "DeviceError": ("runcore.oci", "DeviceError"),
    "device_from_path": ("runcore.oci", "device_from_path"),
    # What the command-line hooks receive.
    "OptionRegistrar": ("runcore.plugin.options", "OptionRegistrar"),
    "CommandRegistrar": ("runcore.plugin.commands", "CommandRegistrar"),
    # Images and snapshots (need the containerd client: imported on first use).
    "Platform": ("runcore.images.platforms", "Platform"),
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
    # Running the plugin set over a spec made elsewhere (runcore-nri).
    "plugin_set": ("runcore.cli.plugin_set", "plugin_set"),
    "edit_spec": ("runcore.runner", "edit_spec"),
    "config_files": ("runcore.config", "config_files"),
}


def __getattr__(name: str) -> Any:
    """Load a name of :data:`_LAZY` on first use."""
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
    "PluginFailed",
    "SpecConflict",
    "ContainerdError",
    "NotFound",
    "AlreadyExists",
    "FailedPrecondition",
    "Unavailable",
    "ImageError",
    "ExitStatus",
    # what hooks receive
    "CommandContext",
    "RunContext",
    "Stash",
    "StashKey",
    "SpecEditor",
    "ContainerRecord",
    "SnapshotRequest",
    "TaskInfo",
    "OptionRegistrar",
    "CommandRegistrar",
    # loaded on first use (see _LAZY)
    "go_quote",
    "errno_text",
    "path_error",
    "clean",
    "oci",
    "parse_key_values",
    "parse_id_mapping",
    "DeviceError",
    "device_from_path",
    "Platform",
    "resolve_image",
    "rootfs_mount",
    "global_options",
    "load_config",
    "gocompat",
    "gojson",
    "runtime_spec_schema",
    "GoNumError",
    "parse_int",
    "parse_uint",
    "GoInt",
    "GoFloat",
    "plugin_set",
    "edit_spec",
    "config_files",
    "ClientStore",
    "fetch_blob",
    "inspect_image",
    "unpack_image",
    "image_platforms",
    "validate_media_type",
    "mediatypes",
    "platforms",
    "normalize_docker_ref",
    "human_bytes",
]
