"""runcore: a plugin-based ``run`` command for containerd.

Plugins implement the hooks in :mod:`runcore.hookspecs` with the
:data:`hookimpl` marker exported here::

    from runcore import hookimpl

    @hookimpl
    def runcore_add_options(registrar, command):
        ...

``hookimpl`` is made on first use, so that importing :mod:`runcore` imports nothing
(the help replay of :mod:`runcore.cli.launch` runs before pluggy is needed).
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import pluggy

    #: Marker for hook implementations in plugins.
    hookimpl: pluggy.HookimplMarker


def __getattr__(name: str) -> object:
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("runcore")
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module 'runcore' has no attribute {name!r}")


__all__ = ["__version__", "hookimpl"]
