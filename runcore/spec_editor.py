"""A small editor over the OCI spec that remembers who changed what.

Plugins never touch the spec dict directly: they read with :meth:`SpecEditor.get` (a
copy) and write with :meth:`~SpecEditor.set`, :meth:`~SpecEditor.append`,
:meth:`~SpecEditor.update_item` and :meth:`~SpecEditor.remove`. Each write is recorded
against the plugin whose hook is running (the core wraps each plugin's call in
:meth:`SpecEditor.attributed_to`), which is what ``runcore spec --explain`` prints.

No value is ever lost silently. A write that would drop or change a value another
plugin put there - a scalar it set, a field inside an object it set, an item it added
to a list - is a :class:`~runcore.errors.SpecConflict` naming the path and both
plugins, unless the writer takes ownership explicitly with ``replace=True``. Values of
the default spec belong to nobody and may be changed freely; so may a plugin's own
values. Writing a list back with the other plugins' items kept (read, append, write)
is not a loss; nor is adding a key to an object.

Paths are dotted strings (``"linux.resources.cpu.shares"``); a key that itself contains
dots is written in brackets (``"annotations.[io.example.key]"``), or the path is given
as a tuple of keys (``("annotations", "io.example.key")``). Paths name object keys
only: a path that runs through a list or a scalar (``"process.rlimits.[0].soft"``) is
an error (:class:`SpecPathError`); edit list items with :meth:`~SpecEditor.append` and
:meth:`~SpecEditor.update_item`.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from runcore.errors import PluginError, SpecConflict

Path = Union[str, Sequence[str]]
Keys = Tuple[str, ...]
#: ``update_item``'s ``match``: the fields an item must have, or a predicate.
Match = Union[Dict[str, Any], Callable[[Any], bool]]


class SpecPathError(PluginError):
    """A spec path that is malformed or runs through a list or a scalar."""


#: The owner recorded for values present before any plugin ran.
DEFAULT_OWNER = "default"

_MISSING = object()


def _keys(path: Path) -> Keys:
    """Parse a spec path (see the module docstring) into its keys."""
    if isinstance(path, str):
        keys: List[str] = []
        i = 0
        while True:
            if path.startswith("[", i):
                end = path.find("]", i)
                if end < 0:
                    raise SpecPathError(f"invalid spec path {path!r}: '[' without ']'")
                keys.append(path[i + 1 : end])
                i = end + 1
                if i < len(path) and path[i] != ".":
                    raise SpecPathError(f"invalid spec path {path!r}: '.' expected after ']'")
            else:
                end = path.find(".", i)
                keys.append(path[i:] if end < 0 else path[i:end])
                i = len(path) if end < 0 else end
            if i >= len(path):
                break
            i += 1  # the dot
            if i == len(path):
                keys.append("")
                break
    else:
        keys = list(path)
    for key in keys:
        if not isinstance(key, str) or not key:
            raise SpecPathError(f"invalid spec path {path!r}: keys must be non-empty strings")
    if not keys:
        raise SpecPathError("invalid spec path: no key")
    return tuple(keys)


def _dotted(keys: Sequence[str]) -> str:
    """The printable form of a path (``annotations.[io.example.key]``)."""
    return ".".join(k if "." not in k and "[" not in k else f"[{k}]" for k in keys)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__} value"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


@dataclass
class Change:
    """One recorded write."""

    path: str
    owner: str
    action: str  # "set", "append", "remove"


class SpecEditor:
    """The spec being built, with provenance.

    :ivar owner: the id of the plugin whose hook is running; the core sets it before
        each call, and every write is attributed to it.
    :ivar changes: every write in order (path, owner, action), for debugging;
        :meth:`explain` is the exact account of who owns what now.
    """

    def __init__(self, spec: Optional[Dict[str, Any]] = None) -> None:
        self._spec: Dict[str, Any] = spec if spec is not None else {}
        self._owner: str = DEFAULT_OWNER
        self.changes: List[Change] = []
        #: path -> the plugins whose value is there (several when they set the same one)
        self._holders: Dict[Keys, List[str]] = {}
        #: list path -> owner of each item, in item order
        self._items: Dict[Keys, List[str]] = {}
        #: object path -> the plugin whose write created it (as a parent of its path)
        self._created: Dict[Keys, str] = {}

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
        keys = _keys(path)
        node: Any = self._spec
        for depth, key in enumerate(keys):
            if node is None:
                return default
            if not isinstance(node, dict):
                raise self._through(keys, depth, node)
            if key not in node:
                return default
            node = node[key]
        return copy.deepcopy(node)

    # ------------------------------------------------------------------ writing
    def set(self, path: Path, value: Any, *, replace: bool = False) -> None:
        """Set ``path`` to ``value``, creating parent objects as needed.

        Setting a list or an object replaces it as a whole: items and fields another
        plugin put there must still be in ``value`` (read it with :meth:`get`, change
        it, write it back), otherwise the write is a conflict.

        :param replace: take ownership: overwrite whatever other plugins put at ``path``
            (and below it). Say so in your plugin's documentation.
        :raises SpecConflict: the write would drop or change another plugin's value;
            the message names the path and both plugins.
        :raises SpecPathError: ``path`` runs through a list or a scalar.
        """
        keys = _keys(path)
        parent = self._parent(keys, create=True)
        old = parent.get(keys[-1], _MISSING)
        new = copy.deepcopy(value)
        if not replace:
            self._refuse_losses(keys, old, new)
        self._retire(keys, old, new)
        parent[keys[-1]] = new
        holders = self._holders.setdefault(keys, [])
        if not (_same(old, new) and holders):
            holders.clear()
        if self.owner not in holders:
            holders.append(self.owner)
        self._record(keys, "set")

    def append(self, path: Path, *items: Any) -> None:
        """Append ``items`` to the list at ``path`` (created when absent)."""
        keys = _keys(path)
        current = self._list_at(keys, "append to")
        owners = self._item_owners(keys, current)
        current.extend(copy.deepcopy(list(items)))
        self._items[keys] = owners + [self.owner] * len(items)
        self._record(keys, "append")

    def remove(self, path: Path, *, replace: bool = False) -> None:
        """Delete ``path`` if present (absent is not an error).

        :param replace: take ownership: delete it even when another plugin's values are
            there (otherwise that is a :class:`~runcore.errors.SpecConflict`).
        """
        keys = _keys(path)
        parent = self._parent(keys, create=False)
        if parent is not None and keys[-1] in parent:
            old = parent[keys[-1]]
            if not replace:
                self._refuse_losses(keys, old, _MISSING)
            self._retire(keys, old, _MISSING)
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
        """``path -> [owner, ...]`` for every path a plugin wrote that is still there.

        Exact: every path exists in the spec, and every value that differs from the
        spec the editor started from lies at or below a listed path. An object or
        scalar lists the plugin(s) whose value it is; a list lists the plugins whose
        items it holds (``"default"`` for items of the default spec) and the last
        plugin that wrote it as a whole. Paths are in first-write order.
        """
        out: Dict[str, List[str]] = {}
        for keys in list(dict.fromkeys([*self._holders, *self._items])):
            value = self._lookup(keys)
            if value is _MISSING:
                continue
            owners = list(self._holders.get(keys, []))
            if isinstance(value, list) and keys in self._items:
                for owner in self._item_owners(keys, value):
                    if owner not in owners:
                        owners.append(owner)
            if owners:
                out[_dotted(keys)] = owners
        for keys, owner in self._created.items():  # an object created for a value since removed
            if self._lookup(keys) == {} and _dotted(keys) not in out:
                out[_dotted(keys)] = [owner]
        return out

    # ------------------------------------------------------------------ internals
    def _parent(self, keys: Tuple[str, ...], create: bool) -> Any:
        """The object holding ``keys[-1]``; objects on the way are created when
        ``create`` (an absent or ``null`` key), never in place of a list or scalar."""
        node: Any = self._spec
        for depth, key in enumerate(keys[:-1]):
            nxt = node.get(key)
            if nxt is None:
                if not create:
                    return None
                nxt = node[key] = {}
                self._created.setdefault(keys[: depth + 1], self.owner)
            elif not isinstance(nxt, dict):
                raise self._through(keys, depth + 1, nxt)
            node = nxt
        return node

    def _record(self, keys: Tuple[str, ...], action: str) -> None:
        self.changes.append(Change(_dotted(keys), self.owner, action))

    # ------------------------------------------------------------------ list items
    def update_item(self, path: Path, match: Match, value: Any, *, replace: bool = False) -> int:
        """Replace the items of the list at ``path`` that match ``match`` by ``value``;
        append ``value`` when none matches (the list is created when absent).

        :param match: a dict of fields an item must have (``{"type": "RLIMIT_NOFILE"}``)
            or a predicate ``match(item) -> bool``.
        :param replace: take ownership of matching items another plugin added.
        :return: how many items were replaced (0: ``value`` was appended).
        :raises SpecConflict: a matching item was added by another plugin.
        """
        keys = _keys(path)
        current = self._list_at(keys, "update an item of")
        owners = self._item_owners(keys, current)
        hits = [i for i, item in enumerate(current) if _matches(match, item)]
        new = copy.deepcopy(value)
        for i in hits:
            if not (replace or self._mine(owners[i]) or _same(current[i], new)):
                raise SpecConflict(
                    f"spec field {_dotted(keys)}: an item added by {owners[i]!r} would be "
                    f"changed by {self.owner!r}",
                    hint="leave it, or take it over with replace=True",
                )
        for i in hits:
            current[i] = copy.deepcopy(new)
            owners[i] = self.owner
        if not hits:
            current.append(new)
            owners.append(self.owner)
        self._items[keys] = owners
        self._record(keys, "update")
        return len(hits)

    def remove_item(self, path: Path, match: Match, *, replace: bool = False) -> int:
        """Remove the items of the list at ``path`` that match ``match``.

        :param replace: take ownership of matching items another plugin added.
        :return: how many items were removed.
        :raises SpecConflict: a matching item was added by another plugin.
        """
        keys = _keys(path)
        parent = self._parent(keys, create=False)
        current = None if parent is None else parent.get(keys[-1])
        if current is None:
            return 0
        current = self._list_at(keys, "remove an item of")
        owners = self._item_owners(keys, current)
        hits = [i for i, item in enumerate(current) if _matches(match, item)]
        for i in hits:
            if not (replace or self._mine(owners[i])):
                raise SpecConflict(
                    f"spec field {_dotted(keys)}: an item added by {owners[i]!r} would be "
                    f"removed by {self.owner!r}",
                    hint="leave it, or take it over with replace=True",
                )
        for i in reversed(hits):
            del current[i]
            del owners[i]
        if hits:
            self._items[keys] = owners
            self._record(keys, "remove")
        return len(hits)

    # ------------------------------------------------------------------ ownership internals
    def _mine(self, owner: str) -> bool:
        """Whether the running plugin may change a value owned by ``owner``."""
        return owner in (DEFAULT_OWNER, self.owner) or self.owner == DEFAULT_OWNER

    def _through(self, keys: Keys, depth: int, node: Any) -> SpecPathError:
        hint = (
            "; edit its items with spec.append() or spec.update_item()"
            if isinstance(node, list)
            else ""
        )
        return SpecPathError(
            f"invalid spec path {_dotted(keys)}: {_dotted(keys[:depth])} is {_kind(node)}, "
            f"not an object{hint}"
        )

    def _lookup(self, keys: Keys) -> Any:
        return _at(self._spec, keys)

    def _list_at(self, keys: Keys, doing: str) -> List[Any]:
        parent = self._parent(keys, create=True)
        current = parent.get(keys[-1])
        if current is None:
            current = parent[keys[-1]] = []
        if not isinstance(current, list):
            raise SpecPathError(
                f"cannot {doing} spec field {_dotted(keys)}: it is {_kind(current)}, not a list"
            )
        return current

    def _effective_owner(self, keys: Keys) -> str:
        """The plugin whose value is at ``keys``: its own record or its nearest ancestor's."""
        for n in range(len(keys), 0, -1):
            holders = self._holders.get(keys[:n])
            if holders:
                return holders[-1]
        return DEFAULT_OWNER

    def _item_owners(self, keys: Keys, value: List[Any]) -> List[str]:
        recorded = self._items.get(keys)
        if recorded is not None and len(recorded) == len(value):
            return list(recorded)
        return [self._effective_owner(keys)] * len(value)

    def _refuse_losses(self, keys: Keys, old: Any, new: Any) -> None:
        """Raise :class:`SpecConflict` when writing ``new`` over ``old`` at ``keys`` would
        drop or change a value another plugin put there."""
        if self.owner == DEFAULT_OWNER or old is _MISSING:
            return
        inherited = self._effective_owner(keys[:-1]) if len(keys) > 1 else DEFAULT_OWNER
        lost = self._losses(keys, old, new, [inherited])
        if not lost:
            return
        where, owner, is_item = lost
        hint = "keep its value, or take it over with replace=True"
        if is_item:
            raise SpecConflict(
                f"spec field {_dotted(where)}: an item added by {owner!r} would be dropped "
                f"by {self.owner!r}",
                hint=hint,
            )
        if where == keys:
            raise SpecConflict(
                f"spec field {_dotted(keys)} is set by both {owner!r} and {self.owner!r}", hint=hint
            )
        raise SpecConflict(
            f"spec field {_dotted(where)} is set by {owner!r}; {self.owner!r} would "
            f"{'remove' if new is _MISSING else 'replace'} it by writing {_dotted(keys)}",
            hint=hint,
        )

    def _losses(
        self, keys: Keys, old: Any, new: Any, inherited: List[str]
    ) -> Optional[Tuple[Keys, str, bool]]:
        owners = self._holders.get(keys) or inherited
        other = next((o for o in owners if not self._mine(o)), None)
        if isinstance(old, dict):
            target = new if isinstance(new, dict) else {}
            for key, value in old.items():
                found = self._losses((*keys, key), value, target.get(key, _MISSING), owners[-1:])
                if found:
                    return found
            if not old and not isinstance(new, dict) and other is not None:
                return (keys, other, False)
            return None
        if isinstance(old, list):
            remaining = list(new) if isinstance(new, list) else []
            recorded = self._items.get(keys)
            item_owners = (
                recorded
                if recorded is not None and len(recorded) == len(old)
                else [owners[-1]] * len(old)
            )
            for item, owner in zip(old, item_owners):
                index = next((i for i, x in enumerate(remaining) if _same(x, item)), None)
                if index is not None:
                    remaining.pop(index)
                elif not self._mine(owner):
                    return (keys, owner, True)
            if not old and not isinstance(new, list) and other is not None:
                return (keys, other, False)
            return None
        if not _same(old, new) and other is not None:
            return (keys, other, False)
        return None

    def _retire(self, keys: Keys, old: Any, new: Any) -> None:
        """Forget the records under ``keys`` whose value the write changes or drops, and
        carry item owners over to the new list (kept items keep their owner)."""
        n = len(keys)
        for table in (self._holders, self._items):
            for rec in [k for k in table if len(k) > n and k[:n] == keys]:
                if not _same(_at(old, rec[n:]), _at(new, rec[n:])):
                    del table[rec]
        if isinstance(old, list) and isinstance(new, list):
            old_owners = self._item_owners(keys, old)
            pool = list(zip(old, old_owners))
            owners: List[str] = []
            for item in new:
                index = next((i for i, (x, _) in enumerate(pool) if _same(x, item)), None)
                owners.append(pool.pop(index)[1] if index is not None else self.owner)
            self._items[keys] = owners
        else:
            self._items.pop(keys, None)
        if new is _MISSING:
            self._holders.pop(keys, None)


def _at(value: Any, keys: Sequence[str]) -> Any:
    """The value at ``keys`` below ``value``, or the missing marker."""
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _matches(match: Match, item: Any) -> bool:
    if callable(match):
        return bool(match(item))
    return isinstance(item, dict) and all(k in item and _same(item[k], v) for k, v in match.items())
