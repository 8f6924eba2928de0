"""``run``/``create --pull``: what the supply hook does for each policy."""

from __future__ import annotations

import sys
from typing import Any, Optional

from runcore.api import NotFound, RuncoreError


def _exists(client: Any, name: str) -> bool:
    try:
        client.images.Get(name=name)
    except NotFound:
        return False
    return True


def supply(ref: str, ctx: Any) -> Optional[str]:
    """The image name to use for ``ref`` after pulling it if the policy says so."""
    from . import names
    from .commands import run_pull
    from .pull import PullOptions

    policy = ctx.opt("pull", "missing")
    try:
        parsed = names.parse(ref)
    except RuncoreError:
        if policy == "always":
            raise
        return None  # not a registry reference: the core reports the image as not found
    client = ctx.client()
    if policy == "never":
        return parsed.name if parsed.name != ref and _exists(client, parsed.name) else None
    if policy == "missing" and parsed.name != ref and _exists(client, parsed.name):
        return parsed.name
    platform = ctx.platform
    opts = PullOptions(platforms=[str(platform)] if platform else [], snapshotter=ctx.snapshotter)
    run_pull(client, parsed, opts, sys.stderr, quiet=False)
    return parsed.name
