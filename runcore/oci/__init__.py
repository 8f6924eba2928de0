"""Pure functions that build an OCI runtime spec the way containerd 1.7.24's ``ctr run`` does.

The spec is a plain dict with the JSON keys of the OCI runtime spec
(``ociVersion``, ``process``, ``root``, ``mounts``, ``linux`` …).

Conventions:

* ``with_*`` / ``apply_*`` / ``add_*`` / ``drop_*`` functions **mutate the spec
  passed in** and return None, like containerd's ``SpecOpts``; they create
  missing sections as containerd's setProcess/setLinux do.
* ``parse_*`` / ``check_*`` / ``validate_*`` functions are pure and return
  values or raise; they never touch a spec. ctr validates flags before any
  spec option runs, so callers should run them first.
* Host access happens only through explicit parameters (a
  :class:`RootFS`, a device path, a ``/proc/<pid>/status`` path …).
* Errors are :class:`~runcore.oci.errors.SpecError` subclasses whose message
  is ctr's text without the ``ctr: `` prefix.
* :func:`to_go_json` turns the dict into the exact bytes ctr stores.
"""

from __future__ import annotations

from .annotations import parse_annotations, parse_key_values, parse_labels, with_annotations
from .caps import (
    CAPABILITIES,
    add_caps,
    caps_from_bitmap,
    caps_from_proc_status,
    current_caps,
    drop_caps,
    validate_caps,
    with_capabilities,
)
from .defaults import (
    DEFAULT_CAPS,
    DEFAULT_UNIX_ENV,
    OCI_VERSION,
    default_mounts,
    default_unix_devices,
    default_unix_spec,
    with_default_unix_devices,
)
from .devices import (
    device_from_path,
    devices_for,
    host_devices,
    running_in_userns,
    with_devices,
    with_linux_devices,
)
from .env import parse_env_file, replace_or_append, with_env, with_env_file
from .errors import (
    DeviceError,
    EnvFileError,
    MountSpecError,
    NoGroupsFound,
    NoUsersFound,
    NotADeviceError,
    RootFSReadError,
    SpecError,
    UserLookupError,
    ValidationError,
)
from .image import apply_image_config, check_config_media_type
from .jsonutil import encode_struct, go_json_string, to_go_json
from .mounts import (
    host_hostname,
    parse_mount_flag,
    with_host_hosts_file,
    with_host_network,
    with_host_resolvconf,
    with_mount_flags,
    with_mounts,
)
from .namespaces import (
    parse_id_mapping,
    parse_with_ns,
    with_host_namespace,
    with_linux_namespace,
    with_ns,
    with_user_namespace,
)
from .privileged import with_all_devices_allowed, with_host_devices, with_privileged
from .process import (
    with_hostname,
    with_new_privileges,
    with_process_args,
    with_process_cwd,
    with_rootfs_path,
    with_rootfs_propagation,
    with_rootfs_readonly,
    with_tty,
)
from .resources import (
    apply_cpu_flags,
    check_cpu_flags,
    with_block_io,
    with_cgroup,
    with_cpu_cfs,
    with_cpu_shares,
    with_memory_limit,
    with_rdt,
)
from .rootfs import DirectoryRootFS, RootFS
from .user import (
    ensure_additional_gids,
    parse_group,
    parse_passwd,
    rootfs_for_path,
    user_needs_rootfs,
    with_additional_gids,
    with_user,
    with_user_id,
    with_username,
)

__all__ = [
    "CAPABILITIES",
    "DEFAULT_CAPS",
    "DEFAULT_UNIX_ENV",
    "DeviceError",
    "DirectoryRootFS",
    "EnvFileError",
    "MountSpecError",
    "NoGroupsFound",
    "NoUsersFound",
    "NotADeviceError",
    "OCI_VERSION",
    "RootFS",
    "RootFSReadError",
    "SpecError",
    "UserLookupError",
    "ValidationError",
    "add_caps",
    "apply_cpu_flags",
    "apply_image_config",
    "caps_from_bitmap",
    "caps_from_proc_status",
    "check_config_media_type",
    "check_cpu_flags",
    "current_caps",
    "default_mounts",
    "default_unix_devices",
    "default_unix_spec",
    "device_from_path",
    "devices_for",
    "drop_caps",
    "encode_struct",
    "ensure_additional_gids",
    "go_json_string",
    "host_devices",
    "host_hostname",
    "parse_annotations",
    "parse_env_file",
    "parse_group",
    "parse_id_mapping",
    "parse_key_values",
    "parse_labels",
    "parse_mount_flag",
    "parse_passwd",
    "parse_with_ns",
    "replace_or_append",
    "rootfs_for_path",
    "running_in_userns",
    "to_go_json",
    "user_needs_rootfs",
    "validate_caps",
    "with_additional_gids",
    "with_all_devices_allowed",
    "with_annotations",
    "with_block_io",
    "with_capabilities",
    "with_cgroup",
    "with_cpu_cfs",
    "with_cpu_shares",
    "with_default_unix_devices",
    "with_devices",
    "with_env",
    "with_env_file",
    "with_host_devices",
    "with_host_hosts_file",
    "with_host_namespace",
    "with_host_network",
    "with_host_resolvconf",
    "with_hostname",
    "with_linux_devices",
    "with_linux_namespace",
    "with_memory_limit",
    "with_mount_flags",
    "with_mounts",
    "with_new_privileges",
    "with_ns",
    "with_privileged",
    "with_process_args",
    "with_process_cwd",
    "with_rdt",
    "with_rootfs_path",
    "with_rootfs_propagation",
    "with_rootfs_readonly",
    "with_tty",
    "with_user",
    "with_user_id",
    "with_user_namespace",
    "with_username",
]
