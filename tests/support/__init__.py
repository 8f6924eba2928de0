"""Helpers shared by runcore's test suites.

The containerd harness itself ships with the package, so out-of-tree plugins can use
it too: ``runcore.testing.daemon`` (private daemons, leak check),
``runcore.testing.busybox_image`` (the test image), ``runcore.testing.containerd``
(the pytest fixtures) and ``runcore.testing.parity`` (the ctr oracle). The old
``support.<name>`` module names stay importable as aliases of those modules (one copy,
one set of daemons).
"""

import importlib
import sys

for _name, _target in (
    ("daemon", "runcore.testing.daemon"),
    ("busybox_image", "runcore.testing.busybox_image"),
    ("fixtures", "runcore.testing.containerd"),
    ("parity", "runcore.testing.parity"),
):
    _module = importlib.import_module(_target)
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module
