"""The plugin's hooks, called as runcore calls them, and the flags through the real CLI."""

import json

import pytest

from runcore.context import COMMANDLINE, RunContext
from runcore.errors import UsageError
from runcore.record import SnapshotRequest
from runcore.spec_editor import SpecEditor
from runcore.testing.hooks import RecordingRegistrar

import runcore_userns as plugin
from runcore_userns import remap

UID = {"containerID": 0, "hostID": 100000, "size": 65536}
GID = {"containerID": 0, "hostID": 200000, "size": 1000}


def make_ctx(command="create", **options):
    sources = {k: COMMANDLINE for k, v in options.items() if v not in (None, False, "", ())}
    return RunContext(command=command, options=dict(options), sources=sources, container_id="c1")


def configured(command="create", **options):
    ctx = make_ctx(command, **options)
    if options.get("platform"):  # what the built-in core.image does before any plugin
        from runcore.images.platforms import parse

        ctx.platform = parse(options["platform"])
    plugin.runcore_configure(ctx=ctx)
    return ctx


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("command", ["run", "create", "spec"])
def test_options_are_ctrs(command):
    reg = RecordingRegistrar()
    plugin.runcore_add_options(registrar=reg, command=command)
    by_name = {o.name: o for o in reg.options}
    assert set(by_name) == {"uidmap", "gidmap", "remap_labels"}
    assert by_name["uidmap"].opts == ["--uidmap"] and not by_name["uidmap"].is_flag
    assert by_name["gidmap"].opts == ["--gidmap"] and not by_name["gidmap"].is_flag
    assert by_name["remap_labels"].opts == ["--remap-labels"] and by_name["remap_labels"].is_flag


# --------------------------------------------------------------------------- configure


def test_both_maps_are_parsed():
    ctx = configured(uidmap="0:100000:65536", gidmap="0:200000:1000")
    assert plugin.mappings(ctx) == (UID, GID)


def test_go_number_syntax():
    ctx = configured(uidmap="0x0:0x186a0:0o200000", gidmap="00:017:0b1_1")
    assert plugin.mappings(ctx) == (
        {"containerID": 0, "hostID": 100000, "size": 65536},
        {"containerID": 0, "hostID": 15, "size": 3},
    )


FORMAT = "user namespace mappings require the format `container-id:host-id:size`"

ERRORS = [
    ("0:1", "0:1:1", FORMAT),
    ("0:1:1:1", "0:1:1", FORMAT),
    ("", "0:1:1", None),  # only one map: ignored, no error
    ("0:1:1", "1:2", FORMAT),
    (
        "x:1:1",
        "0:1:1",
        'invalid container id for user namespace remapping: strconv.ParseUint: parsing "x": invalid syntax',
    ),
    (
        "0:-1:1",
        "0:1:1",
        'invalid host id for user namespace remapping: strconv.ParseUint: parsing "-1": invalid syntax',
    ),
    (
        "0:1:4294967296",
        "0:1:1",
        'invalid size for user namespace remapping: strconv.ParseUint: parsing "4294967296": '
        "value out of range",
    ),
    (
        "0:1:",
        "0:1:1",
        'invalid size for user namespace remapping: strconv.ParseUint: parsing "": invalid syntax',
    ),
    (
        "x:1:1",
        "y:1:1",
        'invalid container id for user namespace remapping: strconv.ParseUint: parsing "x": invalid syntax',
    ),
    (
        "0:1:1",
        "0:1:09",
        'invalid size for user namespace remapping: strconv.ParseUint: parsing "09": invalid syntax',
    ),
]


@pytest.mark.parametrize("uidmap,gidmap,message", ERRORS)
def test_format_errors_are_ctrs(uidmap, gidmap, message, capsys):
    if message is None:
        assert plugin.mappings(configured(uidmap=uidmap, gidmap=gidmap)) is None
        return
    with pytest.raises(UsageError) as info:
        configured(uidmap=uidmap, gidmap=gidmap)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "options,warning",
    [
        ({"uidmap": "0:1:1"}, "--uidmap is ignored without --gidmap"),
        ({"gidmap": "0:1:1"}, "--gidmap is ignored without --uidmap"),
        ({"uidmap": "bad", "gidmap": "0:1:1", "rootfs": True}, "are ignored with --rootfs"),
        ({"uidmap": "0:1:1", "gidmap": "bad", "config": "/x.json"}, "are ignored with --config"),
        ({"remap_labels": True}, "--remap-labels is ignored without --uidmap and --gidmap"),
    ],
)
def test_ignored_maps_are_ctrs_but_said(options, warning, capsys):
    ctx = configured(**options)
    assert plugin.mappings(ctx) is None
    err = capsys.readouterr().err
    assert err.startswith("runcore: warning: ") and warning in err
    assert err.count("\n") == 1


