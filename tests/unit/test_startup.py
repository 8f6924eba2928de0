"""Start-up cost: what each command imports is pinned, so that it cannot grow unnoticed.

* The light commands (``--help``, ``--version``, ``plugins``, ``run --help``, ...) never
  import grpc, protobuf, ``importlib.metadata`` (the plugin cache answers),
  ``packaging`` (requirement checks are cached) or runcore's containerd, images and
  task code.
* Every module a command imports beyond its unavoidable dependencies (click and pluggy;
  for ``run`` also grpc and protobuf) must be on an allowed list below. A change that
  makes a command import something new fails here with the module's name: import it
  lazily where it is used, or - when the command really needs it - add it to the list.

Modules of installed plugins (``runcore_*``) are the plugins' own business, except
that they must not pull in the forbidden heavy modules either.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from typing import Iterable, List

import pytest

PROBE = r"""
import sys
import click, pluggy
if sys.argv[1] == "run":
    import grpc, google.protobuf.message, google.protobuf.message_factory
before = set(sys.modules)
sys.argv = ["runcore"] + sys.argv[2:]
from runcore.cli.main import main
try:
    main()
except SystemExit:
    pass
new = sorted(m for m in sys.modules if m not in before)
sys.stderr.write("NEW=" + ",".join(new) + "\n")
"""

#: Never imported by a light command (nor by its plugins).
FORBIDDEN_LIGHT = [
    "grpc",
    "grpc.*",
    "google.*",
    "asyncio",
    "asyncio.*",
    "importlib.metadata*",
    "importlib_metadata*",
    "email",
    "email.*",
    "packaging",
    "packaging.*",
    "zipfile",
    "csv",
    "tempfile",
    "yaml",
    "yaml.*",
    "runcore._pb*",
    "runcore.containerd.*",
    "runcore.images.*",
    "runcore.task*",
    "runcore.oci*",
    "runcore.runner",
]

#: What light commands may import besides click's and pluggy's own imports.
ALLOWED_LIGHT = [
    # runcore's start-up: the CLI, the plugin machinery, the built-in plugins
    "runcore",
    "runcore.api",
    "runcore.cli",
    "runcore.cli.*",
    "runcore.plugin",
    "runcore.plugin.*",
    "runcore.builtin",
    "runcore.builtin.*",
    "runcore.config",
    "runcore.context",
    "runcore.errors",
    "runcore.hookspecs",
    "runcore.record",
    "runcore.spec_editor",
    "runcore.containerd",
    "runcore.runtime_options",
    # what the caches depend on (installed distributions, configuration files)
    "runcore.fingerprint",
    # option value types with Go ranges, and the Go texts their errors use
    "runcore.options_types",
    "runcore.gocompat",
    "runcore.gocompat.strconv",
    "runcore.gocompat.text",
    # standard library
    "json",
    "json.*",
    "_json",
    "signal",
    "contextvars",
    "_contextvars",
    "dataclasses",
    "copy",
    "zlib",
    "shutil",
    "bz2",
    "_bz2",
    "lzma",
    "_lzma",
    "_compression",
    "fnmatch",
    "locale",
    "_locale",
    "textwrap",
    "click._textwrap",
    "pathlib",
    "ntpath",
    "urllib",
    "urllib.parse",
    "ipaddress",
]

#: ``run`` (up to connecting) may import these too, besides grpc's and protobuf's own.
ALLOWED_RUN = ALLOWED_LIGHT + [
    "google.*",
    "grpc.*",
    "runcore.containerd.client",
    "runcore.containerd._rpc",
    "runcore.containerd.content",
    "runcore.containerd.leases",
    "runcore.containerd.pb",
    "runcore.runner",
    "runcore.images",
    "runcore.oci",
    "runcore.oci.*",
    "runcore.gocompat",
    "runcore.gocompat.*",
    "runcore.task",
    "runcore.task.*",
    "runcore.rootfs_mount",
    "runcore.runtime_options",
    # standard library
    "hashlib",
    "_hashlib",
    "_blake2",
    "_sha512",
    "_sha256",
    "_sha1",
    "_md5",
    "random",
    "_random",
    "bisect",
    "_bisect",
    "decimal",
    "_decimal",
    "_pydecimal",
    "numbers",
    "pickle",
    "_pickle",
    "_compat_pickle",
    "queue",
    "_queue",
    "calendar",
    "termios",
    "encodings.*",
    "tempfile",
    "contextvars",
    "_contextvars",
]

#: Never imported by ``run``: discovery and requirement checks come from the cache, and
#: archive reading / importing is not what ``run`` does.
FORBIDDEN_RUN = [
    "importlib.metadata*",
    "importlib_metadata*",
    "email",
    "email.*",
    "packaging",
    "packaging.*",
    "zipfile",
    "csv",
    "tarfile",
    "gzip",
    "runcore.images.archive",
    "runcore.images.importer",
    "runcore._pb.*_pb2_grpc",
    "runcore.containerd.pb.*",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    """A plugin cache of the probes' own (the first probe fills it)."""
    return str(tmp_path_factory.mktemp("plugin-cache"))


