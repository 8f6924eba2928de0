"""Saying what is wrong with the plugin set, and keeping the diagnostic commands usable.

* :func:`is_diagnostic`: ``runcore --version``, ``runcore --help`` and ``runcore plugins``
  run even when the configuration is broken, a required plugin is missing or a flag
  clashes; they report the problem instead of stopping on it. Every other command
  stops on the first problem (:func:`gate`).
* :func:`report`: once per command, one warning line on standard error for each plugin
  that failed to load, and for each ``-p no:ID``, ``RUNCORE_DISABLE_PLUGINS`` or
  ``RUNCORE_PLUGINS`` entry that names no installed plugin (a typo must not look like
  success).
* :func:`add_unavailable_flags`: the flags of a plugin that is installed but not
  active (failed, disabled, incompatible) are refused with the reason, e.g.
  ``--sysctl is not available: plugin 'sysctl' failed to load: ImportError: ...``,
  instead of click's bare "No such option". The flags come from the plugin's
  distribution metadata (entry points in the group ``runcore.flags``, read without
  importing the plugin) or from a small index of the flags each plugin declared the
  last time it loaded (``$RUNCORE_CACHE_DIR`` or ``~/.cache/runcore/flags.json``).
* :func:`is_reserved_id`: the one rule for ids reserved to the built-in plugins.
* :func:`clash_hint`: what to do about two plugins declaring the same flag.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Set, TypeVar

from runcore.fingerprint import flag_index_path

if TYPE_CHECKING:  # pragma: no cover
    from runcore.cli.plugin_set import PluginSet
    from runcore.plugin.loader import PluginInfo, Policy
    from runcore.plugin.manager import PluginRegistry
    from runcore.plugin.options import OptionRegistrar

#: Entry-point group in which a plugin distribution may list its flags: name = the flag,
#: value = the plugin id (``"--sysctl" = "sysctl"``). Read without importing anything.
FLAGS_GROUP = "runcore.flags"

#: Global options that take a value (to find the sub-command in ``argv``).
_GLOBAL_WITH_VALUE = (
    "-a",
    "--address",
    "-n",
    "--namespace",
    "--timeout",
    "--connect-timeout",
    "-p",
    "--plugin",
)
_DIAGNOSTIC_COMMANDS = ("plugins",)

T = TypeVar("T")


# --------------------------------------------------------------------- ids
def is_reserved_id(plugin_id: str) -> bool:
    """Whether ``plugin_id`` is reserved for the core: ``core`` itself and ``core.*``.

    ``corefoo`` is an ordinary id; ``core`` and ``core.anything`` are not.
    """
    return plugin_id == "core" or plugin_id.startswith("core.")


# --------------------------------------------------------------------- commands
def command_of(argv: Sequence[str]) -> Optional[str]:
    """The sub-command named in ``argv`` (after the global options), or ``None``."""
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if arg in _GLOBAL_WITH_VALUE:
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        return arg
    return None


def is_diagnostic(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks only for diagnostics: ``--version``, ``--help`` (of the root
    command), no command at all, or ``runcore plugins ...``."""
    command = command_of(argv)
    if command is None:
        return True
    if command in _DIAGNOSTIC_COMMANDS:
        return True
    head = list(argv)[: list(argv).index(command)] if command in argv else []
    return any(a in ("--version", "-v", "--help", "-h") for a in head)


def attempt(pset: "PluginSet", step: Callable[[], T], fallback: T) -> T:
    """Run ``step``; in a diagnostic command a :class:`RuncoreError` is kept in
    ``pset.problems`` (and ``fallback`` returned) instead of stopping the command."""
    from runcore.errors import RuncoreError

    try:
        return step()
    except RuncoreError as exc:
        if not pset.diagnostic:
            raise
        pset.problems.append(exc)
        return fallback


def gate(pset: "PluginSet") -> None:
    """Stop a non-diagnostic command on the first problem found while loading."""
    if pset.problems and not pset.diagnostic:
        raise pset.problems[0]


