"""The generated protobuf message modules, under short names (``client.pb.tasks``).

Importing this module loads protobuf but not grpc.
"""
from __future__ import annotations

from google.protobuf import any_pb2 as any  # noqa: A001  (shadowing the builtin is intended)
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

__all__ = [
    "any", "empty", "field_mask", "timestamp",
    "containers", "content", "diff", "events", "images", "introspection", "leases",
    "namespaces", "snapshots", "tasks", "version",
    "descriptor", "metrics", "mount", "platform", "task",
    "runc_legacy_options", "runc_options", "runtime_options",
]
