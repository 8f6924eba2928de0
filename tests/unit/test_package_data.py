"""A regular (non-editable) install carries every data file the code reads.

An editable install serves files from the checkout, so a data file missing from
``[tool.setuptools.package-data]`` only shows up for users (``runcore run`` once failed
with ``FileNotFoundError: …/runcore/images/image-spec.gotypes`` from a wheel). This walks
each distribution's packages and checks every non-Python file against its globs.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Dict, List, Optional

import pytest

try:
    import tomllib
except ImportError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = [ROOT, *sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))]
DISTRIBUTIONS += sorted(p.parent for p in (ROOT / "examples").glob("*/pyproject.toml"))
# Only for type checkers and code generation: a wheel need not carry them.
NOT_NEEDED_AT_RUN_TIME = {".pyi", ".pyc", ".proto", ".sh"}


def _data_files(dist: Path, include: Optional[List[str]]) -> List[Path]:
    found = []
    for top in sorted(p for p in dist.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        if not any(fnmatch.fnmatch(top.name, pattern) for pattern in include or ["*"]):
            continue
        for path in top.rglob("*"):
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and path.suffix != ".py"
                and path.suffix not in NOT_NEEDED_AT_RUN_TIME
            ):
                found.append(path)
    return found


def _covered(dist: Path, path: Path, package_data: Dict[str, List[str]]) -> bool:
    for package, globs in package_data.items():
        pkg_dir = dist.joinpath(*package.split("."))
        try:
            inner = path.relative_to(pkg_dir)
        except ValueError:
            continue
        if any(inner.match(g) or fnmatch.fnmatch(str(inner), g) for g in globs):
            return True
    return False


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda p: p.name)
def test_every_data_file_is_packaged(dist: Path) -> None:
    config = tomllib.loads((dist / "pyproject.toml").read_text())
    setuptools = config.get("tool", {}).get("setuptools", {})
    packages = setuptools.get("packages", {})
    include = packages if isinstance(packages, list) else packages.get("find", {}).get("include")
    package_data = setuptools.get("package-data", {})
    files = _data_files(dist, include)
    missing = [str(p.relative_to(dist)) for p in files if not _covered(dist, p, package_data)]
    assert not missing, f"{dist.name}: not in [tool.setuptools.package-data]: {missing}"


def test_the_check_sees_the_go_type_files() -> None:
    """The walk above finds the data files the core reads (so it can fail)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    names = {p.name for p in _data_files(ROOT, include)}
    assert {"image-spec.gotypes", "runtime-spec.gotypes", "py.typed"} <= names
    assert not _covered(ROOT, ROOT / "runcore/images/image-spec.gotypes", {"runcore": ["*.x"]})
