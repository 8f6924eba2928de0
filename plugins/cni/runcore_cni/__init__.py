"""runcore plugin ``cni``: ctr 1.7's ``--cni`` for ``runcore run``.

What ``ctr run --cni`` does, and so does this plugin:

* the container record gets the extension ``ctr.cni-containerd.metadata`` =
  Any{``github.com/containerd/containerd/cmd/ctr/commands/NetworkMetaData``,
  ``{"EnableCni":true}``} (not with ``--config``, as ctr), so ctr and runcore each know
  the other's CNI containers;
* after ``Tasks/Create`` and before ``Tasks/Start`` the default network (the first
  configuration in lexical order in the configuration directory) is added to the task's
  network namespace ``/proc/<pid>/ns/net`` as interface ``eth0``, with the CNI container
  id ``<namespace>-<container id>``;
* the network is removed when the task is gone: after a foreground run, after a failed
  run, and for detached containers by ``runcore stop``/``rm`` (which find the cached
  result, or, for a container of ``ctr run -d --cni``, the record's extension);
* ``runcore start`` of a container whose stored record has that extension (made by
  ``runcore create --cni`` or ``ctr c create --cni``) gets the default network of the
  environment's configuration (``RUNCORE_CNI_CONF_DIR``, ``RUNCORE_CNI_BIN_DIR``) – ctr's
  ``tasks start`` does not set up a network at all.

Where runcore does more than ctr (docs in README.md): the configuration and the plugin
executables are checked before anything is created; a failed ``ADD`` is undone with
``DEL`` so no address or interface stays allocated; ``--cni`` with ``--net-host`` (or any
task sharing runcore's own network namespace) is refused instead of configuring the
host; ``runcore cni check ID`` runs the plugins' ``CHECK``.

The CNI protocol is implemented here (``runcore_cni.invoke``, ``runcore_cni.network``);
nothing heavy is imported until a hook needs it.
"""

from __future__ import annotations

import json
import os
from typing import Any, List, Optional

from runcore.api import (
    CommandContext,
    CommandRegistrar,
    ContainerRecord,
    OptionRegistrar,
    RunContext,
    StashKey,
    TaskInfo,
    UsageError,
    hookimpl,
    warn,
)

__version__ = "0.1.0"

PLUGIN = "cni"
EXTENSION_KEY = "ctr.cni-containerd.metadata"
EXTENSION_TYPE_URL = "github.com/containerd/containerd/cmd/ctr/commands/NetworkMetaData"
#: Go's ``json.Marshal(NetworkMetaData{EnableCni: true})``.
EXTENSION_VALUE = b'{"EnableCni":true}'

#: The default network and plugin directories, checked while configuring.
NETWORK = StashKey[Any]()
BIN_DIRS = StashKey[List[str]]()
#: The network added to the task (``None`` once removed).
ATTACHMENT = StashKey[Optional[Any]]()


@hookimpl
def runcore_add_options(registrar: OptionRegistrar, command: str) -> None:
    from runcore_cni.config import BIN_DIR_ENV, CONF_DIR_ENV, DEFAULT_BIN_DIR, DEFAULT_CONF_DIR

    if command == "run":
        registrar.add("--cni", is_flag=True, help="Enable cni networking for the container.")
        registrar.add(
            "--cni-conf-dir",
            envvar=CONF_DIR_ENV,
            default=DEFAULT_CONF_DIR,
            show_default=True,
            metavar="DIR",
            help="Where --cni finds the network configuration: the first "
            f".conf/.conflist/.json file in lexical order "
            f"(environment: {CONF_DIR_ENV}).",
        )
        registrar.add(
            "--cni-bin-dir",
            envvar=BIN_DIR_ENV,
            default=DEFAULT_BIN_DIR,
            show_default=True,
            metavar="DIR[:DIR...]",
            help=f"Where --cni finds the CNI plugins (environment: {BIN_DIR_ENV}).",
        )
    else:
        registrar.add(
            "--cni",
            is_flag=True,
            help="Store ctr's cni extension in the record, as 'run --cni' does "
            "('runcore start' then sets up the network).",
        )


