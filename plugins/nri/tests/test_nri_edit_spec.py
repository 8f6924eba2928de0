"""runcore.api.edit_spec: the CLI's spec phases over a spec made elsewhere."""

from __future__ import annotations

import types

import pytest

from runcore.api import PluginError, RunContext, edit_spec, hookimpl


class EntryPoint:
    """Just enough of importlib.metadata.EntryPoint for the loader."""

    def __init__(self, name, module):
        self.name, self.value, self.module, self.dist = name, name, module, None

    def load(self):
        return self.module


def plugins_with(**modules):
    from runcore.plugin import loader, manager

    return manager.build(
        loader.Policy(), entry_points=[EntryPoint(k, v) for k, v in modules.items()]
    )


def ctx_for(plugins, **options):
    return RunContext(
        command="create",
        options=options,
        sources={k: "annotation" for k in options},
        plugins=plugins,
    )


def spec():
    return {
        "process": {"args": ["sh"], "env": ["PATH=/bin"]},
        "annotations": {},
        "linux": {"resources": {"cpu": {"shares": 2}}, "namespaces": [], "devices": []},
    }


def test_phases_run_over_the_given_spec_and_record_who_wrote_what():
    plugins = plugins_with()
    given = spec()
    editor = edit_spec(given, ctx_for(plugins, memory_limit=1 << 26, cpu_shares=0))
    assert given == spec()  # the input is not changed
    assert editor.spec["linux"]["resources"] == {"cpu": {"shares": 2}, "memory": {"limit": 1 << 26}}
    assert editor.explain()["linux.resources.memory.limit"] == ["core.resources"]
    assert editor.spec["process"] == {"args": ["sh"], "env": ["PATH=/bin"]}


def test_a_hook_that_raises_is_named():
    crash = types.SimpleNamespace(runcore_spec_mounts=hookimpl(lambda spec, ctx: 1 / 0))
    with pytest.raises(PluginError) as err:
        edit_spec(spec(), ctx_for(plugins_with(crashy=crash)))
    assert (
        str(err.value)
        == "plugin 'crashy' failed in runcore_spec_mounts: ZeroDivisionError: division by zero"
    )


def test_configure_errors_are_the_cli_errors():
    from runcore.api import UsageError

    with pytest.raises(UsageError) as err:
        edit_spec(spec(), ctx_for(plugins_with(), cpus=1.0, cpu_quota=5))
    assert "cpus and quota/period should be used separately" in str(err.value)
