"""A small editor over the OCI spec that remembers who changed what.

Plugins never touch the spec dict directly: they read with :meth:`SpecEditor.get` (a
copy) and write with :meth:`~SpecEditor.set`, :meth:`~SpecEditor.append` and
:meth:`~SpecEditor.remove`. Each write is recorded against the plugin whose hook is
running (the core wraps each plugin's call in :meth:`SpecEditor.attributed_to`), which is
what ``runcore spec --explain`` prints.

Conflicts: writing a field that is not a list (a string, a number, a whole object such
as ``linux.seccomp``) that another plugin already wrote is an error naming both, unless
the writer passes ``replace=True``. Values from the default spec belong to nobody and
may be overwritten freely. Lists are shared: any plugin may append to or rewrite them.

Paths are dotted strings (``"linux.resources.cpu.shares"``) or tuples of keys when a key
itself contains dots (``("annotations", "io.example.key")``).
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from runcore.errors import SpecConflict

Path = Union[str, Sequence[str]]

#: The owner recorded for values present before any plugin ran.
DEFAULT_OWNER = "default"


def _keys(path: Path) -> Tuple[str, ...]:
    if isinstance(path, str):
        return tuple(path.split("."))
    return tuple(path)


def _dotted(keys: Sequence[str]) -> str:
    return ".".join(k if "." not in k else f"[{k}]" for k in keys)


@dataclass
class Change:
    """One recorded write."""

    path: str
    owner: str
    action: str  # "set", "append", "remove"


class SpecEditor:
    """The spec being built, with provenance."""

    def __init__(self, spec: Optional[Dict[str, Any]] = None) -> None:
        self._spec: Dict[str, Any] = spec if spec is not None else {}
        self._owner: str = DEFAULT_OWNER
        self.changes: List[Change] = []
        self._scalar_owner: Dict[Tuple[str, ...], str] = {}

    # ------------------------------------------------------------------ attribution
    @property
    def owner(self) -> str:
        """Who the next write is recorded against (:data:`DEFAULT_OWNER` outside hooks)."""
        return self._owner

    @contextmanager
    def attributed_to(self, owner: str) -> Iterator["SpecEditor"]:
        """Record the writes made inside the ``with`` block against ``owner``.

        The core enters it around every plugin's spec hook; a plugin that applies a
        change on behalf of another one (``--device`` resolved by a plugin) uses it too.
        Blocks nest; the previous owner is restored on exit.
        """
        previous, self._owner = self._owner, owner
        try:
            yield self
        finally:
            self._owner = previous

    # ------------------------------------------------------------------ reading
    @property
    def spec(self) -> Dict[str, Any]:
        """The spec itself (the core's view; plugins use :meth:`get`)."""
        return self._spec

    def get(self, path: Path, default: Any = None) -> Any:
        """A deep copy of the value at ``path``, or ``default`` when absent."""
        node: Any = self._spec
        for key in _keys(path):
            if not isinstance(node, dict) or key not in node:
                return default
            node = node[key]
        return copy.deepcopy(node)

    # ------------------------------------------------------------------ writing
    def set(self, path: Path, value: Any, *, replace: bool = False) -> None:
        """Set ``path`` to ``value``, creating parent objects as needed.

        :raises SpecConflict: a non-list field already written by another plugin, unless
            ``replace`` is true.
        """
        keys = _keys(path)
        if not isinstance(value, list):
            self._claim(keys, replace)
        parent = self._parent(keys, create=True)
        parent[keys[-1]] = copy.deepcopy(value)
        self._record(keys, "set")

    def append(self, path: Path, *items: Any) -> None:
        """Append ``items`` to the list at ``path`` (created when absent)."""
        keys = _keys(path)
        parent = self._parent(keys, create=True)
        current = parent.get(keys[-1])
        if current is None:
            current = parent[keys[-1]] = []
        current.extend(copy.deepcopy(list(items)))
        self._record(keys, "append")

    def remove(self, path: Path) -> None:
        """Delete ``path`` if present (absent is not an error)."""
        keys = _keys(path)
        parent = self._parent(keys, create=False)
        if parent is not None and keys[-1] in parent:
            del parent[keys[-1]]
            self._record(keys, "remove")

    def apply(self, option: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run a spec option ``option(spec_dict, *args, **kwargs)`` with provenance.

        ``option`` is any function that mutates a spec dict, such as those in
        :mod:`runcore.oci`. It runs on a copy; every field it changed is then written
        through :meth:`set`/:meth:`remove`, so conflicts and attribution work as usual.
        """
        work = copy.deepcopy(self._spec)
        option(work, *args, **kwargs)
        self._merge((), self._spec, work)

    def _merge(self, keys: Tuple[str, ...], old: Any, new: Any) -> None:
        for key in [k for k in old if k not in new]:
            self.remove((*keys, key))
        for key, value in new.items():
            if key not in old:
                if isinstance(value, dict) and value:
                    self._merge((*keys, key), {}, value)  # attribute leaves, not the subtree
                else:
                    self.set((*keys, key), value)
            elif isinstance(value, dict) and isinstance(old[key], dict):
                self._merge((*keys, key), old[key], value)
            elif value != old[key] or type(value) is not type(old[key]):
                self.set((*keys, key), value)

    # ------------------------------------------------------------------ provenance
    def explain(self) -> Dict[str, List[str]]:
        """``path -> [owner, ...]`` for every written path, in first-write order."""
        out: Dict[str, List[str]] = {}
        for change in self.changes:
            owners = out.setdefault(change.path, [])
            tag = change.owner if change.action == "set" else f"{change.owner} ({change.action})"
            if tag not in owners:
                owners.append(tag)
        return out

    # ------------------------------------------------------------------ internals
    def _parent(self, keys: Tuple[str, ...], create: bool) -> Any:
        node: Any = self._spec
        for key in keys[:-1]:
            nxt = node.get(key) if isinstance(node, dict) else None
            if not isinstance(nxt, dict):
                if not create:
                    return None
                nxt = node[key] = {}
            node = nxt
        return node

    def _claim(self, keys: Tuple[str, ...], replace: bool) -> None:
        previous = self._scalar_owner.get(keys)
        if (
            previous is not None
            and previous not in (DEFAULT_OWNER, self.owner)
            and self.owner != DEFAULT_OWNER
            and not replace
        ):
            raise SpecConflict(
                f"spec field {_dotted(keys)} is set by both {previous!r} and {self.owner!r}"
            )
        self._scalar_owner[keys] = self.owner

    def _record(self, keys: Tuple[str, ...], action: str) -> None:
        self.changes.append(Change(_dotted(keys), self.owner, action))
