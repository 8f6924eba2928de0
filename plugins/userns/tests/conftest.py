"""The project's containerd fixtures (daemon per version, namespace + leak check, images).

They live in the core's ``tests/support``; this plugin's tests reuse them as documented in
``tests/support/fixtures.py``. Tests that do not ask for ``containerd`` need none of it.
"""
import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[3] / "tests"
for _path in (_TESTS, Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from support.fixtures import *  # noqa: E402,F401,F403