def problem_lines(pset: "PluginSet") -> List[str]:
    """The problems as lines, each once (``runcore plugins`` prints them)."""
    lines: List[str] = []
    for exc in pset.problems:
        hint = getattr(exc, "hint", None)
        line = f"{exc} ({hint})" if hint else str(exc)
        if line not in lines:
            lines.append(line)
    return lines


def check_config_options(pset: "PluginSet") -> List[str]:
    """Check the configuration's ``[defaults]`` keys and ``locked`` names against the
    options of run, create and spec; return warnings (raises for unknown names)."""
    from runcore import config

    known: Set[str] = set()
    for command in ("run", "create", "spec"):
        known.update(o.option.name or "" for o in pset.options(command).options)
    return config.check_options(pset.config, known, inactive_options(pset.registry))


# --------------------------------------------------------------------- warnings
def unknown_names(policy: "Policy", plugins: "PluginRegistry") -> List[str]:
    """Warnings for plugin names in ``-p no:``, ``RUNCORE_DISABLE_PLUGINS`` and
    ``RUNCORE_PLUGINS`` that match no installed plugin."""
    installed = {rec.id for rec in plugins.infos}
    out = []
    for where, names in (
        ("-p no:", policy.blocked_cli),
        ("RUNCORE_DISABLE_PLUGINS", policy.block_env),
        ("RUNCORE_PLUGINS", policy.allow_env or ()),
    ):
        for name in names:
            if name not in installed:
                shown = f"-p no:{name}" if where == "-p no:" else f"{where} entry {name!r}"
                out.append(f"{shown} names no installed plugin (see 'runcore plugins --builtin')")
    return out


def failure_lines(plugins: "PluginRegistry") -> List[str]:
    """One line per plugin that is installed but failed to load."""
    from runcore.plugin import loader

    return [
        f"{unavailable_reason(rec)} (see 'runcore plugins')"
        for rec in plugins.infos
        if rec.status == loader.FAILED
    ]


def report(pset: "PluginSet", stream: Any = None) -> None:
    """Print the warnings of this command once (see the module docstring)."""
    if getattr(pset, "_reported", False):
        return
    pset._reported = True  # type: ignore[attr-defined]
    stream = stream or sys.stderr
    for line in [*unknown_names(pset.policy, pset.registry), *failure_lines(pset.registry)]:
        stream.write(f"runcore: warning: {line}\n")
    stream.flush()


def start(pset: "PluginSet") -> None:
    """At the start of every command: print its warnings, stop on a problem unless it
    is a diagnostic command."""
    report(pset)
    gate(pset)
    if pset.diagnostic and pset.problems and command_of(pset.argv) != "plugins":
        from runcore.errors import warn

        for line in problem_lines(pset):  # --version, --help: still say what is wrong
            warn(line)


# --------------------------------------------------------------------- unavailable flags
def unavailable_reason(rec: "PluginInfo") -> str:
    """Why an installed plugin gives no flags: ``plugin 'x' failed to load: ImportError: ...``."""
    from runcore.plugin import loader

    if rec.status == loader.FAILED:
        reason = rec.reason
        for prefix in ("import error: ",):
            if reason.startswith(prefix):
                reason = reason[len(prefix) :]
        return f"plugin {rec.id!r} failed to load: {reason}"
    if rec.status == loader.DISABLED:
        return f"plugin {rec.id!r} is {rec.reason}"
    return f"plugin {rec.id!r} is {rec.status}: {rec.reason}"


def declared_flags() -> Dict[str, List[str]]:
    """plugin id -> flags listed in the ``runcore.flags`` entry points (not imported)."""
    if sys.version_info >= (3, 10):
        from importlib import metadata as importlib_metadata
    else:  # pragma: no cover
        import importlib_metadata

    out: Dict[str, List[str]] = {}
    try:
        eps = importlib_metadata.entry_points(group=FLAGS_GROUP)
    except Exception:  # pragma: no cover - broken metadata must not break runcore
        return out
    for ep in eps:
        if ep.name.startswith("-") and ep.name not in out.setdefault(ep.value.strip(), []):
            out[ep.value.strip()].append(ep.name)
    return out


