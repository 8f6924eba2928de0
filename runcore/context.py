"""The run context: everything a hook may need about the command being run."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

if TYPE_CHECKING:  # pragma: no cover
    from runcore.cli.common import GlobalOptions
    from runcore.containerd.client import Client
    from runcore.oci.user import RootFS
    from runcore.plugin.manager import Plugins

#: Where an option value came from (``ctx.source(name)``).
COMMANDLINE = "commandline"
ENVIRONMENT = "environment"
CONFIG = "config"
DEFAULT = "default"


@dataclass
class RunContext:
    """One invocation of ``run``, ``create`` or ``spec``.

    :ivar command: ``"run"``, ``"create"`` or ``"spec"``.
    :ivar options: every parsed option value by destination name (``"cap_add"``,
        ``"seccomp"``), ``None`` included; read one with :meth:`opt`, which turns
        ``None`` into your default. Read-only for plugins.
    :ivar sources: where each option value came from (``"commandline"``,
        ``"environment"``, ``"config"``); use :meth:`source` and :meth:`is_set`.
    :ivar image_ref: the IMAGE argument (a host path with ``--rootfs``; ``None`` with
        ``--config``).
    :ivar container_id: the ID argument.
    :ivar args: the container command, empty to use the image's.
    :ivar image: the resolved image (``runcore.images`` object), ``None`` without one.
    :ivar rootfs: read access to files of the container's root filesystem (``None``
        until the snapshot exists); ``rootfs.read_file("/etc/passwd")``.
    :ivar globals: the global options (``--address``, ``--namespace``, timeouts);
        ``None`` in tests without a connection. Prefer :attr:`namespace` and
        :meth:`client`.
    :ivar plugins: the loaded plugin set (the core's; plugins do not need it).
    :ivar snapshotter: the snapshotter the container uses, known once the image is
        resolved (``""`` before, and with ``--rootfs``/``--config``).
    """

    command: str
    options: Dict[str, Any]
    sources: Dict[str, str] = field(default_factory=dict)
    container_id: str = ""
    image_ref: Optional[str] = None
    args: List[str] = field(default_factory=list)
    globals: Optional["GlobalOptions"] = None
    plugins: Optional["Plugins"] = None
    image: Any = None
    rootfs: Optional["RootFS"] = None
    snapshotter: str = ""
    _state: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    _undo: List[Callable[[], None]] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        """The containerd namespace of this command (``--namespace``)."""
        return self.globals.namespace if self.globals else "default"

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
        """Where option ``name`` came from: ``"commandline"``, ``"environment"``,
        ``"config"`` or ``"default"``."""
        return self.sources.get(name, DEFAULT)

    def state(self, plugin_id: str) -> Dict[str, Any]:
        """A scratch dict private to ``plugin_id`` for this invocation.

        The same ``dict`` (created empty on first use) is returned on every call, so a
        value stored in ``runcore_configure`` is there in the spec, record and task
        hooks: ``ctx.state("hello")["greeting"] = "hi"``."""
        return self._state.setdefault(plugin_id, {})

    def client(self) -> "Client":
        """The containerd client (connects on first use)."""
        if self.globals is None:
            raise RuntimeError("no containerd connection in this context")
        return self.globals.client()

    def on_failure(self, undo: Callable[[], None]) -> None:
        """Register ``undo`` to run (last registered first) if the command fails."""
        self._undo.append(undo)
