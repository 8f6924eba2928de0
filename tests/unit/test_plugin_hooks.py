"""Hooks are called through pluggy, in the documented order, with the plugin named.

The registry under test is the real one (pluggy, built-ins, the CLI); plugins are plain
objects handed in as entry points.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, List

import pytest

from runcore import hookimpl
from runcore.context import RunContext
from runcore.errors import PluginFailed, UsageError
from runcore.plugin import loader, manager
from runcore.spec_editor import SpecEditor
from runcore.testing import run_cli

REPO = Path(__file__).resolve().parents[2]


class EntryPoint:
    def __init__(self, name: str, plugin: Any) -> None:
        self.name = self.value = name
        self.plugin = plugin

    def load(self) -> Any:
        return self.plugin


def registry(builtins: bool = False, **plugins: Any) -> manager.PluginRegistry:
    eps = [EntryPoint(name, plugin) for name, plugin in plugins.items()]
    return manager.build(loader.Policy(), entry_points=eps, builtins=builtins)


def test_order_is_builtins_then_plugins_by_id_whatever_the_discovery_order():
    calls: List[str] = []

    def plugin(name: str) -> Any:
        return SimpleNamespace(runcore_configure=lambda ctx: calls.append(name))

    reg = registry(builtins=True, zeta=plugin("zeta"), alpha=plugin("alpha"), mid=plugin("mid"))
    assert [i.id for i in reg.active()][-3:] == ["alpha", "mid", "zeta"]
    hook_order = [
        impl.plugin_name for impl in reversed(reg.pm.hook.runcore_configure.get_hookimpls())
    ]
    assert hook_order == [i.id for i in reg.active() if i.id in hook_order]
    assert hook_order[0] == "core.image" and hook_order[-3:] == ["alpha", "mid", "zeta"]
    reg.call_each("runcore_configure", ctx=RunContext(command="spec", plugins=reg))
    assert calls == ["alpha", "mid", "zeta"]


def test_each_call_is_attributed_to_its_plugin():
    def writer(value: str) -> Any:
        def runcore_spec_finish(spec: SpecEditor) -> None:
            spec.append("process.env", value)

        return SimpleNamespace(runcore_spec_finish=runcore_spec_finish)

    editor = SpecEditor({"process": {"env": []}})
    registry(b=writer("B=1"), a=writer("A=1")).call_each(
        "runcore_spec_finish", attribute=editor.attributed_to, spec=editor, ctx=None
    )
    assert editor.get("process.env") == ["A=1", "B=1"]
    assert [(c.owner, c.action) for c in editor.changes] == [("a", "append"), ("b", "append")]
    assert editor.owner == "default"


def test_firstresult_stops_at_the_first_plugin_in_call_order():
    called: List[str] = []

    def resolver(name: str, answer: Any) -> Any:
        def runcore_resolve_device(value: str) -> Any:
            called.append(name)
            return answer

        return SimpleNamespace(runcore_resolve_device=runcore_resolve_device)

    reg = registry(c=resolver("c", "from-c"), a=resolver("a", None), b=resolver("b", "from-b"))
    results = reg.call_each("runcore_resolve_device", value="x", ctx=None)
    assert results == [("b", "from-b")]
    assert called == ["a", "b"]  # c never runs
    assert reg.call_each("runcore_resolve_device", value="x", ctx=None)[0].plugin_id == "b"


@pytest.mark.parametrize("marker", ["tryfirst", "trylast", "wrapper", "hookwrapper"])
def test_ordering_markers_and_wrappers_are_refused_naming_the_plugin(marker):
    def runcore_spec_finish(spec: Any) -> Any:
        if marker in ("wrapper", "hookwrapper"):
            yield

    plugin = SimpleNamespace(runcore_spec_finish=hookimpl(**{marker: True})(runcore_spec_finish))
    reg = registry(pushy=plugin, fine=SimpleNamespace(runcore_spec_finish=lambda spec: None))
    info = reg.info("pushy")
    assert info is not None and info.status == loader.FAILED
    assert info.reason == (
        f"invalid plugin: PluginError: plugin 'pushy': runcore_spec_finish is marked {marker}, "
        "which runcore does not support (hooks run built-ins first, then plugins by id; "
        "pick the spec phase that fits instead)"
    )
    assert reg.pm.get_plugin("pushy") is None
    assert [i.id for i in reg.active()] == ["fine"]


def test_unexpected_exception_names_plugin_and_hook():
    def runcore_spec_finish(spec: Any) -> None:
        {}["foo"]

    reg = registry(x=SimpleNamespace(runcore_spec_finish=runcore_spec_finish))
    with pytest.raises(PluginFailed) as err:
        reg.call_each("runcore_spec_finish", spec=None, ctx=None)
    assert str(err.value) == "plugin 'x' failed in runcore_spec_finish: KeyError: 'foo'"
    assert isinstance(err.value.__cause__, KeyError)


def test_deliberate_errors_pass_unchanged():
    def runcore_configure(ctx: Any) -> None:
        raise UsageError("--x-flag: bad value")

    reg = registry(x=SimpleNamespace(runcore_configure=runcore_configure))
    with pytest.raises(UsageError) as err:
        reg.call_each("runcore_configure", ctx=None)
    assert type(err.value) is UsageError and str(err.value) == "--x-flag: bad value"


def test_on_error_reports_and_calls_the_next_plugin():
    seen: List[str] = []

    def fails(task: Any) -> None:
        raise UsageError("gone")

    reg = registry(
        a=SimpleNamespace(runcore_task_deleted=fails),
        b=SimpleNamespace(runcore_task_deleted=lambda task: seen.append(task)),
    )
    failures: List[PluginFailed] = []
    reg.call_each("runcore_task_deleted", on_error=failures.append, task="t", ctx=None)
    assert seen == ["t"]
    assert [str(f) for f in failures] == [
        "plugin 'a' failed in runcore_task_deleted: UsageError: gone"
    ]


def test_hook_called_from_inside_another_hook_is_not_misattributed():
    editor = SpecEditor({})

    def runcore_resolve_device(value: str) -> Any:
        editor.set("hostname", "inner")  # no attribution context for this hook
        return "ok"

    def runcore_spec_mounts(spec: SpecEditor, ctx: Any) -> None:
        ctx.plugins.call_each("runcore_resolve_device", value="v", ctx=ctx)

    reg = registry(
        a=SimpleNamespace(runcore_spec_mounts=runcore_spec_mounts),
        b=SimpleNamespace(runcore_resolve_device=runcore_resolve_device),
    )
    reg.call_each(
        "runcore_spec_mounts",
        attribute=editor.attributed_to,
        spec=editor,
        ctx=SimpleNamespace(plugins=reg),
    )
    assert editor.explain() == {"hostname": ["a"]}  # the caller's turn, not a stale one


GOOD_KEYERROR = SimpleNamespace(
    runcore_spec_mounts=lambda spec, ctx: {}["foo"],
)


def test_cli_reports_a_plugin_bug_as_one_line(tmp_path):
    result = run_cli(["spec", "--rootfs", str(tmp_path), "c1"], plugins={"x": GOOD_KEYERROR})
    assert result.exit_code == 1
    assert result.stderr == "runcore: plugin 'x' failed in runcore_spec_mounts: KeyError: 'foo'\n"
    assert result.stdout == ""


def test_cli_debug_adds_the_plugins_traceback(tmp_path):
    result = run_cli(
        ["--debug", "spec", "--rootfs", str(tmp_path), "c1"], plugins={"x": GOOD_KEYERROR}
    )
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "KeyError: 'foo'" in result.stderr
    assert result.stderr.endswith(
        "runcore: plugin 'x' failed in runcore_spec_mounts: KeyError: 'foo'\n"
    )


def test_cli_device_resolved_by_a_plugin_is_attributed_to_it(tmp_path):
    def runcore_resolve_device(value: str) -> Any:
        if value != "vendor.com/gpu=0":
            return None
        return lambda spec: spec.append(
            "linux.devices", {"path": "/dev/fake0", "type": "c", "major": 1, "minor": 3}
        )

    result = run_cli(
        ["spec", "--explain", "--rootfs", "--device", "vendor.com/gpu=0", str(tmp_path), "c1"],
        plugins={"gpu": SimpleNamespace(runcore_resolve_device=runcore_resolve_device)},
    )
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^linux\.devices\s+gpu$", result.stdout, re.M), result.stdout


def test_no_hand_written_loops_over_hook_implementations():
    """Hooks are called only through pluggy (PluginRegistry.call_each)."""
    pattern = re.compile(r"get_hookimpls|ordered_impls|\._hookimpls|impl\.function")
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in sorted(
            [*REPO.glob("runcore/**/*.py"), *REPO.glob("plugins/*/runcore_*/**/*.py")]
        )
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_cli_lists_a_plugin_with_a_refused_marker_as_failed_and_keeps_working(tmp_path):
    @hookimpl(tryfirst=True)
    def runcore_spec_finish(spec: Any) -> None:
        spec.set("hostname", "pushy")

    plugins = {"pushy": SimpleNamespace(runcore_spec_finish=runcore_spec_finish)}
    listing = run_cli(["plugins", "--json"], plugins=plugins)
    assert listing.exit_code == 0, listing.stderr
    (row,) = [r for r in json.loads(listing.stdout) if r["id"] == "pushy"]
    assert row["status"] == "failed"
    assert "plugin 'pushy': runcore_spec_finish is marked tryfirst" in row["reason"]
    spec = run_cli(["spec", "--rootfs", str(tmp_path), "c1"], plugins=plugins)
    assert spec.exit_code == 0, spec.stderr
    assert '"hostname": "pushy"' not in spec.stdout
