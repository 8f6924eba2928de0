"""Built-in plugin ``core.labels``: container labels and spec annotations.

Flags: ``--label``, ``--annotation``. As in ctr, every ``--label`` is also copied into
the spec's annotations, last, so it wins over an ``--annotation`` of the same key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict

from runcore import hookimpl
from runcore.context import StashKey

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.record import ContainerRecord
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.labels"
#: ``--annotation`` and ``--label`` values, parsed while configuring.
ANNOTATIONS = StashKey[Dict[str, str]]()
LABELS = StashKey[Dict[str, str]]()
STOP_SIGNAL_LABEL = "io.containerd.image.config.stop-signal"
#: Longest key+value of an image label copied to a container (longer ones are skipped).
MAX_LABEL_SIZE = 4096


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--label",
        multiple=True,
        metavar="KEY=VALUE",
        help="Container label (repeatable); KEY alone means KEY=true.",
    )
    registrar.add(
        "--annotation", multiple=True, metavar="KEY=VALUE", help="Spec annotation (repeatable)."
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    from runcore.oci import parse_annotations, parse_labels

    ctx.stash[ANNOTATIONS] = parse_annotations(ctx.opt("annotation", ()))
    ctx.stash[LABELS] = parse_labels(ctx.opt("label", ()))


@hookimpl
def runcore_spec_finish(spec: SpecEditor, ctx: RunContext) -> None:
    if not ctx.uses_config_file:
        for key, value in ctx.stash[ANNOTATIONS].items():
            spec.set(("annotations", key), value)
    for key, value in ctx.stash[LABELS].items():
        spec.set(("annotations", key), value, replace=True)


@hookimpl
def runcore_container_record(record: ContainerRecord, ctx: RunContext) -> None:
    labels = ctx.stash[LABELS].copy()
    image = ctx.image
    if image is None:
        record.labels.update(labels)
        return
    config = image.config.get("config") or {}
    record.labels.update(config.get("Labels") or {})
    merged = {k: v for k, v in (image.labels or {}).items() if len(k) + len(v) <= MAX_LABEL_SIZE}
    merged.update(labels)
    record.labels.update(merged)
    record.labels[STOP_SIGNAL_LABEL] = config.get("StopSignal") or "SIGTERM"
