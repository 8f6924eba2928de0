"""The hook reference in docs/ is generated from hookspecs.py and must be current."""

from __future__ import annotations

from pathlib import Path

from support.scripts import load_script

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    return load_script("gen-hook-docs.py")


def test_hook_reference_is_current():
    expected = _generator().render()
    actual = (ROOT / "docs" / "hooks.md").read_text()
    assert actual == expected, "docs/hooks.md is stale: run scripts/gen-hook-docs.py"


def test_every_hook_is_documented_with_arguments():
    from runcore import hookspecs

    text = (ROOT / "docs" / "hooks.md").read_text()
    for name, func in vars(hookspecs).items():
        if name.startswith("runcore_") and callable(func):
            assert f"## {name}" in text
            assert func.__doc__ and len(func.__doc__.strip()) > 40, f"{name} needs a docstring"
