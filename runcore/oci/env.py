"""Environment handling: containerd's replaceOrAppendEnvValues, WithEnv and WithEnvFile."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from runcore import gocompat as _go
from .errors import EnvFileError
from .spec import process


def replace_or_append(
    defaults: Optional[Sequence[str]], overrides: Optional[Sequence[str]]
) -> List[str]:
    """Merge ``overrides`` into ``defaults`` exactly like replaceOrAppendEnvValues (§7.1); returns a new list."""
    results: List[Optional[str]] = []
    cache: Dict[str, int] = {}
    for i, entry in enumerate(defaults or ()):
        key = entry.split("=", 1)[0]
        results.append(entry)
        cache[key] = i  # duplicate keys: the last position wins
    for value in overrides or ():
        key, sep, _ = value.partition("=")
        if not sep:
            # KEY without '=': unset a key of `defaults`, never one appended in this pass.
            if key in cache:
                results[cache[key]] = ""
            continue
        if key in cache:
            results[cache[key]] = value
        else:
            results.append(value)
    return [r for r in results if r != ""]


def with_env(spec: Dict[str, Any], values: Sequence[str]) -> None:
    """Merge ``values`` into process.env (oci.WithEnv); no-op for an empty list."""
    if len(values) > 0:
        proc = process(spec)
        proc["env"] = replace_or_append(proc.get("env"), values)


def parse_env_file(path: str) -> List[str]:
    """Every line of ``path`` as Go's bufio.Scanner yields it (raw: no trimming, no comments, lines without '=' kept).

    Lines without '=' (blank ones included) are dropped later by the merge
    (:func:`with_env`), as in ctr. One CR right before LF (or at EOF) is removed,
    any other CR is kept. Errors: ``open <path>: <errno text>``,
    ``read <path>: is a directory``, ``bufio.Scanner: token too long``.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except IsADirectoryError as exc:
        raise EnvFileError(_go.path_error("read", path, exc)) from None
    except OSError as exc:
        raise EnvFileError(_go.path_error("open", path, exc)) from None
    try:
        return _go.scan_lines(data)
    except _go.ScannerTooLong as exc:
        raise EnvFileError(str(exc)) from None


def with_env_file(spec: Dict[str, Any], path: str) -> None:
    """Read ``path`` and merge its lines into process.env (oci.WithEnvFile)."""
    with_env(spec, parse_env_file(path))
