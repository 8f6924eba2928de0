"""Compose the plugins' contributions into containerd calls: spec, create, run.

The order follows ``ctr run`` (reference §4): validate every option before connecting;
resolve and unpack the image; inside one lease prepare the snapshot, build the spec
(user lookups read the snapshot), build the record and create the container; then, for
``run``, hand over to :mod:`runcore.task`. Whatever fails after something was created
undoes it, so an error leaves nothing behind in containerd.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from runcore.context import RunContext
from runcore.errors import AlreadyExists, NotFound, UsageError
from runcore.record import ContainerRecord, SnapshotRequest
from runcore.spec_editor import SpecEditor

#: Spec phases in the order they run (see :mod:`runcore.hookspecs`).
SPEC_PHASES = (
    "runcore_spec_process",
    "runcore_spec_namespaces",
    "runcore_spec_mounts",
    "runcore_spec_resources",
    "runcore_spec_privileges",
    "runcore_spec_security",
    "runcore_spec_finish",
)

SPEC_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec"

if TYPE_CHECKING:  # pragma: no cover
    from runcore.plugin.manager import PluginRegistry


def _plugins(ctx: RunContext) -> "PluginRegistry":
    assert ctx.plugins is not None
    return ctx.plugins


def configure(ctx: RunContext) -> None:
    """Let every plugin validate its options (nothing is connected or created yet)."""
    _plugins(ctx).call_each("runcore_configure", ctx=ctx)


def resolve_image(ctx: RunContext) -> None:
    """Find the image, pick the snapshotter, unpack if needed (``ctx.image``)."""
    from runcore import images

    client = ctx.client()
    chosen = ctx.opt("snapshotter")
    # the namespace's default snapshotter is looked up while the image is resolved
    lookup = None if chosen else client.default_snapshotter_later()

    def snapshotter() -> str:
        """The snapshotter, waiting for the look-up the first time it is needed."""
        nonlocal lookup
        if lookup is not None:
            ctx.snapshotter, lookup = lookup(), None
        elif not ctx.snapshotter:
            ctx.snapshotter = chosen
        return ctx.snapshotter

    ref = ctx.image_ref or ""
    if ctx.refresh_image:
        snapshotter()  # a supplying plugin unpacks for it
        ref = _supply_image(ctx, ref) or ref
    try:
        ctx.image = images.resolve_image(client, ref, platform=ctx.platform)
    except NotFound:
        snapshotter()
        supplied = _supply_image(ctx, ref)
        if supplied is None:
            raise
        ctx.image = images.resolve_image(client, supplied, platform=ctx.platform)
    snapshotter()
    images.ensure_unpacked(client, ctx.image, ctx.snapshotter)


def _supply_image(ctx: RunContext, ref: str) -> Optional[str]:
    """Ask the plugins to supply ``ref`` (:func:`runcore.hookspecs.runcore_supply_image`)."""
    for _plugin_id, result in _plugins(ctx).call_each("runcore_supply_image", ref=ref, ctx=ctx):
        return str(result)  # a firstresult hook: at most one
    return None


def build_spec(ctx: RunContext) -> SpecEditor:
    """Run the spec phases over the default spec (or the ``--config`` file)."""
    from runcore.oci import defaults

    if ctx.config_spec is not None:
        editor = SpecEditor(json.loads(json.dumps(ctx.config_spec)))
        phases: Tuple[str, ...] = ("runcore_spec_finish",)
    else:
        editor = SpecEditor(defaults.default_unix_spec(ctx.namespace, ctx.container_id))
        editor.spec["linux"]["resources"]["devices"].extend(defaults.default_unix_devices())
        phases = SPEC_PHASES

    _run_phases(editor, ctx, phases)
    return editor


def _run_phases(editor: SpecEditor, ctx: RunContext, phases: Sequence[str]) -> None:
    """Run ``phases`` over ``editor`` (attributing each write), then the validation."""
    plugins = _plugins(ctx)
    for phase in phases:
        plugins.call_each(phase, attribute=editor.attributed_to, spec=editor, ctx=ctx)
    problems: List[str] = []
    for plugin_id, result in plugins.call_each("runcore_spec_validate", spec=editor, ctx=ctx):
        for problem in result:
            problems.append(f"{plugin_id}: {problem}")
    if problems:
        raise UsageError("invalid spec: " + "; ".join(problems))


def edit_spec(spec: Dict[str, Any], ctx: RunContext) -> SpecEditor:
    """Run ``runcore_configure``, every spec phase and the validation over an existing spec.

    For callers that get a container's spec from elsewhere instead of building it (the
    NRI plugin receives each CRI container's spec from containerd). Nothing is resolved,
    prepared or created, so ``ctx.image`` and ``ctx.rootfs`` stay ``None`` and the
    snapshot, record and task hooks are not called. ``spec`` itself is not changed: the
    result is the returned editor's ``spec``, and ``editor.changes``/``explain()`` say
    which plugin wrote which path. Raises what the hooks raise (``UsageError``, ...);
    any other exception from a hook becomes a ``PluginFailed`` naming the plugin and hook.
    """
    editor = SpecEditor(copy.deepcopy(spec))
    _plugins(ctx).call_each("runcore_configure", ctx=ctx)
    _run_phases(editor, ctx, SPEC_PHASES)
    return editor


def build_record(ctx: RunContext) -> ContainerRecord:
    """Let the plugins fill the container record."""
    record = ContainerRecord(id=ctx.container_id)
    _plugins(ctx).call_each("runcore_container_record", record=record, ctx=ctx)
    return record


def _record_message(client: Any, record: ContainerRecord, spec: Dict[str, Any]) -> Any:
    from runcore.oci.jsonutil import to_go_json

    pb = client.pb
    container = pb.containers.Container(
        id=record.id,
        labels=record.labels,
        image=record.image,
        runtime=pb.containers.Container.Runtime(name=record.runtime_name),
        spec=pb.any.Any(type_url=SPEC_TYPE_URL, value=to_go_json(spec)),
        snapshotter=record.snapshotter,
        snapshot_key=record.snapshot_key,
        sandbox=record.sandbox,
    )
    if record.runtime_options is not None:
        url, value = record.runtime_options
        container.runtime.options.CopyFrom(pb.any.Any(type_url=url, value=value))
    for name, (url, value) in record.extensions.items():
        container.extensions[name].CopyFrom(pb.any.Any(type_url=url, value=value))
    return container


class _Snapshot:
    """The container's snapshot while the spec is built: prepared, mounted read-only on demand."""

    def __init__(self, ctx: RunContext, keep: bool) -> None:
        self.ctx = ctx
        self.keep = keep
        self.request: Optional[SnapshotRequest] = None
        self.created = False

    def prepare(self) -> None:
        ctx = self.ctx
        client = ctx.client()
        key = ctx.container_id if self.keep else f"runcore-spec-{uuid.uuid4().hex}"
        request = SnapshotRequest(snapshotter=ctx.snapshotter, key=key, parent=ctx.image.chain_id)
        _plugins(ctx).call_each("runcore_prepare_snapshot", snapshot=request, ctx=ctx)
        self.request = request
        pb = client.pb
        try:
            if self.keep:
                resp = client.snapshots.Prepare(
                    pb.snapshots.PrepareSnapshotRequest(
                        snapshotter=request.snapshotter,
                        key=request.key,
                        parent=request.parent,
                        labels=request.labels,
                    )
                )
            else:
                resp = client.snapshots.View(
                    pb.snapshots.ViewSnapshotRequest(
                        snapshotter=request.snapshotter,
                        key=request.key,
                        parent=request.parent,
                        labels=request.labels,
                    )
                )
        except AlreadyExists:
            hint = None
            if self.keep:
                hint = (
                    f"left by an earlier run? 'runcore rm -f {request.key}' removes a "
                    "snapshot runcore made"
                )
            raise AlreadyExists(f'snapshot "{request.key}": already exists', hint=hint) from None
        self.created = True
        from runcore.context import PREPARED_MOUNTS
        from runcore.rootfs_mount import SnapshotRootFS

        if self.keep:
            ctx.stash[PREPARED_MOUNTS] = (request.key, list(resp.mounts))
        ctx.rootfs = SnapshotRootFS(list(resp.mounts))

    def release(self, failed: bool) -> None:
        """Unmount; remove the snapshot unless it now belongs to a created container."""
        rootfs = self.ctx.rootfs
        if rootfs is not None and hasattr(rootfs, "close"):
            rootfs.close()
        if self.created and (failed or not self.keep) and self.request is not None:
            client = self.ctx.client()
            try:
                client.snapshots.Remove(
                    client.pb.snapshots.RemoveSnapshotRequest(
                        snapshotter=self.request.snapshotter, key=self.request.key
                    )
                )
            except NotFound:
                pass


