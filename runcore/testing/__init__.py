"""Test helpers for runcore plugins, with no containerd needed.

Opt in from a plugin's ``conftest.py``::

    pytest_plugins = ["runcore.testing"]

Fixtures:

* ``runcore_cli`` – :class:`CliHarness`: run ``runcore`` in-process with exactly the plugins
  you name (the installed ones are ignored) and get exit code, output and errors.
* ``runcore_spec`` – :func:`build_spec`: ``runcore_spec(flags, plugins={...})`` builds the
  spec ``runcore spec --rootfs`` would print, with its provenance (the same as
  ``runcore_cli.spec``).

Both isolate the environment (``RUNCORE_*`` and ``CONTAINERD_*`` variables, the admin
config) so a test sees only what it sets up.
"""

from typing import Callable, Optional, Tuple

from runcore.testing.harness import CliHarness, CliResult, SpecResult, build_spec, run_cli

__all__ = ["CliHarness", "CliResult", "SpecResult", "build_spec", "run_cli"]


def _fixtures() -> None:
    import pytest

    @pytest.fixture
    def runcore_cli() -> CliHarness:
        """Run ``runcore`` in-process with only the plugins a test names."""
        return CliHarness()

    @pytest.fixture
    def runcore_spec() -> Callable[..., Tuple[CliResult, Optional[SpecResult]]]:
        """Build the spec of ``runcore spec --rootfs`` with only the plugins a test names."""
        return build_spec

    globals()["runcore_cli"] = runcore_cli
    globals()["runcore_spec"] = runcore_spec


try:  # fixtures exist only when pytest is importable (this module is a pytest plugin)
    _fixtures()
except ImportError:  # pragma: no cover
    pass
