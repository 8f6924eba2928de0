"""What every command shares: the global options and a lazily created containerd client."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import click

if TYPE_CHECKING:  # pragma: no cover
    from runcore.containerd.client import Client

DEFAULT_ADDRESS = "/run/containerd/containerd.sock"


@dataclass
class GlobalOptions:
    """The ctr-compatible global flags (``--address``, ``--namespace``, ...)."""

    address: str = DEFAULT_ADDRESS
    namespace: str = "default"
    timeout: float = 0.0  # seconds; 0 = no deadline for the whole command
    connect_timeout: float = 0.0  # seconds; 0 = client default (10 s)
    debug: bool = False
    _client: "Optional[Client]" = None

    def client(self) -> "Client":
        """Connect on first use (imports grpc only now)."""
        if self._client is None:
            from runcore.containerd.client import Client

            self._client = Client.connect(
                address=self.address,
                namespace=self.namespace,
                timeout=self.timeout or None,
                connect_timeout=self.connect_timeout or 10.0,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def global_options(ctx: click.Context) -> GlobalOptions:
    """The :class:`GlobalOptions` stored by the root group on ``ctx.obj``."""
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions(
            address=os.environ.get("CONTAINERD_ADDRESS", DEFAULT_ADDRESS),
            namespace=os.environ.get("CONTAINERD_NAMESPACE", "default"),
        )
    return root.obj