def build(ctx: RunContext, create: bool) -> SpecEditor:
    """Configure, resolve, build the spec and (``create``) the container; return the spec."""
    configure(ctx)
    if ctx.uses_image:
        resolve_image(ctx)
    elif ctx.uses_rootfs_dir:
        from runcore.oci import rootfs_for_path

        ctx.rootfs = rootfs_for_path(os.path.abspath(ctx.image_ref or ""))
    if not (create or ctx.uses_image):
        return build_spec(ctx)
    client = ctx.client()
    from runcore.task.orphans import CONTAINER_LABEL

    # labelled with the id: a killed run's lease and snapshot can be found (rm -f, prune)
    with client.lease(labels={CONTAINER_LABEL: ctx.container_id} if create else None):
        snapshot = _Snapshot(ctx, keep=create) if ctx.uses_image else None
        failed = True
        try:
            if snapshot is not None:
                snapshot.prepare()
            editor = build_spec(ctx)
            if create:
                record = build_record(ctx)
                message = _record_message(client, record, editor.spec)
                try:
                    created = client.containers.Create(
                        client.pb.containers.CreateContainerRequest(container=message)
                    )
                    from runcore.context import CREATED_RECORD

                    ctx.stash[CREATED_RECORD] = created.container
                except AlreadyExists:
                    raise AlreadyExists(f'container "{ctx.container_id}": already exists') from None
            failed = False
        finally:
            if snapshot is not None:
                snapshot.release(failed)
    return editor


def print_spec(ctx: RunContext, explain: bool = False) -> None:
    """``runcore spec``: print the spec ``create`` would store."""
    editor = build(ctx, create=False)
    if not explain:
        sys.stdout.write(json.dumps(editor.spec, indent=2) + "\n")
        return
    width = 0
    rows = sorted(editor.explain().items())
    for path, _owners in rows:
        width = max(width, len(path))
    for path, owners in rows:
        sys.stdout.write(f"{path.ljust(width)}  {', '.join(owners)}\n")


def create(ctx: RunContext) -> None:
    """``runcore create``."""
    build(ctx, create=True)


def run(ctx: RunContext) -> None:
    """``runcore run``: create, then run the task (see :mod:`runcore.task`)."""
    from runcore.errors import ExitStatus
    from runcore.task import lifecycle  # imported first: no gap between create and the task

    build(ctx, create=True)

    code = lifecycle.run_task(ctx)
    if code:
        raise ExitStatus(code)
