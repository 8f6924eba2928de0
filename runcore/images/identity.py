"""Digests and chain ids."""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def chain_id(diff_ids: Sequence[str]) -> str:
    """OCI chain id: ``C0 = d0``; ``Ci = sha256(C(i-1) + " " + di)``. Empty for no layers."""
    chain = ""
    for diff_id in diff_ids:
        chain = diff_id if not chain else sha256_digest(f"{chain} {diff_id}".encode())
    return chain


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain id of every prefix of ``diff_ids`` (one per layer, bottom first)."""
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(diff_id if not out else sha256_digest(f"{out[-1]} {diff_id}".encode()))
    return out
