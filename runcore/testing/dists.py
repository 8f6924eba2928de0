"""Write a minimal installed distribution (``*.dist-info``) with entry points into a folder.

Putting that folder on ``sys.path`` (or ``PYTHONPATH``) makes the plugin discoverable
through ``importlib.metadata`` exactly as a ``pip install`` would, without installing.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, Iterable, Optional


def write_dist(
    site: Path,
    name: str,
    version: str = "1.0",
    entry_points: Optional[Dict[str, str]] = None,
    modules: Optional[Dict[str, str]] = None,
    requires: Iterable[str] = (),
    groups: Optional[Dict[str, Dict[str, str]]] = None,
) -> Path:
    """Create ``<site>/<name>-<version>.dist-info`` plus module files; return the dist-info.

    :param entry_points: plugin id -> module (group ``runcore.plugins``).
    :param modules: module name -> source text (dedented).
    :param requires: ``Requires-Dist`` lines, e.g. ``"runcore>=0.1,<1"``.
    :param groups: more entry-point groups, e.g. ``{"runcore.flags": {"--sysctl": "sysctl"}}``.
    """
    site.mkdir(parents=True, exist_ok=True)
    for module, source in (modules or {}).items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    dist_name = name.replace("-", "_")
    info = site / f"{dist_name}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n")
    lines = ["[runcore.plugins]"] + [f"{k} = {v}" for k, v in (entry_points or {}).items()]
    for group, entries in (groups or {}).items():
        lines += ["", f"[{group}]"] + [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    (info / "RECORD").write_text("")
    return info
