"""Plugins use one public surface, :mod:`runcore.api`, never core internals."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import runcore.api

REPO = Path(__file__).resolve().parents[2]
PLUGIN_PACKAGES = sorted(
    p for p in [*REPO.glob("plugins/*/runcore_*"), *REPO.glob("examples/*/runcore_*")] if p.is_dir()
)


def _runcore_imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "runcore" or node.module.startswith("runcore."):
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "runcore" or alias.name.startswith("runcore."):
                    yield node.lineno, alias.name


def test_there_are_plugin_packages_to_check():
    assert len(PLUGIN_PACKAGES) >= 7


@pytest.mark.parametrize("package", PLUGIN_PACKAGES, ids=lambda p: p.name)
def test_plugin_package_imports_only_runcore_api(package: Path):
    offenders = [
        f"{py.relative_to(REPO)}:{line}: {module}"
        for py in sorted(package.rglob("*.py"))
        for line, module in _runcore_imports(py)
        if module != "runcore.api"
    ]
    assert offenders == []


def test_every_public_name_resolves():
    for name in runcore.api.__all__:
        assert getattr(runcore.api, name) is not None, name


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        runcore.api.no_such_thing  # noqa: B018


def test_importing_api_loads_no_grpc():
    code = "import sys, runcore.api; print(sorted(m for m in sys.modules if m.split('.')[0] in ('grpc', 'google')))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"


def test_lazy_names_come_from_their_modules():
    for name, (module, attribute) in runcore.api._LAZY.items():
        mod = importlib.import_module(module)
        assert getattr(runcore.api, name) is (getattr(mod, attribute) if attribute else mod)


def test_every_lazy_name_is_public_and_documented():
    assert set(runcore.api._LAZY) <= set(runcore.api.__all__)
    assert len(runcore.api.__all__) == len(set(runcore.api.__all__))
    guide = (REPO / "docs" / "plugin-guide.md").read_text()
    missing = [name for name in runcore.api.__all__ if f"`{name}" not in guide]
    assert missing == []
