"""The generated protobuf message modules, under short names (``client.pb.tasks``).

Each module is imported on first use (``pb.tasks`` imports only the Tasks service's
messages and what they depend on), so a command pays only for the services it calls.
Importing this module loads neither protobuf nor grpc.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from google.protobuf import any_pb2 as any  # noqa: A004 (shadowing the builtin is intended)
    from google.protobuf import empty_pb2 as empty
    from google.protobuf import field_mask_pb2 as field_mask
    from google.protobuf import timestamp_pb2 as timestamp

    from runcore._pb.containerd.linux.runc import runc_pb2 as runc_legacy_options
    from runcore._pb.containerd.runc.options import oci_pb2 as runc_options
    from runcore._pb.containerd.services.containers.v1 import containers_pb2 as containers
    from runcore._pb.containerd.services.content.v1 import content_pb2 as content
    from runcore._pb.containerd.services.diff.v1 import diff_pb2 as diff
    from runcore._pb.containerd.services.events.v1 import events_pb2 as events
    from runcore._pb.containerd.services.images.v1 import images_pb2 as images
    from runcore._pb.containerd.services.introspection.v1 import introspection_pb2 as introspection
    from runcore._pb.containerd.services.leases.v1 import leases_pb2 as leases
    from runcore._pb.containerd.services.namespaces.v1 import namespace_pb2 as namespaces
    from runcore._pb.containerd.services.snapshots.v1 import snapshots_pb2 as snapshots
    from runcore._pb.containerd.services.tasks.v1 import tasks_pb2 as tasks
    from runcore._pb.containerd.services.version.v1 import version_pb2 as version
    from runcore._pb.containerd.types import descriptor_pb2 as descriptor
    from runcore._pb.containerd.types import metrics_pb2 as metrics
    from runcore._pb.containerd.types import mount_pb2 as mount
    from runcore._pb.containerd.types import platform_pb2 as platform
    from runcore._pb.containerd.types.task import task_pb2 as task
    from runcore._pb.runtimeoptions.v1 import api_pb2 as runtime_options

#: short name -> module path
MODULES = {
    "any": "google.protobuf.any_pb2",
    "empty": "google.protobuf.empty_pb2",
    "field_mask": "google.protobuf.field_mask_pb2",
    "timestamp": "google.protobuf.timestamp_pb2",
    "containers": "runcore._pb.containerd.services.containers.v1.containers_pb2",
    "content": "runcore._pb.containerd.services.content.v1.content_pb2",
    "diff": "runcore._pb.containerd.services.diff.v1.diff_pb2",
    "events": "runcore._pb.containerd.services.events.v1.events_pb2",
    "images": "runcore._pb.containerd.services.images.v1.images_pb2",
    "introspection": "runcore._pb.containerd.services.introspection.v1.introspection_pb2",
    "leases": "runcore._pb.containerd.services.leases.v1.leases_pb2",
    "namespaces": "runcore._pb.containerd.services.namespaces.v1.namespace_pb2",
    "snapshots": "runcore._pb.containerd.services.snapshots.v1.snapshots_pb2",
    "tasks": "runcore._pb.containerd.services.tasks.v1.tasks_pb2",
    "version": "runcore._pb.containerd.services.version.v1.version_pb2",
    "descriptor": "runcore._pb.containerd.types.descriptor_pb2",
    "metrics": "runcore._pb.containerd.types.metrics_pb2",
    "mount": "runcore._pb.containerd.types.mount_pb2",
    "platform": "runcore._pb.containerd.types.platform_pb2",
    "task": "runcore._pb.containerd.types.task.task_pb2",
    "runc_legacy_options": "runcore._pb.containerd.linux.runc.runc_pb2",
    "runc_options": "runcore._pb.containerd.runc.options.oci_pb2",
    "runtime_options": "runcore._pb.runtimeoptions.v1.api_pb2",
}

__all__ = [
    "any",
    "empty",
    "field_mask",
    "timestamp",
    "containers",
    "content",
    "diff",
    "events",
    "images",
    "introspection",
    "leases",
    "namespaces",
    "snapshots",
    "tasks",
    "version",
    "descriptor",
    "metrics",
    "mount",
    "platform",
    "task",
    "runc_legacy_options",
    "runc_options",
    "runtime_options",
]


def __getattr__(name: str) -> ModuleType:
    """Import the message module ``name`` on first use and keep it as an attribute."""
    try:
        path = MODULES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(path)
    globals()[name] = module
    return module


def __dir__() -> list:
    return sorted(set(globals()) | set(MODULES))