@hookimpl
def runcore_add_commands(registrar: CommandRegistrar) -> None:
    from runcore_cni.commands import cni_group

    registrar.add(cni_group)


def _wanted(ctx: RunContext) -> bool:
    return ctx.command == "run" and bool(ctx.opt("cni"))


def cni_id(namespace: str, container_id: str) -> str:
    """The CNI container id ctr uses: ``<namespace>-<container id>``."""
    return f"{namespace}-{container_id}"


@hookimpl
def runcore_configure(ctx: RunContext) -> None:
    if not _wanted(ctx):
        return
    from runcore_cni import config

    if ctx.host_network and not ctx.uses_config_file:
        raise UsageError(
            "--cni cannot be used with --net-host: the container shares the "
            "host's network namespace, so the plugins would configure the host"
        )
    conf_dir = ctx.opt("cni_conf_dir") or config.DEFAULT_CONF_DIR
    bin_dirs = config.split_dirs(ctx.opt("cni_bin_dir")) or [config.DEFAULT_BIN_DIR]
    identifier = cni_id(ctx.namespace, ctx.container_id)
    if not config.NAME_RE.match(identifier):
        raise UsageError(f"--cni: {identifier!r} is not a valid CNI container id")
    try:
        network = config.load_default(conf_dir)
        config.check_plugins(network, bin_dirs)
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    ctx.stash[NETWORK] = network
    ctx.stash[BIN_DIRS] = bin_dirs


@hookimpl
def runcore_container_record(record: ContainerRecord, ctx: RunContext) -> None:
    if ctx.command in ("run", "create") and ctx.opt("cni") and not ctx.uses_config_file:
        record.extensions[EXTENSION_KEY] = (EXTENSION_TYPE_URL, EXTENSION_VALUE)


def _same_netns(path: str) -> bool:
    """Whether ``path`` is runcore's own network namespace."""
    try:
        theirs = os.stat(path)
        ours = os.stat("/proc/self/ns/net")
    except OSError:
        return False
    return (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino)


def _prepare_for_start(task: TaskInfo, ctx: RunContext) -> bool:
    """``runcore start`` of a container whose stored record has ctr's CNI extension
    (``create --cni``, ``ctr c create --cni``): the default network of the environment's
    configuration (``RUNCORE_CNI_CONF_DIR``/``RUNCORE_CNI_BIN_DIR``, else the defaults)."""
    if ctx.command != "start" or not has_extension(getattr(task, "record", None)):
        return False
    from runcore_cni import config

    conf_dir = os.environ.get(config.CONF_DIR_ENV) or config.DEFAULT_CONF_DIR
    bin_dirs = config.split_dirs(os.environ.get(config.BIN_DIR_ENV, "")) or [config.DEFAULT_BIN_DIR]
    try:
        network = config.load_default(conf_dir)
        config.check_plugins(network, bin_dirs)
    except config.ConfigError as exc:
        raise UsageError(f"cni: {exc}") from None
    ctx.stash[NETWORK] = network
    ctx.stash[BIN_DIRS] = bin_dirs
    return True


@hookimpl
def runcore_task_created(task: TaskInfo, ctx: RunContext) -> None:
    if not (_wanted(ctx) or _prepare_for_start(task, ctx)):
        return
    from runcore_cni.invoke import RuntimeConf
    from runcore_cni.network import Attachment, CNIError

    netns = f"/proc/{task.pid}/ns/net"
    if _same_netns(netns):
        raise CNIError(
            "--cni: the task shares runcore's network namespace (host network "
            "in the spec, or --with-ns); refusing to let the CNI plugins "
            "configure it"
        )
    attachment = Attachment(
        network=ctx.stash[NETWORK],
        bin_dirs=ctx.stash[BIN_DIRS],
        rt=RuntimeConf(container_id=cni_id(ctx.namespace, task.container_id), netns=netns),
    )
    ctx.stash[ATTACHMENT] = attachment
    try:
        attachment.add()
    except CNIError:
        # Undo what the plugins that ran may have done (address, interfaces), while the
        # namespace still exists; runcore_task_deleted tries again if this fails.
        try:
            attachment.delete(None)
        except CNIError as err:
            warn(f"cleanup after the failed ADD: {err}")
        else:
            ctx.stash[ATTACHMENT] = None
        raise


