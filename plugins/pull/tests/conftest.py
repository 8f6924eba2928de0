"""Shared fixtures of runcore's test suite (private containerd, namespaces, images)."""
import pathlib
import sys

_TESTS = str(pathlib.Path(__file__).resolve().parents[3] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.fixtures import *  # noqa: E402,F401,F403
