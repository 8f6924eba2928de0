#!/usr/bin/env python3
"""Write docs/reference.md - what hooks receive - from the classes' docstrings.

Covers RunContext, SpecEditor (with the spec-path syntax), SnapshotRequest,
ContainerRecord, TaskInfo, OptionRegistrar and the phase that owns each spec field.
Every public attribute and method of those classes is listed, whatever the class has
when this runs; ``tests/unit/test_reference_docs.py`` fails when the file is stale.
Attributes are documented with ``:ivar name: text`` in the class docstring or a
``#: text`` comment above the field.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: (import path, class name) in the order of the reference.
CLASSES = (
    ("runcore.context", "RunContext"),
    ("runcore.spec_editor", "SpecEditor"),
    ("runcore.record", "SnapshotRequest"),
    ("runcore.record", "ContainerRecord"),
    ("runcore.record", "TaskInfo"),
    ("runcore.plugin.options", "OptionRegistrar"),
)


def _ivars(cls: type) -> Tuple[str, Dict[str, str]]:
    """The class docstring without its ``:ivar`` lines, and name -> text of those."""
    doc = inspect.getdoc(cls) or ""
    ivars: Dict[str, str] = {}
    kept: List[str] = []
    current = None
    for line in doc.splitlines():
        match = re.match(r"^:ivar (\w+):\s*(.*)$", line)
        if match:
            current = match.group(1)
            ivars[current] = match.group(2).strip()
        elif current and line.startswith("    "):
            ivars[current] += " " + line.strip()
        else:
            current = None
            kept.append(line)
    return "\n".join(kept).strip(), ivars


def _comment_docs(cls: type) -> Dict[str, str]:
    """``#: text`` comments directly above ``name: type`` lines in the class body."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # pragma: no cover
        return {}
    docs: Dict[str, str] = {}
    pending: List[str] = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        match = re.match(r"^(\w+)\s*:", stripped)
        if match and pending:
            docs[match.group(1)] = " ".join(pending)
        pending = []
    return docs


def public_members(cls: type) -> Tuple[List[Tuple[str, str]], List[str]]:
    """(attributes as (name, type), methods and properties) that are public."""
    attrs: List[Tuple[str, str]] = []
    if dataclasses.is_dataclass(cls):
        attrs = [
            (f.name, str(f.type)) for f in dataclasses.fields(cls) if not f.name.startswith("_")
        ]
    else:
        hints = {}
        for klass in reversed(cls.__mro__):
            hints.update(getattr(klass, "__annotations__", {}))
        attrs = [(n, str(t)) for n, t in hints.items() if not n.startswith("_")]
        init = getattr(cls, "__init__", None)
        if init is not None:  # self.x = ... in __init__
            try:
                body = inspect.getsource(init)
            except (OSError, TypeError):  # pragma: no cover
                body = ""
            for match in re.finditer(r"self\.([a-z]\w*)\s*(?::\s*([^=]+?))?\s*=", body):
                if match.group(1) not in dict(attrs):
                    attrs.append((match.group(1), (match.group(2) or "").strip()))
    names = [n for n, _ in attrs]
    members: Dict[str, Any] = {}
    for klass in reversed(cls.__mro__):  # inherited from runcore base classes too
        if klass.__module__.startswith("runcore"):
            members.update(vars(klass))
    methods = [
        n
        for n, v in members.items()
        if not n.startswith("_")
        and n not in names
        and (callable(v) or isinstance(v, (property, staticmethod, classmethod)))
    ]
    return attrs, methods


