"""Shared fixtures of runcore's test suite (private containerd, namespaces, images)."""

from runcore.testing.containerd import *  # noqa: F401,F403
