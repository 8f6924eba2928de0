"""Test helpers for runcore plugins, with no containerd needed.

Opt in from a plugin's ``conftest.py``::

    pytest_plugins = ["runcore.testing"]

Fixtures:

* ``runcore_cli`` – :class:`CliHarness`: run ``runcore`` in-process with exactly the plugins
  you name (the installed ones are ignored) and get exit code, output and errors.
* ``runcore_spec`` – build the spec ``runcore spec --rootfs`` would print, with its
  provenance, for given flags and plugins.

Both isolate the environment (``RUNCORE_*`` and ``CONTAINERD_*`` variables, the admin
config) so a test sees only what it sets up.
"""
from runcore.testing.harness import CliHarness, CliResult, SpecResult, build_spec, run_cli

__all__ = ["CliHarness", "CliResult", "SpecResult", "build_spec", "run_cli"]


def _fixtures() -> None:
    import pytest

    @pytest.fixture
    def runcore_cli() -> CliHarness:
        """Run ``runcore`` in-process with only the plugins a test names."""
        return CliHarness()

    globals()["runcore_cli"] = runcore_cli


try:  # fixtures exist only when pytest is importable (this module is a pytest plugin)
    _fixtures()
except ImportError:  # pragma: no cover
    pass