@hookimpl
def runcore_task_deleted(task: TaskInfo, ctx: CommandContext) -> None:
    if isinstance(ctx, RunContext) and ctx.command == "run":
        if not ctx.opt("cni"):
            return
        from runcore_cni import cache

        attachment = ctx.stash.get(ATTACHMENT, None)
        if attachment is None:
            return
        entry = cache.read(attachment.cache_path)
        attachment.rt.netns = ""  # the task is gone, and its namespace with it
        attachment.delete(entry.get("result") if entry else None)
        ctx.stash[ATTACHMENT] = None
        return
    remove_stored(ctx.namespace, task)


def has_extension(record: Any) -> bool:
    """Whether a stored container record says ``EnableCni`` (ctr's extension)."""
    extensions = getattr(record, "extensions", None)
    if not extensions or EXTENSION_KEY not in extensions:
        return False
    try:
        data = json.loads(extensions[EXTENSION_KEY].value or b"{}")
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("EnableCni") is True


def remove_stored(namespace: str, task: Any) -> None:
    """Remove the network of a container whose run is over (``runcore rm``).

    The cached ``ADD`` (runcore's) says which network, configuration and plugins; without
    one, a record with ctr's extension whose task existed gets ``DEL`` for the default
    network of ``RUNCORE_CNI_CONF_DIR`` (or /etc/cni/net.d) with plugins from
    ``RUNCORE_CNI_BIN_DIR`` (or /opt/cni/bin) – with libcni's cached result when ctr
    left one.
    """
    from runcore_cni import cache, config
    from runcore_cni.invoke import RuntimeConf
    from runcore_cni.network import IFNAME, Attachment, CNIError, from_cache_entry

    identifier = cni_id(namespace, task.container_id)
    directory = cache.cache_dir()
    entries = cache.find(directory, identifier, IFNAME)
    for entry in entries:
        try:
            attachment = from_cache_entry(entry)
        except config.ConfigError as exc:
            raise CNIError(
                f"cached network of {task.container_id} ({entry['_path']}): {exc}"
            ) from None
        attachment.cache_dir = directory
        attachment.delete(entry.get("result"))
        cache.remove(entry["_path"])
    if entries or not has_extension(task.record):
        return
    conf_dir = os.environ.get(config.CONF_DIR_ENV) or config.DEFAULT_CONF_DIR
    bin_dirs = config.split_dirs(os.environ.get(config.BIN_DIR_ENV, "")) or [config.DEFAULT_BIN_DIR]
    task_existed = bool(task.pid) or task.exit_status is not None
    try:
        network = config.load_default(conf_dir)
    except config.ConfigError as exc:
        if not task_existed:
            return  # created with --cni, never run: nothing to remove
        raise CNIError(f"cannot remove the network of {task.container_id}: {exc}") from None
    ctr_entry = cache.libcni_entry(network.name, identifier, IFNAME)
    if ctr_entry is None and not task_existed:
        return  # created with --cni but never run: nothing was added
    if ctr_entry is not None and isinstance(ctr_entry.get("networkConfig"), dict):
        try:
            network = config.NetworkList.from_json(ctr_entry["networkConfig"], network.path)
        except config.ConfigError:
            pass
    attachment = Attachment(
        network=network,
        bin_dirs=bin_dirs,
        rt=RuntimeConf(container_id=identifier, netns=""),
        cache_dir=directory,
    )
    attachment.delete(ctr_entry.get("result") if ctr_entry else None)
    if ctr_entry is not None:
        cache.remove(ctr_entry["_path"])
