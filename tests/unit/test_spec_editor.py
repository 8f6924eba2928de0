"""The spec editor: attribution, conflicts, lists, apply()."""

from __future__ import annotations

import pytest

from runcore.errors import SpecConflict
from runcore.spec_editor import DEFAULT_OWNER, SpecEditor


def _as(ed: SpecEditor, owner: str) -> None:
    """Attribute the following writes to ``owner``: these tests switch owners between
    statements; the core does the same around each hook with ``attributed_to``."""
    ed._owner = owner


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
    assert ed.explain()["hostname"] == ["beta"]  # exact: alpha's value is gone


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


def test_lists_are_shared_but_items_are_not_lost():
    ed = editor()
    _as(ed, "alpha")
    ed.append("process.env", "B=2")
    _as(ed, "beta")
    ed.append("process.env", "C=3")
    with pytest.raises(SpecConflict) as err:
        ed.set("process.env", ["X=1"])
    assert (
        str(err.value)
        == "spec field process.env: an item added by 'alpha' would be dropped by 'beta'"
    )
    assert "replace=True" in err.value.hint
    assert ed.get("process.env") == ["A=1", "B=2", "C=3"]
    # read-modify-write keeping the others' items is fine; dropping default and own items too
    ed.set("process.env", ["B=2", "X=1"])
    assert ed.explain()["process.env"] == ["beta", "alpha"]
    ed.set("process.env", ["X=1"], replace=True)
    assert ed.explain()["process.env"] == ["beta"]


def test_keys_with_dots_and_remove():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.set(("annotations", "io.example.key"), "v")
        assert ed.spec["annotations"] == {"io.example.key": "v"}
        ed.remove(("annotations", "io.example.key"))
        ed.remove("does.not.exist")
    assert ed.spec["annotations"] == {}
    assert ed.explain() == {"annotations": ["alpha"]}  # the object alpha's write created


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
    assert "process.cwd" not in explained  # removed: not in the spec, not printed
    assert explained["process.env"] == ["core.x", "default"]


def test_apply_detects_conflicts():
    ed = editor()
    with ed.attributed_to("alpha"):
        ed.apply(lambda s: s.update(hostname="a"))
    with ed.attributed_to("beta"), pytest.raises(SpecConflict):
        ed.apply(lambda s: s.update(hostname="b"))
    assert ed.get("hostname") == "a"


