"""runcore plugin ``userns``: ctr's ``--uidmap``, ``--gidmap`` and ``--remap-labels``.

As in ctr 1.7 the mappings count only when **both** are given and only for containers
made from an image (they are ignored with ``--rootfs`` and ``--config``; runcore says so
on stderr). Then:

* ``runcore_configure`` – both values parsed as ctr parses them
  (``container-id:host-id:size``, each ``strconv.ParseUint(x, 0, 32)``), with ctr's error
  texts, before anything is created;
* ``runcore_spec_namespaces`` – a ``user`` namespace (unless one is there) and the two
  mappings (``oci.WithUserNamespace``);
* ``runcore_prepare_snapshot`` – the container's snapshot gets a remapped parent: the
  committed snapshot ``<chainID>-<uidHost>-<gidHost>`` whose files are owned by the
  mapped ids (made once, then reused; :mod:`runcore_userns.remap`). With
  ``--remap-labels`` the snapshot gets containerd's remapping labels instead, and the
  remapped parent is made only when the snapshotter lacks the ``remap-ids`` capability.
  As ctr, ``--snapshotter-label`` does not reach this snapshot;
* ``runcore_task_options`` – ``io_uid``/``io_gid`` = the host ids of the first uid/gid
  mapping of the container's stored spec (as ctr 1.7 derives them, so a ``--config``
  spec with mappings gets them too): the task's IO belongs to the container's root.

``runcore spec`` only builds the spec: it makes no remapped snapshot.
Importing this module is cheap: nothing heavy is imported before a hook runs.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from runcore.api import (
    OptionRegistrar,
    RunContext,
    SnapshotRequest,
    TaskInfo,
    SpecEditor,
    StashKey,
    hookimpl,
    warn,
)

__version__ = "0.1.0"

PLUGIN = "userns"

#: Snapshot labels through which a snapshotter with ``remap-ids`` learns the mappings.
UID_MAPPING_LABEL = "containerd.io/snapshot/uidmapping"
GID_MAPPING_LABEL = "containerd.io/snapshot/gidmapping"

IdMapping = Dict[str, int]
#: The parsed (uid mapping, gid mapping), when they apply to this container.
MAPPINGS = StashKey[Tuple[IdMapping, IdMapping]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    registrar.add(
        "--uidmap",
        default="",
        metavar="CONTAINER-UID:HOST-UID:LENGTH",
        help="Run inside a user namespace with the specified UID mapping range; "
        "specified with the format `container-uid:host-uid:length`",
    )
    registrar.add(
        "--gidmap",
        default="",
        metavar="CONTAINER-GID:HOST-GID:LENGTH",
        help="Run inside a user namespace with the specified GID mapping range; "
        "specified with the format `container-gid:host-gid:length`",
    )
    registrar.add(
        "--remap-labels",
        is_flag=True,
        help="Provide the user namespace ID remapping to the snapshotter via label "
        "options; requires snapshotter support",
    )


def mappings(ctx: RunContext) -> Optional[Tuple[IdMapping, IdMapping]]:
    """The parsed (uid mapping, gid mapping) when they apply to this container, else None."""
    return ctx.stash.get(MAPPINGS, None)


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    uidmap, gidmap = ctx.opt("uidmap", ""), ctx.opt("gidmap", "")
    if not (uidmap or gidmap):
        if ctx.opt("remap_labels"):
            warn("--remap-labels is ignored without --uidmap and --gidmap")
        return
    if not ctx.uses_image:
        why = "--config" if ctx.uses_config_file else "--rootfs"
        warn(
            f"--uidmap/--gidmap are ignored with {why}: user namespace mappings apply to "
            "image-based containers only (as in ctr)"
        )
        return
    if not (uidmap and gidmap):
        given, missing = ("--uidmap", "--gidmap") if uidmap else ("--gidmap", "--uidmap")
        warn(
            f"{given} is ignored without {missing}: both are needed for a user namespace "
            "(as in ctr)"
        )
        return
    from runcore.api import parse_id_mapping

    uid = parse_id_mapping(uidmap)  # ValidationError (a UsageError) with ctr's text
    gid = parse_id_mapping(gidmap)
    ctx.stash[MAPPINGS] = (uid, gid)
    if ctx.snapshot_labels:
        warn("--snapshotter-label is ignored with --uidmap/--gidmap (as in ctr)")


@hookimpl
def runcore_spec_namespaces(spec: SpecEditor, ctx: RunContext) -> None:
    maps = mappings(ctx)
    if maps is None:
        return
    from runcore.api import oci

    uid, gid = maps
    spec.apply(oci.with_user_namespace, [uid], [gid])


def _without_cli_labels(labels: Dict[str, str], ctx: RunContext) -> None:
    """Drop the ``--snapshotter-label`` labels: ctr does not pass them with mappings."""
    for key, value in ctx.snapshot_labels.items():
        if labels.get(key) == value:
            del labels[key]


def _host_platform_chain_id(ctx: RunContext, client: Any) -> str:
    """The image's chain id for the client's default platform (ctr names the remapped
    snapshot after it even when ``--platform`` chose another manifest)."""
    if ctx.platform is None:
        return str(ctx.image.chain_id)
    from runcore.api import resolve_image

    return str(resolve_image(client, ctx.image.name).chain_id)


@hookimpl
def runcore_prepare_snapshot(snapshot: SnapshotRequest, ctx: RunContext) -> None:
    maps = mappings(ctx)
    if maps is None or ctx.command == "spec":
        return
    from runcore_userns import remap

    uid, gid = maps
    client = ctx.client()
    _without_cli_labels(snapshot.labels, ctx)
    if ctx.opt("remap_labels"):
        # WithRemapperLabels(0, uidHost, 0, gidHost, uidSize): container ids are always 0
        # and both labels carry the uid mapping's size.
        snapshot.labels[UID_MAPPING_LABEL] = f"0:{uid['hostID']}:{uid['size']}"
        snapshot.labels[GID_MAPPING_LABEL] = f"0:{gid['hostID']}:{uid['size']}"
        if remap.REMAP_IDS in remap.snapshotter_capabilities(client, snapshot.snapshotter):
            return
        parent = snapshot.parent
    else:
        parent = _host_platform_chain_id(ctx, client)
    snapshot.parent = remap.ensure_remapped(
        client, snapshot.snapshotter, parent, uid["hostID"], gid["hostID"]
    )


@hookimpl
def runcore_task_options(options: Dict[str, Any], task: TaskInfo, ctx: RunContext) -> None:
    """IO owner = host ids of the first mappings of the stored spec (ctr 1.7's NewTask)."""
    import json

    record = task.record
    if record is None:
        record = ctx.client().containers.Get(id=ctx.container_id).container
    if not record.spec.value:
        return
    try:
        spec = json.loads(record.spec.value)
    except ValueError:
        return
    linux = spec.get("linux") if isinstance(spec, dict) else None
    if not isinstance(linux, dict):
        return
    for field, key in (("io_uid", "uidMappings"), ("io_gid", "gidMappings")):
        maps = linux.get(key)
        if isinstance(maps, list) and maps and isinstance(maps[0], dict):
            options[field] = int(maps[0].get("hostID") or 0)
