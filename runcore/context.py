"""What a hook knows about the command being run: :class:`RunContext` (``run``,
``create``, ``spec``) and :class:`CommandContext` (``rm``), with a per-plugin
:class:`Stash` whose :class:`StashKey` keys cannot collide.

Facts several plugins need (does the container come from an image, the ``--config``
spec, the platform, the snapshotter, host networking, ...) are typed, documented
attributes of :class:`RunContext`. A plugin reads those, never another plugin's option
by its name; its own options it reads with :meth:`RunContext.opt`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Generic, List, Optional, Tuple, TypeVar, Union, cast

if TYPE_CHECKING:  # pragma: no cover
    from runcore.cli.common import GlobalOptions
    from runcore.containerd.client import Client
    from runcore.images.platforms import Platform
    from runcore.oci.rootfs import RootFS
    from runcore.plugin.manager import PluginRegistry

#: Where an option value came from (``ctx.source(name)``).
COMMANDLINE = "commandline"
ENVIRONMENT = "environment"
CONFIG = "config"
DEFAULT = "default"

T = TypeVar("T")
D = TypeVar("D")


class StashKey(Generic[T]):
    """A key into :class:`Stash`; create one per value, at module level::

        MAPPINGS = StashKey[Tuple[dict, dict]]()

    Keys compare by identity, so two plugins can never overwrite each other's values.
    """

    __slots__ = ()


class Stash:
    """Values plugins keep for the rest of one command, under their own :class:`StashKey`."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: Dict[StashKey[Any], Any] = {}

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._values[key] = value

    def __getitem__(self, key: StashKey[T]) -> T:
        """The value under ``key``; :class:`KeyError` when none was stored."""
        return cast(T, self._values[key])

    def get(self, key: StashKey[T], default: D) -> Union[T, D]:
        """The value under ``key``, or ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    def setdefault(self, key: StashKey[T], default: T) -> T:
        """The value under ``key``, storing ``default`` there first when there is none."""
        try:
            return self[key]
        except KeyError:
            self[key] = default
            return default

    def pop(self, key: StashKey[T], default: D) -> Union[T, D]:
        """Remove the value under ``key`` and return it, or ``default`` when none."""
        return cast(Union[T, D], self._values.pop(key, default))

    def __delitem__(self, key: StashKey[T]) -> None:
        del self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)


#: The core's own notes from ``create`` to the task code of the same ``run``, which
#: spare it two calls: the record ``Containers/Create`` returned, and the mounts
#: ``Snapshots/Prepare`` returned, as ``(snapshot key, mounts)``.
CREATED_RECORD: "StashKey[Any]" = StashKey()
PREPARED_MOUNTS: "StashKey[Tuple[str, List[Any]]]" = StashKey()


@dataclass
class CommandContext:
    """What every command's hooks get: the namespace, the containerd client, a stash.

    ``runcore rm`` hands this to :func:`~runcore.hookspecs.runcore_task_deleted`;
    ``run``, ``create`` and ``spec`` hand a :class:`RunContext`, which extends it.

    :ivar command: the sub-command (``"run"``, ``"create"``, ``"spec"``, ``"rm"``).
    :ivar container_id: the container the hook is about.
    :ivar stash: per-plugin values for this command (see :class:`StashKey`).
    :ivar globals: the global options (``--address``, ``--namespace``, timeouts);
        ``None`` in tests without a connection. Prefer :attr:`namespace` and
        :meth:`client`.
    :ivar plugins: the loaded plugin registry (the core's; plugins do not need it).
    """

    command: str
    container_id: str = ""
    globals: Optional["GlobalOptions"] = None
    plugins: Optional["PluginRegistry"] = None
    stash: Stash = field(default_factory=Stash)
    _state: Dict[str, Dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def namespace(self) -> str:
        """The containerd namespace (``--namespace``)."""
        return self.globals.namespace if self.globals else "default"

    def client(self) -> "Client":
        """The containerd client (connects on first use)."""
        if self.globals is None:
            raise RuntimeError("no containerd connection in this context")
        return self.globals.client()

    def state(self, plugin_id: str) -> Dict[str, Any]:
        """A scratch dict private to ``plugin_id`` for this command: the same ``dict``
        on every call, so a value stored in ``runcore_configure`` is there in the later
        hooks (kept for third-party plugins; new code uses
        :attr:`stash`, whose keys cannot collide)."""
        return self._state.setdefault(plugin_id, {})


@dataclass
class RunContext(CommandContext):
    """One invocation of ``run``, ``create`` or ``spec``.

    :ivar options: parsed option values by destination name (``"cap_add"``).
    :ivar sources: where each option value came from (see :meth:`source`).
    :ivar image_ref: the IMAGE argument (a host path with ``--rootfs``; ``None`` with
        ``--config``).
    :ivar args: the container command, empty to use the image's.
    :ivar image: the resolved image (``runcore.images`` object), ``None`` without one;
        set before the snapshot and spec hooks.
    :ivar rootfs: read access to files of the container's root filesystem (``None``
        until the snapshot exists); ``rootfs.read_file("/etc/passwd")``.
    :ivar snapshotter: the snapshotter the container uses (``--snapshotter`` or the
        namespace default); set with :attr:`image`.
    :ivar config_spec: the spec read from ``--config FILE``, else ``None``; set while the
        built-in plugins configure, so every installed plugin's ``runcore_configure``
        sees it.
    :ivar platform: the ``--platform`` asked for, parsed, else ``None`` (the host's);
        set like :attr:`config_spec`.
    :ivar refresh_image: set by a plugin in ``runcore_configure`` to have the image
        supplied afresh (``--pull always``) before it is looked up, see
        :func:`~runcore.hookspecs.runcore_supply_image`.
    """

    options: Dict[str, Any] = field(default_factory=dict)
    sources: Dict[str, str] = field(default_factory=dict)
    image_ref: Optional[str] = None
    args: List[str] = field(default_factory=list)
    image: Any = None
    rootfs: Optional["RootFS"] = None
    snapshotter: str = ""
    config_spec: Optional[Dict[str, Any]] = None
    platform: Optional["Platform"] = None
    refresh_image: bool = False

    # ------------------------------------------------------------------ options
    def opt(self, name: str, default: Any = None) -> Any:
        """The value of option ``name`` (its destination name, ``"hello_greeting"`` for
        ``--hello-greeting``), or ``default`` when it is absent or ``None``.

        ``ctx.opt(name, default)`` is what plugins use; ``ctx.options[name]`` is the raw
        value (``None`` for an unset option without a default, ``()`` for an unset
        ``multiple=True`` option)."""
        value = self.options.get(name, default)
        return default if value is None else value

    def is_set(self, name: str) -> bool:
        """Whether ``name`` was given on the command line, by its environment variable or
        by a configuration default (ctr's ``IsSet``)."""
        return self.sources.get(name, DEFAULT) != DEFAULT

    def source(self, name: str) -> str:
        """``"commandline"``, ``"environment"``, ``"config"`` or ``"default"``."""
        return self.sources.get(name, DEFAULT)

    # ------------------------------------------------------------------ facts
    @property
    def uses_config_file(self) -> bool:
        """Whether the spec comes from ``--config FILE`` (the spec phases do not run then,
        only :func:`~runcore.hookspecs.runcore_spec_finish`)."""
        return self.is_set("config")

    @property
    def uses_rootfs_dir(self) -> bool:
        """Whether IMAGE is a host directory (``--rootfs``)."""
        return bool(self.opt("rootfs"))

    @property
    def uses_image(self) -> bool:
        """Whether the container is made from an image (neither ``--config`` nor
        ``--rootfs``): only then is there a snapshot to prepare."""
        return not self.uses_config_file and not self.uses_rootfs_dir

    @property
    def snapshot_labels(self) -> Dict[str, str]:
        """The ``--snapshotter-label`` labels for the container's snapshot."""
        from runcore.oci.annotations import parse_key_values

        return parse_key_values(self.opt("snapshotter_label", ()))

    @property
    def host_network(self) -> bool:
        """Whether the container shares the host's network namespace (``--net-host``)."""
        return bool(self.opt("net_host"))

    @property
    def tty(self) -> bool:
        """Whether the container gets a terminal (``--tty``)."""
        return bool(self.opt("tty"))

    @property
    def null_io(self) -> bool:
        """Whether the task's IO goes to ``/dev/null`` (``run --null-io``)."""
        return bool(self.opt("null_io"))

    @property
    def cgroups_path(self) -> str:
        """The ``--cgroup`` path, ``""`` when not given."""
        return str(self.opt("cgroup", "") or "")
