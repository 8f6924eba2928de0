"""A small containerd client on gRPC.

Importing this package is cheap: grpc and the generated protobuf modules are
loaded only when :meth:`Client.connect` creates a client.

Public API (see :mod:`runcore.containerd.client`)::

    Client.connect(address, namespace, timeout=None, connect_timeout=10.0) -> Client
    client.containers / tasks / images / content / snapshots / diff / leases /
          namespaces / introspection / version / events   (wrapped service stubs)
    client.pb                                   (generated message modules)
    client.lease(expire=timedelta(hours=24))    (context manager -> lease id)
    client.read_blob(digest) -> bytes
    client.write_blob(ref, data, expected_digest=None, size=None, labels=None) -> str
    client.default_snapshotter() -> str
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from runcore.containerd.client import Client

__all__ = ["Client", "close_channels"]

#: ``Client.close()`` closes the gRPC channel. The CLI's process entry sets this to
#: False because it ends with ``os._exit`` (see :func:`runcore.cli.main.leave`): the
#: kernel closes the socket, instead of grpc's channel shutdown taking 85-200 ms.
close_channels = True


def __getattr__(name: str) -> Any:
    if name == "Client":
        from runcore.containerd.client import Client

        return Client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