def test_snapshotter_label_is_said_to_be_ignored(capsys):
    configured(uidmap="0:1:1", gidmap="0:1:1", snapshotter_label=("a=b",))
    assert "--snapshotter-label is ignored with --uidmap/--gidmap" in capsys.readouterr().err


def test_nothing_given_nothing_said(capsys):
    assert plugin.mappings(configured()) is None
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- spec


def default_namespaces():
    return [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]


def test_spec_gets_user_namespace_and_mappings():
    ctx = configured(uidmap="0:100000:65536", gidmap="0:200000:1000")
    spec = SpecEditor({"linux": {"namespaces": default_namespaces()}})
    with spec.attributed_to("userns"):
        plugin.runcore_spec_namespaces(spec=spec, ctx=ctx)
    assert spec.spec["linux"]["namespaces"] == default_namespaces() + [{"type": "user"}]
    assert spec.spec["linux"]["uidMappings"] == [UID]
    assert spec.spec["linux"]["gidMappings"] == [GID]
    assert "userns" in spec.explain()["linux.uidMappings"]


def test_spec_keeps_a_joined_user_namespace():
    ctx = configured(uidmap="0:100000:65536", gidmap="0:200000:1000")
    joined = default_namespaces() + [{"type": "user", "path": "/proc/1/ns/user"}]
    spec = SpecEditor({"linux": {"namespaces": joined}})
    plugin.runcore_spec_namespaces(spec=spec, ctx=ctx)
    assert spec.spec["linux"]["namespaces"] == joined


def test_spec_untouched_without_maps():
    spec = SpecEditor({"linux": {"namespaces": default_namespaces()}})
    plugin.runcore_spec_namespaces(spec=spec, ctx=configured(uidmap="0:1:1"))
    assert spec.spec == {"linux": {"namespaces": default_namespaces()}}


# --------------------------------------------------------------------------- snapshot


class Image:
    name = "docker.io/library/rcbox:latest"
    chain_id = "sha256:chain"


@pytest.fixture
def ensure(monkeypatch):
    calls = []

    def fake(client, snapshotter, parent, uid, gid):
        calls.append((snapshotter, parent, uid, gid))
        return remap.remapped_name(parent, uid, gid)

    monkeypatch.setattr(remap, "ensure_remapped", fake)
    return calls


class Client:
    def __init__(self, capabilities=()):
        self.caps = list(capabilities)
        self.introspection = self

    def Plugins(self, filters):
        class P:
            capabilities = self.caps

        class R:
            plugins = [P()]

        return R()


def prepare(ctx, labels=None, client=None):
    ctx.image = Image()
    ctx.globals = object()
    ctx.client = lambda: client or Client()  # type: ignore[method-assign]
    request = SnapshotRequest(
        snapshotter="overlayfs", key="c1", parent="sha256:chain", labels=dict(labels or {})
    )
    plugin.runcore_prepare_snapshot(snapshot=request, ctx=ctx)
    return request


def test_snapshot_parent_is_the_remapped_copy(ensure):
    request = prepare(configured(uidmap="0:100000:65536", gidmap="0:200000:1000"))
    assert request.parent == "sha256:chain-100000-200000"
    assert request.labels == {}
    assert ensure == [("overlayfs", "sha256:chain", 100000, 200000)]


def test_container_ids_do_not_change_the_offset(ensure):
    request = prepare(configured(uidmap="5:100000:65536", gidmap="7:200000:1000"))
    assert request.parent == "sha256:chain-100000-200000"


def test_snapshotter_labels_do_not_reach_the_snapshot(ensure):
    ctx = configured(uidmap="0:1:1", gidmap="0:1:1", snapshotter_label=("a=b", "flag"))
    request = prepare(ctx, labels={"a": "b", "flag": "true", "other.plugin/x": "y"})
    assert request.labels == {"other.plugin/x": "y"}


def test_remap_labels_without_capability(ensure):
    ctx = configured(uidmap="0:100000:65536", gidmap="0:200000:1000", remap_labels=True)
    request = prepare(ctx, client=Client([]))
    assert request.labels == {
        "containerd.io/snapshot/uidmapping": "0:100000:65536",
        "containerd.io/snapshot/gidmapping": "0:200000:65536",
    }
    assert request.parent == "sha256:chain-100000-200000"


