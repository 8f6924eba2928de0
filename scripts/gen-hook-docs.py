#!/usr/bin/env python3
"""Write docs/hooks.md from runcore/hookspecs.py (a test checks the file is current)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def render() -> str:
    from runcore import hookspecs

    out = [
        "# Hook reference",
        "",
        "Generated from `runcore/hookspecs.py` by `scripts/gen-hook-docs.py`; "
        "`tests/unit/test_docs.py` fails when the two differ.",
        "",
        inspect.getdoc(hookspecs) or "",
        "",
    ]
    names = [n for n, f in vars(hookspecs).items() if n.startswith("runcore_") and callable(f)]
    out.append("## Hooks in call order")
    out.append("")
    for name in names:
        out.append(f"- [`{name}`](#{name})")
    out.append("")
    for name in names:
        func = getattr(hookspecs, name)
        opts = getattr(func, "runcore_spec", {}) or {}
        sig = inspect.signature(func)
        args = ", ".join(sig.parameters)
        out.append(f"## {name}")
        out.append("")
        out.append(
            f"`{name}({args})`" + (" — first result wins" if opts.get("firstresult") else "")
        )
        out.append("")
        out.append(inspect.getdoc(func) or "")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    target = ROOT / "docs" / "hooks.md"
    target.write_text(render())
    print(f"wrote {target}")
