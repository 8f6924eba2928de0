"""Built-in plugin ``core.labels``: container labels and spec annotations.

Flags: ``--label``, ``--annotation``. As in ctr, every ``--label`` is also copied into
the spec's annotations, last, so it wins over an ``--annotation`` of the same key.
"""
from __future__ import annotations

from typing import Any

from runcore import hookimpl

PLUGIN = "core.labels"
STOP_SIGNAL_LABEL = "io.containerd.image.config.stop-signal"
#: Longest key+value of an image label copied to a container (longer ones are skipped).
MAX_LABEL_SIZE = 4096


@hookimpl
def runcore_add_options(registrar: Any, command: str) -> None:
    registrar.add("--label", multiple=True, metavar="KEY=VALUE",
                  help="Container label (repeatable); KEY alone means KEY=true.")
    registrar.add("--annotation", multiple=True, metavar="KEY=VALUE",
                  help="Spec annotation (repeatable).")


@hookimpl
def runcore_configure(ctx: Any) -> None:
    from runcore.oci import parse_annotations, parse_labels

    ctx.state(PLUGIN)["annotations"] = parse_annotations(ctx.opt("annotation", ()))
    ctx.state(PLUGIN)["labels"] = parse_labels(ctx.opt("label", ()))


@hookimpl
def runcore_spec_finish(spec: Any, ctx: Any) -> None:
    state = ctx.state(PLUGIN)
    if not ctx.is_set("config"):
        for key, value in state["annotations"].items():
            spec.set(("annotations", key), value)
    for key, value in state["labels"].items():
        spec.set(("annotations", key), value, replace=True)


@hookimpl
def runcore_container_record(record: Any, ctx: Any) -> None:
    labels = dict(ctx.state(PLUGIN)["labels"])
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
