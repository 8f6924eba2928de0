"""Built-in plugin ``core.image``: what the root filesystem comes from.

Flags: ``--snapshotter``, ``--snapshotter-label``, ``--platform``, ``--rootfs``, ``--config``.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from runcore import hookimpl
from runcore.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from runcore.context import RunContext
    from runcore.plugin.options import OptionRegistrar
    from runcore.record import ContainerRecord, SnapshotRequest
    from runcore.spec_editor import SpecEditor

PLUGIN = "core.image"


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--snapshotter",
        envvar="CONTAINERD_SNAPSHOTTER",
        default="",
        help="Snapshotter name; empty: the namespace default, else overlayfs.",
    )
    registrar.add(
        "--snapshotter-label",
        multiple=True,
        metavar="KEY=VALUE",
        help="Labels added to the new snapshot (repeatable).",
    )
    registrar.add("--platform", default="", help="Run image for a specific platform.")
    registrar.add(
        "--rootfs",
        is_flag=True,
        help="Use the first argument as a host directory for the root filesystem.",
    )
    registrar.add(
        "--config",
        "-c",
        default=None,
        metavar="FILE",
        help="Path to the runtime-specific spec config file.",
    )


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    """Read ``--config`` into ``ctx.config_spec`` and ``--platform`` into ``ctx.platform``."""
    if ctx.uses_config_file:
        path = ctx.opt("config", "")
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            from runcore.gocompat import path_error

            raise UsageError(
                f"cannot load spec config file: {path_error('open', path, exc)}"
            ) from None
        try:
            spec = json.loads(data)
            if not isinstance(spec, dict):
                raise ValueError("the file does not hold a JSON object")
        except ValueError as exc:
            from runcore.oci.defaults import OCI_VERSION

            raise UsageError(
                "decoding spec config file failed, current supported OCI runtime-spec : "
                f"v{OCI_VERSION}: {exc}"
            ) from None
        ctx.config_spec = spec
    platform = ctx.opt("platform", "")
    if platform:
        from runcore.images.platforms import parse

        ctx.platform = parse(platform)


@hookimpl
def runcore_spec_process(spec: SpecEditor, ctx: RunContext) -> None:
    if ctx.uses_rootfs_dir:
        from runcore import oci

        spec.apply(oci.with_rootfs_path, os.path.abspath(ctx.image_ref or ""))


@hookimpl
def runcore_prepare_snapshot(snapshot: SnapshotRequest, ctx: RunContext) -> None:
    snapshot.labels.update(ctx.snapshot_labels)


@hookimpl
def runcore_container_record(record: ContainerRecord, ctx: RunContext) -> None:
    if ctx.image is not None:
        record.image = ctx.image.name
        record.snapshotter = ctx.snapshotter
        record.snapshot_key = ctx.container_id
