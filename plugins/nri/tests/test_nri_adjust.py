"""Spec differences as NRI v0.6.1 adjustments; annotations as options (no containerd)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runcore_nri import adjust
from runcore_nri._pb.nri.v1alpha1 import api_pb2
from runcore_nri.service import Decision, PluginService, Refused
from runcore_nri.spec import spec_from_container


def container():
    c = api_pb2.Container(
        id="cid",
        name="app",
        args=["sleep", "1"],
        env=["PATH=/bin", "A=1"],
        annotations={"io.kubernetes.cri.container-name": "app"},
    )
    c.mounts.add(destination="/proc", type="proc", source="proc", options=["nosuid"])
    c.hooks.prestart.add(path="/bin/pre")
    c.linux.devices.add(path="/dev/fuse", type="c", major=10, minor=229)
    c.linux.resources.cpu.shares.value = 2
    c.linux.resources.memory.limit.value = 1 << 30
    c.linux.cgroups_path = "/k8s.io/cid"
    c.linux.namespaces.add(type="pid")
    c.linux.oom_score_adj.value = 1000
    return c


def owners(path):
    return ["p"]


def test_nri_view_as_spec():
    spec = spec_from_container(container())
    assert spec["process"] == {
        "args": ["sleep", "1"],
        "env": ["PATH=/bin", "A=1"],
        "oomScoreAdj": 1000,
    }
    assert spec["hooks"] == {"prestart": [{"path": "/bin/pre"}]}
    assert spec["linux"]["resources"] == {"cpu": {"shares": 2}, "memory": {"limit": 1 << 30}}
    assert spec["linux"]["namespaces"] == [{"type": "pid"}]


def test_expressible_changes_become_the_adjustment():
    old = spec_from_container(container())
    new = spec_from_container(container())
    new["process"]["env"] = ["PATH=/usr/bin", "A=1", "B=2"]
    new["annotations"]["x.y/z"] = "1"
    del new["annotations"]["io.kubernetes.cri.container-name"]
    new["mounts"].append(
        {"destination": "/data", "type": "bind", "source": "/d", "options": ["rbind"]}
    )
    new["hooks"]["prestart"].append({"path": "/bin/more", "args": ["more"], "timeout": 5})
    new["hooks"]["poststop"] = [{"path": "/bin/post"}]
    new["linux"]["devices"].append({"path": "/dev/null", "type": "c", "major": 1, "minor": 3})
    new["linux"]["resources"]["devices"] = [
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}
    ]
    new["linux"]["resources"]["memory"]["limit"] = 1 << 26
    new["linux"]["resources"]["cpu"].update(shares=512, quota=5000, cpus="0")
    new["linux"]["cgroupsPath"] = "/elsewhere"
    new["linux"]["intelRdt"] = {"closID": "gold"}
    new["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 5}]
    result = adjust.diff(old, new, owners)
    assert result.refused == [] and result.dropped == []
    msg = adjust.to_message(result.adjustment, api_pb2)
    assert dict(msg.annotations) == {"x.y/z": "1", "-io.kubernetes.cri.container-name": ""}
    assert [(e.key, e.value) for e in msg.env] == [("PATH", "/usr/bin"), ("B", "2")]
    assert [m.destination for m in msg.mounts] == ["/data"]
    assert [(h.path, h.timeout.value) for h in msg.hooks.prestart] == [("/bin/more", 5)]
    assert [h.path for h in msg.hooks.poststop] == ["/bin/post"]
    assert [d.path for d in msg.linux.devices] == ["/dev/null"]
    res = msg.linux.resources
    assert res.memory.limit.value == 1 << 26 and res.cpu.shares.value == 512
    assert res.cpu.quota.value == 5000 and res.cpu.cpus == "0" and not res.cpu.HasField("period")
    assert res.rdt_class.value == "gold" and msg.linux.cgroups_path == "/elsewhere"
    assert [(r.type, r.hard, r.soft) for r in msg.rlimits] == [("RLIMIT_NOFILE", 10, 5)]


@pytest.mark.parametrize(
    "change, path",
    [
        (lambda s: s["process"]["env"].remove("A=1"), "process.env"),
        (lambda s: s["mounts"].clear(), "mounts"),
        (lambda s: s["hooks"]["prestart"].clear(), "hooks.prestart"),
        (lambda s: s["linux"]["devices"].clear(), "linux.devices"),
        (lambda s: s["process"].update(args=["other"]), "process.args"),
        (lambda s: s["process"].update(oomScoreAdj=0), "process.oomScoreAdj"),
        (lambda s: s["linux"].update(seccomp={"defaultAction": "SCMP_ACT_ERRNO"}), "linux.seccomp"),
        (lambda s: s["linux"]["namespaces"].append({"type": "user"}), "linux.namespaces"),
        (lambda s: s["linux"]["resources"]["memory"].update(swap=5), "linux.resources.memory.swap"),
        (lambda s: s["linux"]["resources"].update(pids={"limit": 5}), "linux.resources.pids"),
        (
            lambda s: s["linux"]["resources"].update(
                hugepageLimits=[{"pageSize": "2MB", "limit": 1}]
            ),
            "linux.resources.hugepageLimits",
        ),
        (
            lambda s: s["linux"]["resources"].update(devices=[{"allow": True, "access": "rwm"}]),
            "linux.resources.devices",
        ),
        (
            lambda s: s["linux"]["resources"].update(blockIO={"weight": 10}),
            "linux.resources.blockIO",
        ),
        (lambda s: s.update(hostname="h"), "hostname"),
    ],
)
def test_inexpressible_changes_are_refused_with_their_path(change, path):
    old = spec_from_container(container())
    new = spec_from_container(container())
    change(new)
    result = adjust.diff(old, new, owners)
    assert [item.path for item in result.refused] == [path]
    assert result.refused[0].describe().endswith(f"{path}, which {adjust.CANNOT}")
    lenient = adjust.diff(old, new, owners, best_effort=["p"])
    assert lenient.refused == [] and [i.path for i in lenient.dropped] == [path]


def test_blockio_class_name_is_used_when_a_class_is_given():
    old = spec_from_container(container())
    new = spec_from_container(container())
    new["linux"]["resources"]["blockIO"] = {"weight": 400}
    result = adjust.diff(old, new, owners, blockio_class="gold")
    assert result.refused == [] and result.adjustment.blockio_class == "gold"


def test_owners_come_from_the_editor_changes():
    from runcore.api import SpecEditor

    editor = SpecEditor({"linux": {}})
    with editor.attributed_to("seccomp"):
        editor.set("linux.seccomp.defaultAction", "x")
    with editor.attributed_to("core.labels"):
        editor.set(("annotations", "a.b"), "1")
    owners_of = adjust.owners_from_changes(editor.changes)
    assert owners_of("linux.seccomp") == ["seccomp"]
    assert owners_of("annotations.[a.b]") == ["core.labels"]
    assert owners_of("process.env") == []


# ----------------------------------------------------------------------- options
@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A PluginService over the installed plugin set with an empty configuration."""
    from runcore.cli.plugin_set import init_plugin_set, reset_plugin_set

    from runcore_nri.options import AnnotationOptions

    config = tmp_path_factory.mktemp("cfg") / "config.toml"
    config.write_text("")
    pset = init_plugin_set([], {"RUNCORE_CONFIG": str(config)})
    yield PluginService(pset, AnnotationOptions(pset), [], lambda d: None)
    reset_plugin_set()


