"""Leases as ctr makes them: random id, 24 h ``containerd.io/gc.expire`` label."""

from __future__ import annotations

import base64
import os
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

EXPIRE_LABEL = "containerd.io/gc.expire"


def unique_part() -> str:
    """``<nanoseconds of the current second>-<base64url of 3 random bytes>``.

    The format of containerd's lease ids and ``extract-…`` snapshot keys.
    """
    nanos = time.time_ns() % 1_000_000_000
    return f"{nanos}-{base64.urlsafe_b64encode(os.urandom(3)).decode()}"


def new_lease_id() -> str:
    return unique_part()


def rfc3339(when: datetime) -> str:
    """RFC 3339 with second precision in UTC (``2024-05-01T12:00:00Z``)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def expire_labels(expire: Optional[timedelta], now: Optional[datetime] = None) -> dict[str, str]:
    """The lease labels for an expiry ``expire`` from ``now`` (none when ``expire`` is None)."""
    if expire is None:
        return {}
    now = now or datetime.now(timezone.utc)
    return {EXPIRE_LABEL: rfc3339(now + expire)}