def cache_path(environ: Optional[Dict[str, str]] = None) -> Path:
    return Path(flag_index_path(environ))


def _read_cache() -> Dict[str, Any]:
    try:
        data = json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember_flags(plugins: "PluginRegistry") -> None:
    """Record the flags of the active installed plugins in the index (best effort)."""
    from runcore.plugin import loader

    cache = _read_cache()
    changed = False
    for rec in plugins.infos:
        if rec.builtin or rec.status != loader.ACTIVE or not rec.flags:
            continue
        flags = set(rec.flags)
        old = cache.get(rec.id)
        if isinstance(old, dict) and (old.get("distribution"), old.get("version")) == (
            rec.dist,
            rec.version,
        ):
            flags |= {f for f in old.get("flags") or [] if isinstance(f, str)}
        entry = {"distribution": rec.dist, "version": rec.version, "flags": sorted(flags)}
        if old != entry:
            cache[rec.id] = entry
            changed = True
    if not changed:
        return
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass


def known_flags(rec: "PluginInfo", declared: Dict[str, List[str]]) -> List[str]:
    """The flags an unavailable plugin would add: declared in metadata, else cached."""
    if rec.id in declared:
        return declared[rec.id]
    entry = _read_cache().get(rec.id)
    if isinstance(entry, dict) and entry.get("distribution") == rec.dist:
        flags = entry.get("flags")
        if isinstance(flags, list):
            return [f for f in flags if isinstance(f, str) and f.startswith("-")]
    return []


def inactive_options(plugins: "PluginRegistry") -> Dict[str, str]:
    """option name -> why its plugin is not active, for installed inactive plugins."""
    from runcore.plugin import loader

    out: Dict[str, str] = {}
    inactive = [r for r in plugins.infos if r.status not in (loader.ACTIVE, loader.BUILTIN)]
    declared = declared_flags() if inactive else {}  # metadata only when it is needed
    for rec in plugins.infos:
        if rec.status in (loader.ACTIVE, loader.BUILTIN):
            continue
        for flag in known_flags(rec, declared):
            if flag.startswith("--"):
                out.setdefault(flag[2:].replace("-", "_"), unavailable_reason(rec))
    return out


def add_unavailable_flags(registrar: "OptionRegistrar", plugins: "PluginRegistry") -> None:
    """Refuse, with the reason, each flag of an installed plugin that is not active."""
    import click

    from runcore.plugin import loader
    from runcore.plugin.options import RegisteredOption

    inactive = [r for r in plugins.infos if r.status not in (loader.ACTIVE, loader.BUILTIN)]
    declared = declared_flags() if inactive else {}  # metadata only when it is needed
    for rec in inactive:
        for flag in known_flags(rec, declared):
            if flag in registrar.by_flag:
                continue
            message = f"{flag} is not available: {unavailable_reason(rec)}"

            def refuse(
                ctx: click.Context, param: click.Parameter, value: Any, message: str = message
            ) -> Any:
                if value not in (None, False, ()):
                    raise click.UsageError(message, ctx=ctx)
                return value

            option = click.Option(
                [flag, "_unavailable_" + flag.lstrip("-").replace("-", "_")],
                is_flag=False,
                flag_value="",
                default=None,
                multiple=False,
                hidden=True,
                expose_value=False,
                callback=refuse,
            )
            registered = RegisteredOption(option, "core", "the core")
            registrar.options.append(registered)
            registrar.by_flag[flag] = registered


# --------------------------------------------------------------------- clashes
def clash_hint(*plugin_ids: str) -> str:
    """How to resolve two plugins declaring the same flag."""
    ids = [i for i in plugin_ids if i and not is_reserved_id(i)]
    if not ids:
        return ""
    pick = ids[-1]
    return (
        f"disable one of them: 'runcore -p no:{pick} ...' for one command, or "
        f'disable = ["{pick}"] under [plugins] in the configuration file'
    )
