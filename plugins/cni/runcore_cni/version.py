"""CNI specification versions: which ones runcore speaks and what each one brings.

* 0.3.0: plugin chaining (``prevResult`` passed along a list on ``ADD``);
* 0.4.0: ``CHECK``, and the cached ``ADD`` result passed as ``prevResult`` on ``DEL``;
* 1.0.0: the newest version runcore speaks (the one Debian's plugins 1.1 speak too).

A configuration without ``cniVersion`` is the original 0.1.0 protocol.
"""

from __future__ import annotations

from typing import Tuple

#: Every version of the CNI specification runcore can run, oldest first.
SUPPORTED = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0")
#: Version assumed when a configuration does not name one.
LEGACY = "0.1.0"

CHAINING = "0.3.0"
CHECK = "0.4.0"
DEL_PREV_RESULT = "0.4.0"


def parse(text: str) -> Tuple[int, int, int]:
    """``"0.3.1"`` → ``(0, 3, 1)``; ``ValueError`` for anything that is not ``N.N.N``."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"invalid version {text!r}")
    major, minor, patch = (int(p) for p in parts)
    return major, minor, patch


def effective(text: str) -> str:
    """The version a configuration speaks (``""`` → 0.1.0)."""
    return text or LEGACY


def supported(text: str) -> bool:
    return effective(text) in SUPPORTED


def at_least(text: str, minimum: str) -> bool:
    """Whether ``text`` (a supported version, or ``""``) is ``minimum`` or newer."""
    return parse(effective(text)) >= parse(minimum)


def has_chaining(text: str) -> bool:
    return at_least(text, CHAINING)


def has_check(text: str) -> bool:
    return at_least(text, CHECK)


def passes_prev_result_on_del(text: str) -> bool:
    return at_least(text, DEL_PREV_RESULT)