def _imports(kind: str, args: List[str], cache_dir: str) -> List[str]:
    """Modules the command imports, measured with a warm plugin cache (as after the
    first command following an install)."""
    env = dict(os.environ, RUNCORE_CACHE_DIR=cache_dir)
    env.pop("RUNCORE_NO_CACHE", None)
    for _ in range(2):  # the first run may fill the cache
        r = subprocess.run(
            [sys.executable, "-c", PROBE, kind, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    line = [l for l in r.stderr.splitlines() if l.startswith("NEW=")]
    assert line, r.stderr
    return [m for m in line[0][4:].split(",") if m]


def _matching(modules: Iterable[str], patterns: Iterable[str]) -> List[str]:
    patterns = list(patterns)
    return [m for m in modules if any(fnmatch.fnmatchcase(m, p) for p in patterns)]


def _unlisted(modules: Iterable[str], allowed: Iterable[str]) -> List[str]:
    allowed = list(allowed)
    return [
        m
        for m in modules
        if not m.startswith("runcore_") and not any(fnmatch.fnmatchcase(m, p) for p in allowed)
    ]


LIGHT = [
    ["--help"],
    ["--version"],
    ["plugins"],
    ["plugins", "--json"],
    ["run", "--help"],
    ["create", "--help"],
    ["spec", "--help"],
    ["images", "--help"],
]


@pytest.mark.parametrize("args", LIGHT, ids=" ".join)
def test_light_commands_import_nothing_heavy(args, cache_dir):
    modules = _imports("light", args, cache_dir)
    assert "runcore.cli.main" in modules  # the probe saw the command's imports
    assert _matching(modules, FORBIDDEN_LIGHT) == [], f"{args} imported heavy modules"
    assert _unlisted(modules, ALLOWED_LIGHT) == [], (
        f"{args} imports modules that are not on ALLOWED_LIGHT (import them lazily, or "
        "extend the list in tests/unit/test_startup.py if the command needs them)"
    )


def test_run_imports_only_what_it_uses(cache_dir):
    """``run`` up to connecting (the socket does not exist, so it stops there): the
    client, spec and task code, but no discovery, packaging or archive code."""
    modules = _imports(
        "run",
        ["--address", "/nonexistent.sock", "--connect-timeout", "100ms", "run", "img", "id"],
        cache_dir,
    )
    assert "runcore.containerd.client" in modules
    assert _matching(modules, FORBIDDEN_RUN) == []
    assert _unlisted(modules, ALLOWED_RUN) == [], (
        "run imports modules that are not on ALLOWED_RUN (import them lazily, or extend "
        "the list in tests/unit/test_startup.py if run needs them)"
    )


def test_probe_can_see_grpc(cache_dir):
    """The probe itself works: a command that does connect imports grpc."""
    modules = _imports(
        "light", ["--address", "/nonexistent.sock", "--connect-timeout", "100ms", "ls"], cache_dir
    )
    assert "grpc" in modules


def test_allow_list_catches_a_new_import():
    """The check fails for a module that is not listed (it can fail)."""
    assert _unlisted(["runcore.cli.main", "http.client"], ALLOWED_LIGHT) == ["http.client"]
    assert _matching(["runcore.cli.main", "importlib.metadata._meta"], FORBIDDEN_LIGHT) == [
        "importlib.metadata._meta"
    ]


def test_process_entry_flushes_and_exits_with_the_status(tmp_path):
    """``runcore`` ends through os._exit (no grpc channel shutdown) and still delivers
    all output and the exit status: a usage error, and a plugin listing through a pipe."""
    r = subprocess.run(
        [sys.executable, "-m", "runcore", "--no-such-flag"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert r.stderr.startswith("runcore: ") and "no-such-flag" in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "runcore", "plugins", "--json", "--builtin"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    import json

    assert any(p["id"] == "core.process" for p in json.loads(r.stdout))


def test_process_entry_runs_atexit_handlers(tmp_path):
    """What the interpreter's normal exit does still happens: atexit handlers run."""
    marker = tmp_path / "ran"
    code = (
        "import atexit, sys; path = sys.argv[1];"
        "atexit.register(lambda: open(path, 'w').write('x'));"
        "sys.argv = ['runcore', '--version'];"
        "from runcore.cli.main import entry; entry()"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(marker)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("runcore ")
    assert marker.read_text() == "x"
