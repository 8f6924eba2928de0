"""Printing ``--help`` and ``runcore plugins`` again without building the command line.

``runcore --help`` builds the whole command line (click, pluggy, every plugin's options),
and importing click alone costs about three bare interpreter start-ups. The text is a
pure function of a few inputs, so what a full run printed is kept and printed again
while they are unchanged (the *key*):

* the arguments, exactly, and runcore's version and interpreter;
* the terminal width click uses (``COLUMNS``, else the width of stdout's terminal);
* the environment variables runcore and its plugins read for options and defaults:
  ``RUNCORE_*`` and ``CONTAINERD_*``, and the locale (``LANG``, ``LANGUAGE``,
  ``LC_ALL``, ``LC_MESSAGES``);
* the installed distributions (:func:`runcore.fingerprint.distributions`: ``pip
  install``, ``uninstall`` and upgrades change it), the configuration files and the
  flag index ``flags.json`` of unavailable plugins.

The full run decides what may be kept (:func:`replayable`, :func:`capture`):

* only a request the command tree resolves to a help option alone
  (``runcore [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] --help``; never ``run IMG ID ls -h``,
  whose ``-h`` is the container's), or ``runcore plugins`` with its own flags;
* only when it exits 0 and writes nothing to stderr;
* only when every plugin loaded (one that failed to import may load once a missing
  library is installed, which no fingerprint sees);
* only from regular installs: runcore and every plugin under a ``site-packages`` or
  ``dist-packages`` directory (an editable install's source changes while its
  ``dist-info`` stays the same). ``RUNCORE_HELP_CACHE=1`` keeps text from editable
  installs too (the test suite uses it).

``RUNCORE_HELP_CACHE=0`` turns the replay off, ``RUNCORE_NO_CACHE=1`` every cache. The file is ``help-<interpreter>.marshal`` in the
cache directory (:func:`runcore.fingerprint.cache_dir`), read only when owned by the
user; ``marshal`` because it needs no import, and the key holds the interpreter version.

Written by hand: nothing can build a click command line without importing click, which
is the cost avoided here, and no library memoizes a process's output.
"""

from __future__ import annotations

import marshal
import os
import sys

from runcore import fingerprint

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from typing import Any, Callable, Dict, List, Optional, Sequence

    import click

    from runcore.cli.plugin_set import PluginSet

#: Bumped when the file format or the key changes.
FORMAT = 1
#: Help texts kept per key, and keys kept per file.
KEEP = 64
KEEP_KEYS = 8
#: Environment variables whose values are part of the key, by prefix and by name.
ENV_PREFIXES = ("RUNCORE_", "CONTAINERD_")
ENV_NAMES = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")
#: What ``runcore plugins`` may be given and still be replayed.
PLUGINS_FLAGS = ("--json", "--explain", "--builtin", "--no-builtin")


def terminal_columns(environ: "Optional[Dict[str, str]]" = None) -> int:
    """The columns click formats help for (as ``shutil.get_terminal_size``)."""
    env = os.environ if environ is None else environ
    try:
        columns = int(env.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _key(environ: "Dict[str, str]") -> "List[Any]":
    from runcore import __version__

    env = sorted((k, v) for k, v in environ.items() if k.startswith(ENV_PREFIXES) or k in ENV_NAMES)
    return [
        FORMAT,
        __version__,
        sys.executable,
        terminal_columns(environ),
        env,
        fingerprint.configuration(environ),
        fingerprint.file_state(fingerprint.flag_index_path(environ)),
        fingerprint.distributions(),
    ]


def _file(environ: "Dict[str, str]") -> "Optional[str]":
    if environ.get("RUNCORE_HELP_CACHE") == "0":
        return None
    where = fingerprint.cache_dir(environ)
    if where is None:
        return None
    tag = "".join(c if c.isalnum() else "-" for c in sys.prefix).strip("-")[-48:]
    return os.path.join(where, f"help-{tag}.marshal")


def _read(path: str) -> "Dict[str, Any]":
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_uid != os.geteuid():
                return {}
            data = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _entries(data: "Dict[str, Any]") -> "List[Dict[str, Any]]":
    entries = data.get("entries")
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("texts"), dict)]


def lookup(argv: "Sequence[str]", environ: "Optional[Dict[str, str]]" = None) -> "Optional[str]":
    """The text a full run printed for ``argv`` under the same key, or ``None``."""
    env = dict(os.environ if environ is None else environ)
    path = _file(env)
    if path is None:
        return None
    entries = _entries(_read(path))
    if not entries:
        return None
    key = _key(env)
    for entry in entries:
        if entry.get("key") == key:
            text = entry["texts"].get(tuple(argv))
            return text if isinstance(text, str) else None
    return None