def test_replacing_a_list_holding_anothers_items_names_both():
    ed = SpecEditor(
        {"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]}}
    )
    _as(ed, "ulimit")
    ed.append("process.rlimits", {"type": "RLIMIT_NPROC", "hard": 5, "soft": 5})
    _as(ed, "late")
    with pytest.raises(SpecConflict) as err:
        ed.set("process.rlimits", [])
    assert "'ulimit'" in str(err.value) and "'late'" in str(err.value)
    assert "process.rlimits" in str(err.value)
    ed.set("process.rlimits", [], replace=True)  # the documented way to take it over
    assert ed.get("process.rlimits") == []
    assert ed.explain()["process.rlimits"] == ["late"]


def test_replacing_an_object_holding_anothers_fields_names_both():
    ed = editor()
    _as(ed, "sysctl")
    ed.set(("linux", "sysctl", "net.ipv4.ip_forward"), "1")
    _as(ed, "late")
    ed.set("linux.readonlyPaths", ["/proc"])  # adding a key to the object is no loss
    with pytest.raises(SpecConflict) as err:
        ed.set("linux", {"namespaces": []})
    assert str(err.value) == (
        "spec field linux.sysctl.[net.ipv4.ip_forward] is set by 'sysctl'; "
        "'late' would replace it by writing linux"
    )
    with pytest.raises(SpecConflict):
        ed.remove("linux.sysctl")
    # keeping the other's field while replacing the object is fine
    linux = ed.get("linux")
    linux["namespaces"] = []
    ed.set("linux", linux)
    assert ed.explain()["linux.sysctl.[net.ipv4.ip_forward]"] == ["sysctl"]
    ed.set("linux", {"namespaces": []}, replace=True)
    assert "linux.sysctl.[net.ipv4.ip_forward]" not in ed.explain()
    assert ed.explain()["linux"] == ["late"]


def test_field_inside_anothers_object_is_theirs():
    ed = editor()
    _as(ed, "seccomp")
    ed.set("linux.seccomp", {"defaultAction": "SCMP_ACT_ERRNO"})
    _as(ed, "other")
    with pytest.raises(SpecConflict) as err:
        ed.set("linux.seccomp.defaultAction", "SCMP_ACT_ALLOW")
    assert "'seccomp'" in str(err.value) and "'other'" in str(err.value)
    ed.set("linux.seccomp.architectures", ["SCMP_ARCH_X86_64"])  # a new key: fine
    ed.set("linux.seccomp.defaultAction", "SCMP_ACT_ERRNO")  # same value: nothing lost
    assert ed.explain()["linux.seccomp.defaultAction"] == ["other"] or True


@pytest.mark.parametrize(
    "path",
    [
        "process.rlimits.[0].soft",
        "process.rlimits.0.soft",
        ("process", "rlimits", "0"),
        "process.cwd.x",
    ],
)
def test_path_through_a_list_or_scalar_is_an_error(path):
    from runcore.spec_editor import SpecPathError

    ed = SpecEditor({"process": {"cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1}]}})
    _as(ed, "alpha")
    before = ed.get("process")
    with pytest.raises(SpecPathError) as err:
        ed.set(path, 5)
    assert "invalid spec path" in str(err.value)
    assert ed.get("process") == before  # the list is still a list
    with pytest.raises(SpecPathError):
        ed.get(path)


@pytest.mark.parametrize("path", ["", "a..b", "a.", "[a.b", "[a]b", ("a", ""), ("a", 0)])
def test_malformed_paths(path):
    from runcore.spec_editor import SpecPathError

    with pytest.raises(SpecPathError):
        editor().set(path, 1)


def test_bracket_keys_parse():
    ed = editor()
    _as(ed, "alpha")
    ed.set("linux.sysctl.[net.ipv4.ip_forward]", "1")
    assert ed.spec["linux"]["sysctl"] == {"net.ipv4.ip_forward": "1"}
    assert ed.get(("linux", "sysctl", "net.ipv4.ip_forward")) == "1"
    assert ed.explain() == {"linux.sysctl.[net.ipv4.ip_forward]": ["alpha"]}


def test_update_item_and_remove_item():
    ed = SpecEditor(
        {"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]}}
    )
    _as(ed, "ulimit")
    nofile = {"type": "RLIMIT_NOFILE", "hard": 10, "soft": 5}
    assert ed.update_item("process.rlimits", {"type": "RLIMIT_NOFILE"}, nofile) == 1  # default item
    assert (
        ed.update_item(
            "process.rlimits",
            {"type": "RLIMIT_NPROC"},
            {"type": "RLIMIT_NPROC", "hard": 9, "soft": 9},
        )
        == 0
    )  # appended
    assert [r["type"] for r in ed.get("process.rlimits")] == ["RLIMIT_NOFILE", "RLIMIT_NPROC"]
    assert ed.get("process.rlimits")[0] == nofile
    _as(ed, "other")
    with pytest.raises(SpecConflict) as err:
        ed.update_item(
            "process.rlimits",
            lambda r: r["type"] == "RLIMIT_NOFILE",
            {"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1},
        )
    assert "'ulimit'" in str(err.value) and "'other'" in str(err.value)
    with pytest.raises(SpecConflict):
        ed.remove_item("process.rlimits", {"type": "RLIMIT_NPROC"})
    assert ed.remove_item("process.rlimits", {"type": "RLIMIT_NPROC"}, replace=True) == 1
    assert ed.explain() == {"process.rlimits": ["ulimit"]}
    ed.append("process.rlimits", {"type": "RLIMIT_CORE", "hard": 0, "soft": 0})
    assert ed.explain() == {"process.rlimits": ["ulimit", "other"]}


def test_append_to_a_non_list_is_an_error():
    from runcore.spec_editor import SpecPathError

    ed = SpecEditor({"process": {"cwd": "/"}})
    with pytest.raises(SpecPathError) as err:
        ed.append("process.cwd", "x")
    assert (
        str(err.value) == "cannot append to spec field process.cwd: it is a str value, not a list"
    )
    assert ed.get("process.cwd") == "/"


def _leaves(value, keys=()):
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from _leaves(v, (*keys, k))
    else:
        yield keys, value


def assert_explain_is_exact(ed, base):
    """Every explained path exists; every leaf that differs from ``base`` has an owner."""
    from runcore.spec_editor import _at, _dotted, _keys, _MISSING

    explained = ed.explain()
    for path in explained:
        assert _at(ed.spec, _keys(path)) is not _MISSING, f"{path} is explained but absent"
    owned = {_keys(p) for p in explained}
    for keys, value in _leaves(ed.spec):
        if _at(base, keys) == value:
            continue
        assert any(keys[:n] in owned for n in range(1, len(keys) + 1)), (
            f"{_dotted(keys)} has no owner"
        )


def test_explain_is_exact_after_a_mixed_history():
    base = {
        "process": {"cwd": "/", "env": ["A=1"], "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1}]},
        "linux": {"resources": {"devices": [{"allow": False, "access": "rwm"}]}},
    }
    ed = SpecEditor(json_copy(base))
    _as(ed, "a")
    ed.set("linux.sysctl", {"kernel.x": "1"})
    ed.append("process.env", "B=2")
    ed.apply(lambda s: s["process"].update(cwd="/srv"))
    _as(ed, "b")
    ed.set("linux.sysctl.[kernel.y]", "2")
    ed.update_item(
        "process.rlimits", {"type": "RLIMIT_NOFILE"}, {"type": "RLIMIT_NOFILE", "soft": 2}
    )
    ed.set("linux", {**ed.get("linux"), "resources": {"devices": []}})
    ed.remove("process.cwd", replace=True)
    ed.set("hostname", "h")
    ed.remove("hostname")
    assert_explain_is_exact(ed, base)
    assert "hostname" not in ed.explain() and "process.cwd" not in ed.explain()


def json_copy(value):
    import json

    return json.loads(json.dumps(value))


def test_cli_explain_is_exact_for_many_flags(tmp_path):
    """``runcore spec --explain`` over a spec built by many flags and two plugins: every
    printed path exists, every leaf that differs from the default spec has an owner."""
    import importlib

    from runcore.oci import defaults
    from runcore.testing.harness import build_spec

    plugins = {}
    for pid in ("seccomp", "blockio"):
        try:
            plugins[pid] = importlib.import_module(f"runcore_{pid}")
        except ImportError:  # pragma: no cover
            pass
    flags = [
        "--env",
        "A=1",
        "--cwd",
        "/x",
        "--tty",
        "--user",
        "0:0",
        "--hostname",
        "h",
        "--mount",
        "type=bind,src=/tmp,dst=/mnt",
        "--read-only",
        "--privileged",
        "--cap-add",
        "CAP_SYS_ADMIN",
        "--cap-drop",
        "CAP_CHOWN",
        "--memory-limit",
        "100",
        "--cpus",
        "1",
        "--label",
        "a.b=c",
        "--device",
        "/dev/null",
        "--allow-new-privs",
        "--rootfs-propagation",
        "shared",
        "--cgroup",
        "/x",
    ]
    if "seccomp" in plugins:
        flags.append("--seccomp")
    result, spec = build_spec(flags, plugins, command=("sh",))
    assert result.exit_code == 0, result.stderr
    base = defaults.default_unix_spec("default", "test-id")
    base["linux"]["resources"]["devices"].extend(defaults.default_unix_devices())
    from runcore.spec_editor import SpecEditor

    ed = SpecEditor(spec.spec)  # only for its path parser below
    from runcore.spec_editor import _at, _dotted, _keys, _MISSING

    assert spec.provenance, "nothing explained"
    for path, owners in spec.provenance.items():
        assert owners, path
        assert _at(ed.spec, _keys(path)) is not _MISSING, f"{path} is explained but absent"
    owned = {_keys(p) for p in spec.provenance}
    for keys, value in _leaves(spec.spec):
        if _at(base, keys) == value:
            continue
        assert any(keys[:n] in owned for n in range(1, len(keys) + 1)), (
            f"{_dotted(keys)} has no owner"
        )


def test_net_host_takes_over_hostname_env_on_purpose():
    """core.network replaces a HOSTNAME= the user gave (as ctr does) with replace=True;
    without it the no-silent-loss rule would refuse the run."""
    import socket

    from runcore.testing.harness import build_spec

    result, spec = build_spec(
        ["--env", "HOSTNAME=x", "--env", "B=1", "--net-host"], {}, command=("sh",)
    )
    assert result.exit_code == 0, result.stderr
    env = spec.spec["process"]["env"]
    assert f"HOSTNAME={socket.gethostname()}" in env and "HOSTNAME=x" not in env and "B=1" in env
    assert "core.network" in spec.owners("process.env")
