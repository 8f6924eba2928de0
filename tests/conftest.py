"""Shared test configuration: private containerd daemons, namespaces and the leak check.

The implementation ships with the package (``runcore.testing.containerd``,
``runcore.testing.daemon``, ``runcore.testing.busybox_image``); see
``runcore/testing/containerd.py`` for the fixture API. ``tests/support`` keeps the old
``support.*`` module names importable.
"""

import os
import sys

_TESTS = os.path.dirname(os.path.abspath(__file__))
if _TESTS not in sys.path:  # `import support...` works with any --import-mode
    sys.path.insert(0, _TESTS)

from runcore.testing.containerd import (  # noqa: E402,F401
    containerd,
    containerd_hygiene,
    containerd_versions,
    fifo_dir,
    namespace,
    namespace_name,
    no_leaks,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_setup,
    pytest_sessionfinish,
)
