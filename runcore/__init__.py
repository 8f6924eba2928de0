"""runcore: a plugin-based ``run`` command for containerd.

Plugins implement the hooks in :mod:`runcore.hookspecs` with the
:data:`hookimpl` marker exported here::

    from runcore import hookimpl

    @hookimpl
    def runcore_add_options(registrar, command):
        ...
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations in plugins.
hookimpl = pluggy.HookimplMarker("runcore")

__all__ = ["__version__", "hookimpl"]