def adjustment(service, annotations, name="app"):
    pod = api_pb2.PodSandbox(name="pod", namespace="ns", annotations=annotations)
    return service.adjustment(pod, container(), Decision("", "", "", ""))


def test_per_container_key_wins_and_other_containers_are_untouched(service):
    annotations = {
        "runcore.io/cpu-shares": "512",
        "runcore.io/cpu-shares.container.app": "256",
        "runcore.io/memory-limit.container.other": "lots",
    }
    response = adjustment(service, annotations)
    assert response.adjust.linux.resources.cpu.shares.value == 256


def test_unset_cpu_shares_leaves_cri_value(service):
    response = adjustment(service, {})
    assert not response.HasField("adjust")


@pytest.mark.parametrize(
    "annotations, message",
    [
        (
            {"runcore.io/memory-limit": "abc"},
            "runcore: Invalid value for '--memory-limit': strconv.ParseUint: parsing \"abc\": invalid "
            "syntax (from annotation runcore.io/memory-limit)",
        ),
        (
            {"runcore.io/read-only": "maybe"},
            "runcore: Invalid value for '--read-only': 'maybe' is not a valid boolean.",
        ),
        ({"runcore.io/": "1"}, "runcore: No such option: -- (from annotation runcore.io/)"),
        (
            {"runcore.io/snapshotter": "native"},
            "runcore: option --snapshotter has no effect under NRI",
        ),
        ({"runcore.io/cap-add": "CAP_NOPE"}, "runcore: "),
        (
            {"runcore.io/read-only": "true"},
            "runcore: plugin 'core.mounts' set root, which cannot be expressed through NRI",
        ),
        (
            {"runcore.io/env": "B=1"},
            "runcore: plugin 'core.process' removed variable PATH from process.env, which cannot be "
            "expressed through NRI v0.6.1 (containerd 1.7); also plugin 'core.process' removed "
            "variable A from process.env",
        ),
    ],
)
def test_bad_annotations_are_one_line_refusals(service, annotations, message):
    with pytest.raises(Refused) as err:
        adjustment(service, annotations)
    assert err.value.message.startswith(message)
    assert "\n" not in err.value.message


_keys = st.sampled_from(
    [
        "memory-limit",
        "cpu-shares",
        "cpus",
        "cpu-quota",
        "cpu-period",
        "env",
        "device",
        "mount",
        "annotation",
        "read-only",
        "privileged",
        "cap-add",
        "seccomp",
        "cgroup",
        "rdt-class",
        "hostname",
        "nope",
        "with-ns",
        "nritest-nofile",
        "gpus",
        "blockio-class",
        "user",
        "cwd",
    ]
)
_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["1", "0", "-1", "true", "false", "1e9", "/dev/null", "a=b", "type=bind"]),
)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.dictionaries(
        st.tuples(_keys, st.sampled_from(["", ".container.app", ".container.x"])),
        _values,
        max_size=4,
    )
)
def test_any_annotations_give_an_adjustment_or_one_line_refusal(service, raw):
    annotations = {f"runcore.io/{k}{suffix}": v for (k, suffix), v in raw.items()}
    try:
        response = adjustment(service, annotations)
    except Refused as exc:
        assert exc.message.startswith("runcore: ") and "\n" not in exc.message
        assert "internal error" not in exc.message and "Traceback" not in exc.message
    else:
        assert isinstance(response, api_pb2.CreateContainerResponse)


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.dictionaries(st.text(max_size=25), st.text(max_size=25), max_size=4),
    st.dictionaries(
        st.sampled_from(["runcore.io/", "runcore.io", "other.io/x", "runcore.io/-"]),
        st.text(max_size=10),
        max_size=2,
    ),
)
def test_arbitrary_annotation_keys_never_crash(service, suffixes, extra):
    annotations = {f"runcore.io/{k}": v for k, v in suffixes.items()}
    annotations.update(extra)
    try:
        adjustment(service, annotations)
    except Refused as exc:
        assert exc.message.startswith("runcore: ") and "\n" not in exc.message
