"""runcore's pytest plugin (entry point ``pytest11``): opt-in test fixtures for plugins.

Installing runcore registers this module with pytest; by itself it only adds settings
and changes nothing. A plugin's test suite opts in to the fixtures it wants, in its
``pyproject.toml``::

    [tool.pytest.ini_options]
    runcore_fixtures = ["cli", "containerd"]

(or ``pytest -p runcore.testing -p runcore.testing.containerd``, or
``pytest_plugins = ["runcore.testing", "runcore.testing.containerd"]`` in the top
``conftest.py``).

* ``cli`` - :mod:`runcore.testing`: ``runcore_cli`` runs the CLI in-process with the
  plugins a test names; spec hooks only, no containerd.
* ``containerd`` - :mod:`runcore.testing.containerd`: a private containerd per session
  (``containerd``), a fresh namespace per test with the leak check (``namespace``), the
  busybox test image built from the host's busybox (``image``), ``fifo_dir``.

Where containerd lives: ``runcore_containerd_bin`` (ini) or ``--runcore-containerd-bin``
(a directory with ``containerd``, ``ctr`` and ``containerd-shim-runc-v2``; any 1.7 or
1.6 release). Without root or without the binaries the containerd tests are skipped with
the reason; with ``CI=true`` (or ``RUNCORE_REQUIRE_CONTAINERD=1``) they fail instead, so a
CI job cannot pass by skipping them.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any, Optional

FIXTURE_MODULES = {
    "cli": "runcore.testing",
    "containerd": "runcore.testing.containerd",
}
#: containerd minor version -> the variable naming its binary directory
_BIN_VARIABLES = {"1.7": "RUNCORE_CONTAINERD_17_BIN", "1.6": "RUNCORE_CONTAINERD_16_BIN"}


def pytest_addoption(parser: Any) -> None:
    """``runcore_fixtures`` and ``runcore_containerd_bin`` (ini), ``--runcore-containerd-bin``."""
    parser.addini(
        "runcore_fixtures",
        type="args",
        default=[],
        help="runcore fixtures to enable: cli, containerd",
    )
    parser.addini(
        "runcore_containerd_bin",
        default="",
        help="directory with containerd, ctr and containerd-shim-runc-v2 "
        "for the runcore containerd fixtures",
    )
    group = parser.getgroup("runcore")
    group.addoption(
        "--runcore-containerd-bin",
        default=None,
        metavar="DIR",
        help="directory with the containerd binaries for the runcore fixtures",
    )


def containerd_minor(bin_dir: str) -> Optional[str]:
    """``"1.7"`` / ``"1.6"`` for the containerd in ``bin_dir``, ``None`` when unusable."""
    try:
        out = subprocess.run(
            [os.path.join(bin_dir, "containerd"), "--version"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split()
    version = parts[2].lstrip("v") if len(parts) >= 3 else ""
    minor = ".".join(version.split(".")[:2])
    return minor if minor in _BIN_VARIABLES else None


def use_containerd_bin(bin_dir: str) -> None:
    """Point the containerd fixtures at ``bin_dir`` (only that daemon version is used)."""
    minor = containerd_minor(bin_dir)
    if minor is None:  # unusable: the skip (or failure) names the directory
        minor = "1.7"
    os.environ[_BIN_VARIABLES[minor]] = bin_dir
    if minor != "1.7" and not os.environ.get("RUNCORE_CONTAINERD_17_BIN"):
        os.environ["RUNCORE_CONTAINERD_17_BIN"] = bin_dir  # ctr, the oracle, comes from 1.7's
    if not os.environ.get("RUNCORE_CONTAINERD_VERSIONS"):
        os.environ["RUNCORE_CONTAINERD_VERSIONS"] = minor


def pytest_configure(config: Any) -> None:
    """Load the fixture modules named in ``runcore_fixtures``."""
    bin_dir = config.getoption("runcore_containerd_bin") or config.getini("runcore_containerd_bin")
    if bin_dir:
        use_containerd_bin(str(bin_dir))
    for name in config.getini("runcore_fixtures"):
        module = FIXTURE_MODULES.get(name)
        if module is None:
            import pytest

            raise pytest.UsageError(
                f"runcore_fixtures: unknown fixture set {name!r} (use {', '.join(FIXTURE_MODULES)})"
            )
        if not config.pluginmanager.has_plugin(module):
            import importlib

            # registered, not import_plugin()ed: runcore.testing is already imported (it
            # holds this module), so pytest could not rewrite its asserts anyway
            config.pluginmanager.register(importlib.import_module(module), module)
