"""The reserved ctr flags: one declarative table, and each first-party plugin declares
exactly the shape the table says (so the stand-in, used while the plugin is missing,
parses the command line the same way)."""

from __future__ import annotations

import pytest

from runcore.cli.plugin_set import PluginSet
from runcore.plugin import loader
from runcore.plugin.options import FLAG, MULTIPLE, RESERVED_FLAGS, option_kind

FIRST_PARTY = sorted({r.plugin_id for r in RESERVED_FLAGS})


def _installed(plugin_id: str) -> bool:
    return any(ep.name == plugin_id for ep in loader.discover())


def plugin_set(*argv: str) -> PluginSet:
    return PluginSet(list(argv), environ={"RUNCORE_CONFIG": ""})


def test_the_table_is_well_formed():
    flags = [r.flag for r in RESERVED_FLAGS]
    assert len(flags) == len(set(flags))
    assert all(r.flag.startswith("--") for r in RESERVED_FLAGS)
    assert {r.kind for r in RESERVED_FLAGS} <= {FLAG, "value", MULTIPLE}


@pytest.mark.parametrize("plugin_id", FIRST_PARTY)
@pytest.mark.parametrize("command", ["run", "create", "spec"])
def test_first_party_plugin_declares_exactly_the_reserved_shape(plugin_id, command):
    if not _installed(plugin_id):
        pytest.skip(f"runcore-{plugin_id} is not installed")
    registrar = plugin_set().options(command)
    for reserved in (r for r in RESERVED_FLAGS if r.plugin_id == plugin_id):
        registered = registrar.by_flag.get(reserved.flag)
        if registered is None or registered.plugin_id == "core":
            # a plugin may leave a flag out for a command (cni: run only) -> stand-in
            assert registered is not None and registered.option.hidden
            continue
        assert registered.plugin_id == plugin_id
        assert option_kind(registered.option) == reserved.kind, reserved.flag


@pytest.mark.parametrize("plugin_id", FIRST_PARTY)
def test_stand_ins_have_the_reserved_shape_and_name_the_plugin(plugin_id):
    registrar = plugin_set("-p", f"no:{plugin_id}").options("run")
    for reserved in (r for r in RESERVED_FLAGS if r.plugin_id == plugin_id):
        stand_in = registrar.by_flag[reserved.flag]
        assert stand_in.plugin_id == "core" and stand_in.option.hidden
        assert option_kind(stand_in.option) == reserved.kind, reserved.flag
