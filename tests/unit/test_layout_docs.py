"""README's layout table and docs/architecture.md match the tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _table_paths(text: str, heading: str) -> list:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    paths = []
    for row in rows:
        first_cell = row.split("|")[1]
        paths += re.findall(r"`([^`]+)`", first_cell)
    return paths


def _tracked_top_level_dirs() -> set:
    """Top-level directories with files under version control (not build outputs)."""
    import subprocess

    try:
        files = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        return set()
    return {f.split("/", 1)[0] for f in files if "/" in f}


def test_readme_layout_paths_exist():
    paths = _table_paths((ROOT / "README.md").read_text(), "## Layout")
    assert paths
    paths = [p.replace("<name>", "seccomp") for p in paths]
    missing = [p for p in paths if not (ROOT / p).exists() and not (ROOT / p[:-3]).is_dir()]
    assert missing == []


def test_readme_layout_covers_every_package_and_top_level_directory():
    text = (ROOT / "README.md").read_text().split("## Layout", 1)[1]
    packages = [p for p in (ROOT / "runcore").iterdir() if (p / "__init__.py").exists()]
    top = [ROOT / d for d in _tracked_top_level_dirs() if not d.startswith(".") and d != "docs"]
    # a package may be named as the module it grew from (`runcore/x.py` -> `runcore/x/`)
    missing = [
        p.relative_to(ROOT).as_posix()
        for p in [*packages, *top]
        if not re.search(rf"`{re.escape(p.relative_to(ROOT).as_posix())}(/|\.py)", text)
    ]
    assert missing == []


def test_architecture_names_existing_modules():
    text = (ROOT / "docs" / "architecture.md").read_text()
    paths = _table_paths(text, "## Who owns what")
    assert len(paths) > 15
    missing = [p for p in paths if not (ROOT / p).exists() and not (ROOT / p[:-3]).is_dir()]
    assert missing == []


def test_plugin_set_does_not_import_the_cli_entry_point():
    """cli/main.py builds the plugin set; the plugin set must not import cli/main.py back."""
    import ast

    tree = ast.parse((ROOT / "runcore" / "cli" / "plugin_set.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.startswith("runcore.cli")}