def _annotation(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return ""
    text = value if isinstance(value, str) else inspect.formatannotation(value)
    return text.strip("'\"")


def signature(func: Any) -> str:
    """``(name: type = default, *, flag: bool = False) -> type``, annotations unquoted."""
    sig = inspect.signature(func)
    parts: List[str] = []
    star_done = False
    for param in sig.parameters.values():
        if param.name == "self":
            continue
        text = param.name
        if param.kind is param.VAR_POSITIONAL:
            text, star_done = "*" + text, True
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + text
        elif param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if _annotation(param.annotation):
            text += f": {_annotation(param.annotation)}"
        if param.default is not param.empty:
            text += (" = " if _annotation(param.annotation) else "=") + repr(param.default)
        parts.append(text)
    ret = _annotation(sig.return_annotation)
    return f"({', '.join(parts)})" + (f" -> {ret}" if ret else "")


def _render_class(module_name: str, name: str) -> List[str]:
    import importlib

    cls = getattr(importlib.import_module(module_name), name)
    doc, ivars = _ivars(cls)
    for base in cls.__mro__[1:]:  # attributes documented on a base class (CommandContext)
        if base.__module__.startswith("runcore"):
            ivars.update({k: v for k, v in _ivars(base)[1].items() if k not in ivars})
    ivars.update({k: v for k, v in _comment_docs(cls).items() if k not in ivars})
    out = [f"## {name}", "", f"`{module_name}.{name}` (also `runcore.api.{name}`)", "", doc, ""]
    attrs, methods = public_members(cls)
    if attrs:
        out += ["### Attributes", "", "| attribute | type | meaning |", "|---|---|---|"]
        for attr, typ in attrs:
            text = ivars.get(attr, "").replace("|", "\\|")
            out.append(f"| `{attr}` | `{typ.strip(chr(39))}` | {text} |")
        out.append("")
    if methods:
        out += ["### Methods", ""]
        for meth in methods:
            value = next(vars(k)[meth] for k in cls.__mro__ if meth in vars(k))
            if isinstance(value, property):
                ret = _annotation(inspect.signature(value.fget).return_annotation)
                ret_text = f" -> {ret}" if ret else ""
                out += [f"#### `{meth}` (property{ret_text})", "", inspect.getdoc(value) or "", ""]
                continue
            func = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            out += [f"#### `{meth}{signature(func)}`", "", inspect.getdoc(func) or "", ""]
    return out


def _render_phases() -> List[str]:
    from runcore import spec_fields

    out = [
        "## Which phase owns which spec fields",
        "",
        inspect.getdoc(spec_fields) or "",
        "",
        "| spec path | phase |",
        "|---|---|",
    ]
    for path, phase in sorted(spec_fields.OWNER_PHASE.items()):
        out.append(f"| `{path}` | `{phase}` |")
    out += ["", "Writes outside the owning phase, on top of it:", ""]
    for phase, path, why in spec_fields.LATER_ADJUSTMENTS:
        out.append(f"- `{phase}` changes `{path}`: {why}")
    out.append("")
    return out


def render() -> str:
    from runcore import spec_editor

    out = [
        "# What hooks receive",
        "",
        "Generated from the docstrings by `scripts/gen-reference-docs.py`; "
        "`tests/unit/test_reference_docs.py` fails when the two differ. The hooks "
        "themselves are in [hooks.md](hooks.md).",
        "",
        "- [RunContext](#runcontext): `ctx`, in every hook after the command line is parsed",
        "- [SpecEditor](#speceditor): `spec`, in the spec phases; [spec paths](#spec-paths)",
        "- [SnapshotRequest](#snapshotrequest): `snapshot`, in `runcore_prepare_snapshot`",
        "- [ContainerRecord](#containerrecord): `record`, in `runcore_container_record`",
        "- [TaskInfo](#taskinfo): `task`, in `runcore_task_created`, `runcore_task_deleted`",
        "- [OptionRegistrar](#optionregistrar): `registrar`, in `runcore_add_options`",
        "- [Which phase owns which spec fields](#which-phase-owns-which-spec-fields)",
        "",
    ]
    for module_name, name in CLASSES:
        out += _render_class(module_name, name)
        if name == "SpecEditor":
            out += ["### Spec paths", "", inspect.getdoc(spec_editor) or "", ""]
    out += _render_phases()
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    target = ROOT / "docs" / "reference.md"
    target.write_text(render())
    print(f"wrote {target}")
