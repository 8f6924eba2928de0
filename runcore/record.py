"""Plain data handed to the record and task hooks; converted to protobuf by the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple


@dataclass
class SnapshotRequest:
    """How the container's snapshot will be prepared (``Snapshots/Prepare``).

    :ivar snapshotter: the snapshotter (``overlayfs``, ``native``, ...).
    :ivar key: the snapshot key; the container id for ``create``/``run``.
    :ivar parent: the committed parent snapshot, the image's chain id.
    :ivar labels: labels of the new snapshot.
    """

    snapshotter: str
    key: str
    parent: str
    labels: Dict[str, str] = field(default_factory=dict)


@dataclass
class ContainerRecord:
    """The fields of ``containers.v1.Container`` that a client sets.

    ``runtime_options`` and each extension are ``(type_url, value_bytes)`` pairs.

    :ivar id: the container id.
    :ivar labels: the container's labels (``--label``, image labels).
    :ivar image: the image name, ``""`` with ``--rootfs``.
    :ivar runtime_name: the runtime, ``io.containerd.runc.v2`` unless ``--runtime``.
    :ivar runtime_options: ``(type_url, bytes)`` of the runtime's options, or ``None``.
    :ivar snapshotter: the snapshotter of the container's snapshot.
    :ivar snapshot_key: the key of the container's snapshot.
    :ivar extensions: name -> ``(type_url, bytes)``; a plugin stores its own data here.
    :ivar sandbox: the sandbox id, ``""`` for none.
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
    """A task as the task hooks see it.

    :ivar container_id: the container id.
    :ivar pid: the task's init process (0 when unknown, e.g. after it is gone).
    :ivar exit_status: the exit status once the task exited, else ``None``.
    :ivar record: the stored ``containers.v1.Container`` message, when known
        (``runcore_task_deleted`` uses it to find a plugin's extension).
    :ivar exec_id: the exec process concerned (``runcore exec``); ``""`` for the task's
        init process.
    """

    container_id: str
    pid: int = 0
    exit_status: Optional[int] = None
    record: Optional[Any] = None  # the stored containers.v1.Container, when known
    exec_id: str = ""

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
