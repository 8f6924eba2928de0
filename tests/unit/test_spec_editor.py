"""The spec editor: attribution, conflicts, lists, apply()."""

from __future__ import annotations

import pytest

from runcore.errors import SpecConflict
from runcore.spec_editor import DEFAULT_OWNER, SpecEditor


def editor(**spec):
    return SpecEditor({"process": {"cwd": "/", "env": ["A=1"]}, **spec})


def test_set_records_owner_and_get_returns_copy():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.set("linux.resources.pids.limit", 10)
    assert ed.get("linux.resources.pids.limit") == 10
    copy = ed.get("process")
    copy["cwd"] = "/changed"
    assert ed.get("process.cwd") == "/"
    assert ed.explain() == {"linux.resources.pids.limit": ["alpha"]}


def test_attribution_nests_and_is_restored_even_on_error():
    ed = editor()
    assert ed.owner == DEFAULT_OWNER
    with ed.attributed_to("alpha"):
        with ed.attributed_to("beta"):
            ed.set("hostname", "b")
        ed.set("domainname", "a")
        with pytest.raises(RuntimeError), ed.attributed_to("gamma"):
            raise RuntimeError("boom")
        assert ed.owner == "alpha"
    assert ed.owner == DEFAULT_OWNER
    assert ed.explain() == {"hostname": ["beta"], "domainname": ["alpha"]}
    with pytest.raises(AttributeError):
        ed.owner = "nobody"  # attribution goes through attributed_to only


def test_two_plugins_on_one_scalar_is_an_error_naming_both():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.set("hostname", "a")
    with ed.attributed_to("beta"):
        with pytest.raises(SpecConflict) as err:
            ed.set("hostname", "b")
        assert str(err.value) == "spec field hostname is set by both 'alpha' and 'beta'"
        ed.set("hostname", "b", replace=True)
    assert ed.get("hostname") == "b"
    assert ed.explain()["hostname"] == ["alpha", "beta"]


def test_whole_object_conflicts_too():
    ed = editor()
    with ed.attributed_to("seccomp"):
        ed.set("linux.seccomp", {"defaultAction": "SCMP_ACT_ERRNO"})
    with ed.attributed_to("other"), pytest.raises(SpecConflict):
        ed.set("linux.seccomp", {"defaultAction": "SCMP_ACT_ALLOW"})


def test_defaults_and_same_owner_may_be_overwritten():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.set("process.cwd", "/work")  # default value: nobody owns it
        ed.set("process.cwd", "/tmp")  # same owner again
    assert ed.get("process.cwd") == "/tmp"


def test_lists_are_shared():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.append("process.env", "B=2")
    with ed.attributed_to("beta"):
        ed.append("process.env", "C=3")
        ed.set("process.env", ["X=1"])
    assert ed.get("process.env") == ["X=1"]
    assert ed.explain()["process.env"] == ["alpha (append)", "beta (append)", "beta"]


def test_keys_with_dots_and_remove():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.set(("annotations", "io.example.key"), "v")
        assert ed.spec["annotations"] == {"io.example.key": "v"}
        ed.remove(("annotations", "io.example.key"))
        ed.remove("does.not.exist")
    assert ed.spec["annotations"] == {}
    assert "annotations.[io.example.key]" in ed.explain()


def test_apply_attributes_each_changed_leaf():
    def option(spec):
        spec["process"]["cwd"] = "/srv"
        spec["process"]["env"].append("B=2")
        spec.setdefault("linux", {})["resources"] = {"cpu": {"shares": 512, "quota": 1000}}
        del spec["process"]["cwd"]

    ed = editor()
    with ed.attributed_to("core.x"):
        ed.apply(option)
    assert ed.spec == {
        "process": {"env": ["A=1", "B=2"]},
        "linux": {"resources": {"cpu": {"shares": 512, "quota": 1000}}},
    }
    explained = ed.explain()
    assert explained["linux.resources.cpu.shares"] == ["core.x"]
    assert explained["process.cwd"] == ["core.x (remove)"]
    assert explained["process.env"] == ["core.x"]


def test_apply_detects_conflicts():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.apply(lambda s: s.update(hostname="a"))
    with ed.attributed_to("beta"), pytest.raises(SpecConflict):
        ed.apply(lambda s: s.update(hostname="b"))
    assert ed.get("hostname") == "a"
