"""The containerd client: connection, wrapped services and small helpers.

``grpc`` and the generated modules are imported by this module only, so that
``import runcore.containerd`` stays cheap.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import time
from datetime import timedelta
from types import ModuleType
from typing import Any, Callable, Iterator, Optional

import grpc

from runcore import errors
from runcore.containerd import content as _content
from runcore.containerd import leases as _leases
from runcore.containerd import pb as _pb
from runcore.containerd._rpc import DEFAULT_CALL_TIMEOUT, CallContext, Service

#: Snapshotter used when neither a flag nor the namespace label names one.
DEFAULT_SNAPSHOTTER = "overlayfs"
#: Namespace label naming the namespace's default snapshotter.
SNAPSHOTTER_LABEL = "containerd.io/defaults/snapshotter"
#: containerd's own gRPC message size limits (16 MiB each way).
MAX_MESSAGE = 16 << 20

_START_HINT = "(is containerd running? start it with 'containerd' or 'systemctl start containerd')"

# attribute name -> (message module in runcore.containerd.pb, service name). A service's
# messages are imported, and its methods bound, when a command first uses it.
_SERVICES = {
    "containers": ("containers", "Containers"),
    "content": ("content", "Content"),
    "diff": ("diff", "Diff"),
    "events": ("events", "Events"),
    "images": ("images", "Images"),
    "introspection": ("introspection", "Introspection"),
    "leases": ("leases", "Leases"),
    "namespaces": ("namespaces", "Namespaces"),
    "snapshots": ("snapshots", "Snapshots"),
    "tasks": ("tasks", "Tasks"),
    "version": ("version", "Version"),
}


def socket_path(address: str) -> str:
    """The filesystem path of ``address`` (``unix://`` prefix optional)."""
    if address.startswith("unix://"):
        return address[len("unix://") :]
    if address.startswith("unix:"):
        return address[len("unix:") :]
    return address


def _probe(path: str) -> Optional[str]:
    """Why a unix socket at ``path`` cannot be reached, or None when it can."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such socket"
    except PermissionError:
        return "permission denied"
    except OSError as err:
        return err.strerror or str(err)
    if not stat.S_ISSOCK(st.st_mode):
        return "not a socket"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(2.0)
        sock.connect(path)
    except OSError as err:
        if err.errno == errno.ECONNREFUSED:
            return "connection refused"
        if err.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        return err.strerror or str(err)
    finally:
        sock.close()
    return None


def _unavailable(path: str, why: str) -> errors.Unavailable:
    # "is containerd running?" only where that is the likely cause (not for EACCES)
    hint = (
        f" {_START_HINT}"
        if why in ("no such socket", "connection refused") or why.startswith("no answer")
        else ""
    )
    return errors.Unavailable(f"cannot connect to containerd at {path}: {why}{hint}")


class Client:
    """A connection to containerd for one namespace.

    Service attributes (``containers``, ``tasks``, ``images``, ``content``,
    ``snapshots``, ``diff``, ``leases``, ``namespaces``, ``introspection``,
    ``version``, ``events``) are wrapped stubs: ``client.images.Get(name=ref)``.
    ``client.pb`` gives the generated message modules (``client.pb.tasks.WaitRequest``).
    """

    pb: ModuleType = _pb
    #: Seconds a command waits for containerd to come back after a restart (None: the
    #: default of :mod:`runcore.task.reconnect`).
    reconnect_window: Optional[float] = None

    containers: Service
    content: Service
    diff: Service
    events: Service
    images: Service
    introspection: Service
    leases: Service
    namespaces: Service
    snapshots: Service
    tasks: Service
    version: Service

    def __init__(
        self,
        channel: "grpc.Channel",
        namespace: str,
        *,
        address: str = "",
        deadline: Optional[float] = None,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
    ) -> None:
        self.address = address
        self.namespace = namespace
        self._channel = channel
        self._ctx = CallContext(namespace, deadline=deadline, call_timeout=call_timeout)

    def __getattr__(self, name: str) -> Service:
        """Bind the service ``name`` on first use (only its messages are imported)."""
        try:
            module, service_name = _SERVICES[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            ) from None
        messages = getattr(_pb, module)
        service = Service(
            self._ctx, self.__dict__["_channel"], messages.DESCRIPTOR.services_by_name[service_name]
        )
        setattr(self, name, service)
        return service

    @classmethod
    def connect(
        cls,
        address: str,
        namespace: str,
        timeout: Optional[float] = None,
        connect_timeout: float = 10.0,
    ) -> "Client":
        """Dial containerd's unix socket and wait until the connection is up.

        ``timeout`` bounds every call made through the client (the command's
        overall ``--timeout``); ``connect_timeout`` bounds only the dial.
        Raises :class:`runcore.errors.Unavailable` with one line naming the address.
        """
        start = time.monotonic()
        path = socket_path(address)
        why = _probe(path)
        if why:
            raise _unavailable(path, why)
        channel = grpc.insecure_channel(
            "unix:" + os.path.abspath(path),
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.max_send_message_length", MAX_MESSAGE),
                # The authority is meaningless on a unix socket; keep it fixed.
                ("grpc.default_authority", "localhost"),
                # After a containerd restart, reconnect within a second (gRPC's default
                # backoff grows to two minutes); task commands retry meanwhile.
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.min_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 1000),
            ],
        )
        try:
            grpc.channel_ready_future(channel).result(timeout=connect_timeout)
        except grpc.FutureTimeoutError:
            channel.close()
            raise _unavailable(path, f"no answer within {connect_timeout:g}s") from None
        deadline = start + timeout if timeout else None
        return cls(channel, namespace, address=path, deadline=deadline)

    def close(self) -> None:
        """Close the channel (left to the kernel in the CLI process: see
        :data:`runcore.containerd.close_channels`)."""
        import runcore.containerd

        if runcore.containerd.close_channels:
            self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextlib.contextmanager
    def without_deadline(self) -> Iterator[None]:
        """Calls inside the block ignore the command's overall ``--timeout`` (cleanup after
        the deadline passed must still run); per-call deadlines still apply."""
        saved, self._ctx.deadline = self._ctx.deadline, None
        try:
            yield
        finally:
            self._ctx.deadline = saved

    # -- leases ---------------------------------------------------------------

    @property
    def current_lease(self) -> Optional[str]:
        """The id of the lease calls carry right now, if any."""
        return self._ctx.lease.get()

    @contextlib.contextmanager
    def holding_lease(self, lease_id: str) -> Iterator[None]:
        """Send ``lease_id`` (created and deleted by the caller) with every call inside
        the block; :meth:`lease` inside it reuses it."""
        token = self._ctx.lease.set(lease_id)
        try:
            yield
        finally:
            self._ctx.lease.reset(token)

    @contextlib.contextmanager
    def lease(
        self,
        expire: Optional[timedelta] = timedelta(hours=24),
        labels: Optional[dict[str, str]] = None,
    ) -> Iterator[str]:
        """Create a lease, send it with every call inside the block, delete it after.

        Nested use reuses the outer lease (as containerd's ``WithLease`` does).
        The lease is deleted also when the block raises.
        """
        current = self._ctx.lease.get()
        if current:
            yield current
            return
        lease_id = _leases.new_lease_id()
        all_labels = {**_leases.expire_labels(expire), **(labels or {})}
        self.leases.Create(id=lease_id, labels=all_labels)
        token = self._ctx.lease.set(lease_id)
        failed = True
        try:
            yield lease_id
            failed = False
        finally:
            self._ctx.lease.reset(token)
            try:
                self.leases.Delete(id=lease_id)
            except errors.ContainerdError:
                if not failed:
                    raise

    # -- content --------------------------------------------------------------

    def read_blob(self, digest: str) -> bytes:
        """The bytes of the blob ``digest`` (NotFound when it is absent)."""
        return _content.read_blob(self, digest)

    def write_blob(
        self,
        ref: str,
        data: "_content.BlobSource",
        expected_digest: Optional[str] = None,
        size: Optional[int] = None,
        labels: Optional[dict[str, str]] = None,
        progress: Any = None,
    ) -> str:
        """Write a blob through Content/Write, digest-verified; returns its digest."""
        return _content.write_blob(self, ref, data, expected_digest, size, labels, progress)

    # -- namespace defaults ---------------------------------------------------

    def namespace_labels(self) -> dict[str, str]:
        """Labels of this client's namespace ({} when it does not exist yet)."""
        try:
            resp = self.namespaces.Get(name=self.namespace)
        except errors.NotFound:
            return {}
        return dict(resp.namespace.labels)

    def default_snapshotter(self) -> str:
        """The namespace's ``containerd.io/defaults/snapshotter`` label, else ``overlayfs``."""
        return self.namespace_labels().get(SNAPSHOTTER_LABEL) or DEFAULT_SNAPSHOTTER

    def default_snapshotter_later(self) -> Callable[[], str]:
        """Start :meth:`default_snapshotter`'s call now and return a function that waits
        for its answer, so that the caller's other calls overlap with it."""
        future = self.namespaces.Get.future(name=self.namespace)

        def result() -> str:
            try:
                labels = dict(future.result().namespace.labels)
            except errors.NotFound:
                labels = {}
            return labels.get(SNAPSHOTTER_LABEL) or DEFAULT_SNAPSHOTTER

        return result

    def resolve_snapshotter(self, name: Optional[str]) -> str:
        """``name`` if given, else :meth:`default_snapshotter` (as ctr resolves it)."""
        return name or self.default_snapshotter()
