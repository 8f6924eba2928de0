"""Plain data handed to the record and task hooks; converted to protobuf by the core."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple


@dataclass
class SnapshotRequest:
    """How the container's snapshot will be prepared (``Snapshots/Prepare``)."""

    snapshotter: str
    key: str
    parent: str
    labels: Dict[str, str] = field(default_factory=dict)


@dataclass
class ContainerRecord:
    """The fields of ``containers.v1.Container`` that a client sets.

    ``runtime_options`` and each extension are ``(type_url, value_bytes)`` pairs.
    """

    id: str
    labels: Dict[str, str] = field(default_factory=dict)
    image: str = ""
    runtime_name: str = "io.containerd.runc.v2"
    runtime_options: Optional[Tuple[str, bytes]] = None
    snapshotter: str = ""
    snapshot_key: str = ""
    extensions: Dict[str, Tuple[str, bytes]] = field(default_factory=dict)
    sandbox: str = ""


@dataclass
class TaskInfo:
    """A task as the task hooks see it."""

    container_id: str
    pid: int = 0
    exit_status: Optional[int] = None
    record: Optional[Any] = None  # the stored containers.v1.Container, when known
    exec_id: str = ""  # the exec process concerned ("" = the task's init process)

    def spec(self) -> Dict[str, Any]:
        """The OCI spec stored in :attr:`record` (``{}`` when absent or unreadable)."""
        value = getattr(getattr(self.record, "spec", None), "value", b"")
        if not value:
            return {}
        import json

        try:
            data = json.loads(value)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
