"""Plugins' requirements on runcore and the admin's `required` list: PEP 508, parsed by
`packaging.requirements`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from runcore.config import split_requirement
from runcore.errors import UsageError
from runcore.plugin import loader


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        (["runcore>=0.1,<1"], "<1,>=0.1"),
        (["RunCore (>=0.1)"], ">=0.1"),
        (["click>=8", "runcore[all]~=0.1; python_version >= '3'"], "~=0.1"),
        (["runcore>=9; extra == 'test'", "runcore>=0.1"], ">=0.1"),  # extras are not the plugin's
        (["click>=8"], ""),
        ([], ""),
    ],
)
def test_runcore_requirement(requires, expected):
    assert loader.runcore_requirement(SimpleNamespace(requires=requires)) == expected


class EntryPoint:
    name = value = "odd"
    imported = False

    def __init__(self, requires):
        self.dist = SimpleNamespace(name="runcore-odd", version="1.0", requires=requires)

    def load(self):
        EntryPoint.imported = True


def test_malformed_requirement_fails_the_plugin_without_importing_it():
    (info,) = loader.load(loader.Policy(), [EntryPoint(["runcore >= >= 1"])])
    assert info.status == loader.FAILED
    assert info.reason.startswith("bad runcore requirement: InvalidRequirement: ")
    assert not EntryPoint.imported


def test_disabled_plugin_still_shows_its_requirement():
    (info,) = loader.load(loader.Policy(blocked_cli=["odd"]), [EntryPoint(["runcore<1"])])
    assert info.status == loader.DISABLED and info.requires_runcore == "<1"


def test_required_plugin_text():
    assert split_requirement("seccomp>=0.1", "f.toml") == ("seccomp", ">=0.1")
    assert split_requirement("seccomp", "f.toml") == ("seccomp", "")
    with pytest.raises(UsageError) as err:
        split_requirement("seccomp>=>=1", "/etc/runcore/config.toml")
    assert str(err.value).startswith(
        "invalid configuration /etc/runcore/config.toml: plugins.required: "
    )
