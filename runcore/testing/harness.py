"""Run the runcore CLI in-process with a chosen set of plugins."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import types
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

PluginLike = Union[types.ModuleType, object]


@dataclass
class _EntryPoint:
    """Stands in for an importlib.metadata entry point of an in-test plugin."""

    name: str
    obj: Any
    dist: Any = None

    @property
    def value(self) -> str:
        return getattr(self.obj, "__name__", type(self.obj).__name__)

    def load(self) -> Any:
        return self.obj


@dataclass
class _Dist:
    name: str
    version: str
    requires: List[str] = field(default_factory=list)


@dataclass
class CliResult:
    """What one in-process ``runcore`` invocation produced."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The one-line error (``runcore: ...`` without the prefix), or ``""``."""
        lines = [l for l in self.stderr.splitlines() if l.startswith("runcore: ")]
        return lines[-1][len("runcore: ") :] if lines else ""


@dataclass
class SpecResult:
    """The spec and, per path, the plugins that set it."""

    spec: Dict[str, Any]
    provenance: Dict[str, List[str]]

    def owners(self, path: str) -> List[str]:
        return self.provenance.get(path, [])


def isolated_environ(env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """This environment without runcore's and containerd's settings (``RUNCORE_*``,
    ``CONTAINERD_*``) and with no admin configuration (``RUNCORE_CONFIG=""``), then ``env``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RUNCORE_", "CONTAINERD_"))}
    environ["RUNCORE_CONFIG"] = ""
    environ.update(env or {})
    return environ


@contextlib.contextmanager
def _isolated_env(env: Optional[Dict[str, str]]) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        isolated = isolated_environ(env)
        os.environ.clear()
        os.environ.update(isolated)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _entry_points(plugins: Dict[str, PluginLike], versions: Dict[str, str]) -> List[_EntryPoint]:
    return [
        _EntryPoint(pid, obj, _Dist(f"runcore-{pid}", versions.get(pid, "0.0.0")))
        for pid, obj in sorted(plugins.items())
    ]


def run_cli(
    args: Sequence[str],
    plugins: Optional[Dict[str, PluginLike]] = None,
    env: Optional[Dict[str, str]] = None,
    config: Optional[str] = None,
    versions: Optional[Dict[str, str]] = None,
) -> CliResult:
    """Run ``runcore ARGS`` in this process with exactly ``plugins`` (id -> module/object).

    :param config: TOML text used as the admin configuration (``RUNCORE_CONFIG``).
    """
    from runcore.cli import plugin_set as ps
    from runcore.cli.main import main
    from runcore.plugin import loader

    env = dict(env or {})
    with tempfile.TemporaryDirectory(prefix="runcore-test-") as tmp:
        if config is not None:
            path = os.path.join(tmp, "config.toml")
            with open(path, "w") as fh:
                fh.write(config)
            env["RUNCORE_CONFIG"] = path
        env.setdefault("RUNCORE_CACHE_DIR", tmp)  # no flag index shared between tests
        out, err = io.StringIO(), io.StringIO()
        original = loader.discover
        loader.discover = lambda: _entry_points(plugins or {}, versions or {})  # type: ignore
        code = 0
        try:
            with (
                _isolated_env(env),
                contextlib.redirect_stdout(out),
                contextlib.redirect_stderr(err),
            ):
                ps.reset_plugin_set()
                try:
                    main(list(args))
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            loader.discover = original  # type: ignore
            ps.reset_plugin_set()
    return CliResult(code, out.getvalue(), err.getvalue())


def build_spec(
    flags: Sequence[str] = (),
    plugins: Optional[Dict[str, PluginLike]] = None,
    command: Sequence[str] = ("/bin/true",),
    env: Optional[Dict[str, str]] = None,
    config: Optional[str] = None,
) -> Tuple[CliResult, Optional[SpecResult]]:
    """``runcore spec --rootfs <empty dir> FLAGS`` twice (plain and ``--explain``).

    Returns the CLI result and, when it succeeded, the spec with its provenance.
    """
    with tempfile.TemporaryDirectory(prefix="runcore-rootfs-") as root:
        base = ["spec", "--rootfs", *flags]
        tail = [root, "test-id", *command]
        result = run_cli([*base, *tail], plugins, env, config)
        if result.exit_code != 0:
            return result, None
        explained = run_cli([*base, "--explain", *tail], plugins, env, config)
    spec = json.loads(result.stdout)
    provenance: Dict[str, List[str]] = {}
    for line in explained.stdout.splitlines():
        path, _, owners = line.partition("  ")
        provenance[path.strip()] = [o.strip() for o in owners.strip().split(",") if o.strip()]
    return result, SpecResult(spec, provenance)


class CliHarness:
    """Fixture object: ``runcore_cli.run(args, plugins={...})`` and ``.spec(flags, plugins=...)``."""

    def run(
        self, args: Sequence[str], plugins: Optional[Dict[str, PluginLike]] = None, **kwargs: Any
    ) -> CliResult:
        return run_cli(args, plugins, **kwargs)

    def spec(
        self,
        flags: Sequence[str] = (),
        plugins: Optional[Dict[str, PluginLike]] = None,
        **kwargs: Any,
    ) -> Tuple[CliResult, Optional[SpecResult]]:
        return build_spec(flags, plugins, **kwargs)