def test_remap_labels_with_capability_leave_it_to_the_snapshotter(ensure):
    ctx = configured(
        uidmap="3:100000:65536",
        gidmap="4:200000:1000",
        remap_labels=True,
        snapshotter_label=("a=b",),
    )
    request = prepare(ctx, labels={"a": "b"}, client=Client(["remap-ids"]))
    assert request.labels == {
        "containerd.io/snapshot/uidmapping": "0:100000:65536",
        "containerd.io/snapshot/gidmapping": "0:200000:65536",
    }
    assert request.parent == "sha256:chain"
    assert ensure == []


def test_spec_command_makes_no_snapshot(ensure):
    ctx = configured("spec", uidmap="0:1:1", gidmap="0:1:1")
    request = prepare(ctx, labels={"a": "b"})
    assert request.parent == "sha256:chain" and request.labels == {"a": "b"}
    assert ensure == []


def test_no_maps_no_change(ensure):
    request = prepare(configured(uidmap="0:1:1"), labels={"a": "b"})
    assert request.parent == "sha256:chain" and request.labels == {"a": "b"}
    assert ensure == []


def test_platform_uses_the_host_platform_chain_for_the_name(ensure, monkeypatch):
    import runcore.api
    import runcore.images

    class HostImage:
        chain_id = "sha256:host-chain"

    seen = []

    def resolve(client, ref):
        seen.append(ref)
        return HostImage()

    monkeypatch.setattr(runcore.images, "resolve_image", resolve)
    monkeypatch.setattr(runcore.api, "resolve_image", resolve, raising=False)  # if cached
    request = prepare(configured(uidmap="0:1:1", gidmap="0:2:1", platform="linux/arm64"))
    assert seen == ["docker.io/library/rcbox:latest"]
    assert request.parent == "sha256:host-chain-1-2"


# --------------------------------------------------------------------------- task


class Stored:
    def __init__(self, spec):
        class SpecAny:
            value = json.dumps(spec).encode() if spec is not None else b""

        class Container:
            pass

        self.container = Container()
        self.container.spec = SpecAny()


class RecordClient:
    def __init__(self, spec):
        self.stored = Stored(spec)
        self.containers = self
        self.asked = []

    def Get(self, id):
        self.asked.append(id)
        return self.stored


def task_options(spec):
    """The hook's options from the record the task code hands it (no RPC), which must
    equal those from the record it fetches when none is handed (``Containers/Get``)."""
    from runcore.api import TaskInfo

    results = []
    for handed in (True, False):
        ctx = make_ctx("run")
        client = RecordClient(spec)
        ctx.client = lambda client=client: client  # type: ignore[method-assign]
        task = TaskInfo(container_id="c1", record=client.stored.container if handed else None)
        options = {}
        plugin.runcore_task_options(options=options, task=task, ctx=ctx)
        assert client.asked == ([] if handed else ["c1"])
        results.append(options)
    assert results[0] == results[1]
    return results[0]


def test_io_owner_from_the_first_mappings():
    spec = {
        "linux": {
            "uidMappings": [UID, {"containerID": 1, "hostID": 5, "size": 1}],
            "gidMappings": [GID],
        }
    }
    assert task_options(spec) == {"io_uid": 100000, "io_gid": 200000}


def test_io_owner_each_map_on_its_own():
    assert task_options({"linux": {"uidMappings": [UID]}}) == {"io_uid": 100000}
    assert task_options({"linux": {"gidMappings": [GID]}}) == {"io_gid": 200000}


def test_io_owner_host_zero_still_sets_the_option():
    spec = {
        "linux": {
            "uidMappings": [{"containerID": 0, "size": 1}],
            "gidMappings": [{"containerID": 0, "size": 1}],
        }
    }
    assert task_options(spec) == {"io_uid": 0, "io_gid": 0}


@pytest.mark.parametrize("spec", [None, {}, {"linux": {}}, {"linux": {"uidMappings": []}}, []])
def test_no_mappings_no_options(spec):
    assert task_options(spec) == {}


# --------------------------------------------------------------------------- CLI


def test_cli_refuses_bad_maps_in_one_line():
    from runcore.testing import CliHarness

    result = CliHarness().run(
        ["create", "--uidmap", "0:1", "--gidmap", "0:1:1", "docker.io/library/x:latest", "c1"],
        plugins={"userns": plugin},
    )
    assert result.exit_code == 1
    assert result.stderr == f"runcore: {FORMAT}\n"


def test_cli_flags_need_the_plugin():
    from runcore.testing import CliHarness

    result = CliHarness().run(["spec", "--uidmap", "0:1:1", "x", "c1"], plugins={})
    assert result.exit_code != 0
    assert "userns" in result.stderr
