"""CDI devices requested by one runcore command: resolved in configure, applied later.

Every request (a ``--device`` value or a ``--gpus`` id in CDI mode) is resolved against
one registry, its host device nodes are read, and its edits are checked against those
of the requests before it. The returned applier applies, in the mounts phase, the
spec-wide edits of each spec file the first time one of its devices is applied, then the
device's own edits (the order of the reference library's ``InjectDevices``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Set, Tuple

from . import edits as editsmod
from .registry import CDIError, Registry


@dataclass
class Session:
    dirs: Sequence[str]
    registry: Optional[Registry] = None
    editset: editsmod.EditSet = field(default_factory=editsmod.EditSet)
    planned_specs: Set[str] = field(default_factory=set)
    applied_specs: Set[str] = field(default_factory=set)

    def _registry(self) -> Registry:
        if self.registry is None:
            self.registry = Registry.load(self.dirs)
        return self.registry

    def request(self, name: str) -> Callable[[Any], None]:
        """Resolve ``name`` now (:class:`CDIError`); return ``apply(spec_editor)``."""
        registry = self._registry()
        steps: List[Tuple[Optional[str], editsmod.Prepared]] = []
        for dev in registry.resolve(name):
            spec = dev.spec
            if spec.path not in self.planned_specs:
                prepared = editsmod.prepare(spec.edits, editsmod.origin_of_spec(spec))
                self.editset.add(prepared)
                self.planned_specs.add(spec.path)
                steps.append((spec.path, prepared))
            prepared = editsmod.prepare(dev.raw["containerEdits"], editsmod.origin_of_device(dev))
            self.editset.add(prepared)
            steps.append((None, prepared))

        def apply(spec: Any) -> None:
            for spec_path, prepared in steps:
                if spec_path is not None:
                    if spec_path in self.applied_specs:
                        continue
                    self.applied_specs.add(spec_path)
                editsmod.apply(spec, prepared)

        return apply


__all__ = ["Session", "CDIError"]