def store(argv: "Sequence[str]", text: str, environ: "Optional[Dict[str, str]]" = None) -> None:
    """Keep ``text`` as the output of ``argv`` under the current key (best effort).

    Up to :data:`KEEP_KEYS` keys are kept, most recent first: ``runcore`` and
    ``python -m runcore`` see different ``sys.path``s and should not evict each other.
    """
    env = dict(os.environ if environ is None else environ)
    path = _file(env)
    if path is None:
        return
    key = _key(env)
    entries = _entries(_read(path))
    entry = next((e for e in entries if e.get("key") == key), None)
    if entry is None:
        entry = {"key": key, "texts": {}}
    else:
        entries.remove(entry)
    texts = entry["texts"]
    texts.pop(tuple(argv), None)
    texts[tuple(argv)] = text
    while len(texts) > KEEP:
        texts.pop(next(iter(texts)))
    entries.insert(0, entry)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump({"entries": entries[:KEEP_KEYS]}, fh)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


# ----------------------------------------------------------------------------- the full run


def _help_request(root: "click.Group", argv: "Sequence[str]") -> "Optional[click.Command]":
    """The command ``argv`` asks for help on, or the ``plugins`` command asked for its
    listing; ``None`` for anything else (a container's arguments, unknown words)."""
    import click

    ctx = click.Context(root, info_name="runcore", **root.context_settings)
    help_names = set(ctx.help_option_names)
    by_flag = {}
    for param in root.params:
        if isinstance(param, click.Option):
            for flag in (*param.opts, *param.secondary_opts):
                by_flag[flag] = param
    command: click.Command = root
    path: "List[str]" = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in help_names:
            return command if i == len(argv) - 1 else None
        if path == ["plugins"] and token in PLUGINS_FLAGS:
            i += 1
            continue
        if token.startswith("-"):
            option = by_flag.get(token.split("=", 1)[0]) if command is root else None
            if option is None:
                return None
            i += 1 if (option.is_flag or option.count or "=" in token) else 2
            continue
        if not isinstance(command, click.Group):
            return None
        sub = command.get_command(ctx, token)
        if sub is None:
            return None
        command, i = sub, i + 1
        path.append(token)
    return command if path == ["plugins"] else None


def _installed(files: "Sequence[str]") -> bool:
    """Whether every file lies in a ``site-packages`` or ``dist-packages`` directory
    (always, with ``RUNCORE_HELP_CACHE=1``)."""
    if os.environ.get("RUNCORE_HELP_CACHE") == "1":
        return True
    for name in files:
        parts = os.path.normpath(name or "").split(os.sep)
        if "site-packages" not in parts and "dist-packages" not in parts:
            return False
    return True


def _regular_install(plugins: "PluginSet") -> bool:
    """Whether runcore and every loaded plugin live in a ``site-packages`` directory."""
    import runcore

    return _installed(
        [runcore.__file__ or ""]
        + [getattr(info.module, "__file__", None) or "" for info in plugins.registry.infos]
    )


def may_keep(argv: "Sequence[str]") -> bool:
    """Whether ``argv`` could be a help request worth keeping (cheap, before anything is
    built; :func:`replayable` decides)."""
    if not ({"-h", "--help", "plugins"} & set(argv)) or _file(dict(os.environ)) is None:
        return False
    import runcore

    return _installed([runcore.__file__ or ""])


def replayable(root: "click.Group", argv: "Sequence[str]", plugins: "PluginSet") -> bool:
    """Whether the output of ``argv`` may be kept (see the module docstring)."""
    if not may_keep(argv):
        return False
    from runcore.plugin import loader

    if plugins.problems or any(i.status == loader.FAILED for i in plugins.registry.infos):
        return False
    return _help_request(root, argv) is not None and _regular_install(plugins)


def capture(argv: "Sequence[str]", run: "Callable[[], Any]", keep: "Callable[[], bool]") -> "Any":
    """``run()`` with its stdout and stderr collected, then printed; the stdout text
    is kept for ``argv`` when ``run`` ended with status 0, wrote nothing to stderr and
    ``keep()`` (asked afterwards) agrees."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    status: "Any" = 1
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = run()
        status = result if isinstance(result, int) else 0
        return result
    finally:
        text = out.getvalue()
        sys.stdout.write(text)
        sys.stderr.write(err.getvalue())
        if status == 0 and text and not err.getvalue() and keep():
            store(argv, text)
