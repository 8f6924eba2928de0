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


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string (``10s``, ``1m30s``, ``250ms``, ``0``)."""
    import re

    value = text.strip()
    if value in ("0", "+0", "-0"):
        return 0.0
    pattern = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
    pos, total = 0, 0.0
    sign = 1.0
    if value[:1] in "+-":
        sign = -1.0 if value[0] == "-" else 1.0
        pos = 1
    if pos >= len(value):
        raise ValueError(f"invalid duration {text!r}")
    while pos < len(value):
        match = pattern.match(value, pos)
        if not match:
            raise ValueError(f"invalid duration {text!r} (use e.g. 10s, 1m30s, 500ms)")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if sign < 0:
        raise ValueError(f"invalid duration {text!r}: must not be negative")
    return total
