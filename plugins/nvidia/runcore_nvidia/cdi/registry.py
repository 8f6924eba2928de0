"""The CDI registry: every spec file of the spec directories, and name resolution.

Directories are scanned in order (not recursively); files ending in ``.json`` or
``.yaml`` are spec files. A device defined in two files of the same directory is a
conflict (neither definition is used); a later directory overrides an earlier one.
Files that cannot be read or are invalid are remembered with their error: requesting a
device of their kind (or any unresolvable device) reports them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from . import DEFAULT_SPEC_DIRS, names
from .spec import Spec, SpecError, read


class CDIError(ValueError):
    """One line naming the device and the files involved."""


@dataclass
class Device:
    """A device of a loaded spec file."""

    spec: Spec
    name: str
    raw: Dict[str, object]

    @property
    def qualified(self) -> str:
        return names.qualified(self.spec.vendor, self.spec.cls, self.name)


@dataclass
class Broken:
    """A spec file that could not be used."""

    path: str
    error: str
    kind: Optional[str] = None  # when it could be read


@dataclass
class Registry:
    dirs: List[str]
    specs: List[Spec] = field(default_factory=list)
    devices: Dict[str, Device] = field(default_factory=dict)
    conflicts: Dict[str, List[str]] = field(default_factory=dict)
    broken: List[Broken] = field(default_factory=list)
    dir_errors: List[str] = field(default_factory=list)

    # -------------------------------------------------------------- loading
    @classmethod
    def load(cls, dirs: Sequence[str] = DEFAULT_SPEC_DIRS) -> "Registry":
        reg = cls(dirs=[os.path.normpath(d) for d in dirs if d])
        for priority, directory in enumerate(reg.dirs):
            try:
                entries = sorted(os.scandir(directory), key=lambda e: os.fsencode(e.name))
            except FileNotFoundError:
                continue
            except OSError as exc:
                reg.dir_errors.append(f"{directory}: {exc.strerror or exc}")
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        continue
                except OSError:
                    continue
                if os.path.splitext(entry.name)[1] not in (".json", ".yaml"):
                    continue
                reg._add(os.path.join(directory, entry.name), priority)
        for name in reg.conflicts:
            reg.devices.pop(name, None)
        return reg

    def _add(self, path: str, priority: int) -> None:
        try:
            spec = read(path, priority)
        except SpecError as exc:
            self.broken.append(Broken(path, str(exc), _peek_kind(path)))
            return
        self.specs.append(spec)
        for name, raw in spec.devices.items():
            dev = Device(spec, name, raw)
            other = self.devices.get(dev.qualified)
            if other is not None and other.spec.priority == priority:
                files = self.conflicts.setdefault(dev.qualified, [other.spec.path])
                files.append(spec.path)
                continue
            self.devices[dev.qualified] = dev

    # -------------------------------------------------------------- queries
    def kind_devices(self, kind: str) -> List[Device]:
        """The usable devices of ``kind`` in file and definition order."""
        out = []
        for spec in self.specs:
            if spec.kind != kind:
                continue
            for name in spec.devices:
                dev = self.devices.get(names.qualified(spec.vendor, spec.cls, name))
                if dev is not None and dev.spec is spec:
                    out.append(dev)
        return out

    def all_devices(self) -> List[Device]:
        return sorted(self.devices.values(), key=lambda d: d.qualified)

    def resolve(self, device: str) -> List[Device]:
        """The device(s) a qualified name stands for (``=all``: every device of the kind,
        unless a spec defines a device named ``all``). Raises :class:`CDIError`."""
        vendor, cls, name = names.parse_qualified(device)
        kind = f"{vendor}/{cls}"
        broken = [b for b in self.broken if b.kind == kind]
        if broken:
            raise CDIError(
                f"CDI device {device}: spec file {broken[0].path} of kind {kind} "
                f"is unusable: {broken[0].error}"
            )
        conflicting = self.conflicts.get(device)
        if conflicting:
            raise CDIError(
                f"CDI device {device} is defined by more than one spec file: "
                + ", ".join(conflicting)
            )
        found = self.devices.get(device)
        if found is not None:
            return [found]
        if name == "all":
            kind_conflicts = sorted(n for n in self.conflicts if n.startswith(kind + "="))
            if kind_conflicts:
                raise CDIError(
                    f"CDI device {device}: {kind_conflicts[0]} is defined by more than "
                    "one spec file: " + ", ".join(self.conflicts[kind_conflicts[0]])
                )
            devices = self.kind_devices(kind)
            if devices:
                return devices
        raise CDIError(self._unresolvable(device))

    def _unresolvable(self, device: str) -> str:
        where = ", ".join(self.dirs) or "(no spec directories)"
        message = f"unresolvable CDI devices {device} (spec directories: {where})"
        unknown = [b for b in self.broken if b.kind is None]
        if unknown:
            message += "; unreadable spec files: " + "; ".join(
                f"{b.path}: {b.error}" for b in unknown
            )
        return message


def _peek_kind(path: str) -> Optional[str]:
    """The ``kind`` of a file that failed validation, when it can be decoded at all."""
    from .spec import parse

    try:
        with open(path, "rb") as fh:
            raw = parse(fh.read())
    except (OSError, SpecError):
        return None
    if raw is None:
        return None
    kind = raw.get("kind")
    return kind if isinstance(kind, str) and kind else None


def spec_dirs_from(value: object) -> Tuple[str, ...]:
    """Spec directories from an option value: ``"a:b"`` or a list; empty → the defaults."""
    if value is None or value == "" or value == () or value == []:
        return DEFAULT_SPEC_DIRS
    if isinstance(value, str):
        parts = [p for p in value.split(":") if p]
    else:
        parts = []
        for item in value:  # type: ignore[union-attr]
            parts.extend(p for p in str(item).split(":") if p)
    return tuple(parts) or DEFAULT_SPEC_DIRS
