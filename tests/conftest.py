"""Shared test configuration: private containerd daemons, namespaces and the leak check.

The implementation lives in ``tests/support`` (``fixtures.py``, ``daemon.py``,
``busybox_image.py``); see ``tests/support/fixtures.py`` for the fixture API.
"""
import os
import sys

_TESTS = os.path.dirname(os.path.abspath(__file__))
if _TESTS not in sys.path:  # `import support...` works with any --import-mode
    sys.path.insert(0, _TESTS)

from support.fixtures import (  # noqa: E402,F401
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
