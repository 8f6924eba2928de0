"""CDI: names, spec files, the registry, applying edits, conflicts."""

import json
import os
import stat

import pytest

from runcore.spec_editor import SpecEditor

from runcore_nvidia.cdi import edits, names
from runcore_nvidia.cdi.registry import CDIError, Registry, spec_dirs_from
from runcore_nvidia.cdi.session import Session
from runcore_nvidia.cdi.spec import SpecError, parse, read

NULL = os.stat("/dev/null")


def node(path="/dev/x", host="/dev/null", **extra):
    d = {"path": path}
    if host:
        d["hostPath"] = host
    d.update(extra)
    return d


def spec_doc(kind="vendor.com/class", version="0.5.0", devices=None, edits_=None, **extra):
    doc = {
        "cdiVersion": version,
        "kind": kind,
        "devices": devices
        if devices is not None
        else [{"name": "dev0", "containerEdits": {"deviceNodes": [node()]}}],
    }
    if edits_ is not None:
        doc["containerEdits"] = edits_
    doc.update(extra)
    return doc


def write(directory, name, doc):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if isinstance(doc, str):
        path.write_text(doc)
    elif name.endswith(".json"):
        path.write_text(json.dumps(doc))
    else:
        import yaml

        path.write_text(yaml.safe_dump(doc))
    return path


# ------------------------------------------------------------------ names
@pytest.mark.parametrize(
    "value,parts",
    [
        ("vendor.com/class=name", ("vendor.com", "class", "name")),
        ("nvidia.com/gpu=0", ("nvidia.com", "gpu", "0")),
        ("a/b=all", ("a", "b", "all")),
        ("v.io/c.d_e-f=GPU-1:2.3", ("v.io", "c.d_e-f", "GPU-1:2.3")),
    ],
)
def test_qualified_names(value, parts):
    assert names.parse_qualified(value) == parts


@pytest.mark.parametrize(
    "value",
    [
        "/dev/null",
        "gpu0",
        "vendor.com/class",
        "vendor.com=x",
        "=x",
        "1vendor/class=x",
        "vendor/class=-x",
        "vendor/cl@ss=x",
        "v/c=x/y",
        "vendor./class=x",
        "",
    ],
)
def test_not_qualified(value):
    assert not names.is_qualified(value)


# ------------------------------------------------------------------ spec files
def test_yaml_and_json_specs(tmp_path):
    y = read(str(write(tmp_path, "a.yaml", spec_doc())))
    j = read(str(write(tmp_path, "b.json", spec_doc())))
    assert y.raw == j.raw
    assert (y.vendor, y.cls, list(y.devices)) == ("vendor.com", "class", ["dev0"])


def test_field_names_are_case_insensitive():
    raw = parse(
        b'{"cdiversion": "0.3.0", "KIND": "v.com/c", "devices": [{"Name": "d", '
        b'"containerEdits": {"ENV": ["A=1"]}}]}'
    )
    assert raw["cdiVersion"] == "0.3.0" and raw["devices"][0]["containerEdits"]["env"] == ["A=1"]


@pytest.mark.parametrize(
    "text,message",
    [
        (
            b'{"cdiVersion": "0.3.0", "kind": "v.com/c", "devices": [], "foo": 1}',
            'unknown field "foo"',
        ),
        (b'cdiVersion: "0.3.0"\ncdiVersion: "0.4.0"\n', "already set in map"),
        (
            b'{"cdiVersion": "0.3.0", "kind": "v.com/c", "devices": [{"name": "d", "containerEdits": '
            b'{"deviceNodes": [{"path": "/x", "major": "5"}]}}]}',
            "json: cannot unmarshal string into Go struct field DeviceNode.devices.containerEdits.deviceNodes.major "
            "of type int64",
        ),
        (
            b'{"cdiVersion": "0.3.0", "kind": "v.com/c", "devices": [{"name": "d", "containerEdits": '
            b'{"deviceNodes": [null]}}]}',
            "devices[0].containerEdits.deviceNodes[0]: null entry",
        ),
        (
            b"cdiVersion: 0.3\nkind: v.com/c\ndevices: [{name: 0, containerEdits: {env: [A=1], additionalGids: [5.0]}}]\n",
            None,
        ),
        (b"[1, 2]", "cannot use array as a CDI spec"),
        (b"a: [", "line 1: "),
    ],
)
def test_parse_errors(text, message):
    if message is None:  # YAML scalars fit string fields, whole floats integer ones
        raw = parse(text)
        assert raw["cdiVersion"] == "0.3" and raw["devices"][0]["name"] == "0"
        assert raw["devices"][0]["containerEdits"]["additionalGids"] == [5]
        return
    with pytest.raises(SpecError) as exc:
        parse(text)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    "doc,message",
    [
        (spec_doc(version="0.9.0"), 'invalid version "0.9.0"'),
        (spec_doc(version="0.3.0"), "the spec version must be at least v0.5.0"),  # hostPath
        (spec_doc(version="v0.4.0", kind="v.com/c"), "the spec version must be at least v0.5.0"),
        (spec_doc(kind="vendorclass"), "invalid vendor. empty name"),
        (spec_doc(kind="v.com/c!"), "invalid class."),
        (spec_doc(devices=[]), "invalid spec, no devices"),
        (
            spec_doc(devices=[{"name": "d", "containerEdits": {}}]),
            "invalid device, empty device edits",
        ),
        (
            spec_doc(devices=[{"name": "d", "containerEdits": {"env": ["=x"]}}]),
            'invalid environment variable "=x"',
        ),
        (
            spec_doc(devices=[{"name": "d", "containerEdits": {"env": ["A=1"]}}] * 2),
            'multiple device "d"',
        ),
        (
            spec_doc(devices=[{"name": "-d", "containerEdits": {"env": ["A=1"]}}]),
            'failed add device "-d"',
        ),
        (
            spec_doc(
                devices=[
                    {"name": "d", "containerEdits": {"deviceNodes": [{"path": "/x", "type": "z"}]}}
                ]
            ),
            'invalid type "z"',
        ),
        (
            spec_doc(
                devices=[
                    {
                        "name": "d",
                        "containerEdits": {"deviceNodes": [{"path": "/x", "permissions": "rx"}]},
                    }
                ]
            ),
            'invalid permissions "rx"',
        ),
        (
            spec_doc(
                devices=[
                    {"name": "d", "containerEdits": {"hooks": [{"hookName": "boot", "path": "/x"}]}}
                ]
            ),
            'invalid hook name "boot"',
        ),
        (
            spec_doc(
                devices=[
                    {
                        "name": "d",
                        "containerEdits": {"mounts": [{"hostPath": "/x", "containerPath": ""}]},
                    }
                ]
            ),
            "invalid mount, empty container path",
        ),
        (
            spec_doc(
                version="0.7.0",
                devices=[
                    {
                        "name": "d",
                        "containerEdits": {
                            "netDevices": [{"hostInterfaceName": "eth1", "name": "n"}]
                        },
                    }
                ],
            ),
            "the spec version must be at least v1.1.0",
        ),
        (spec_doc(version="0.5.0", annotations={"a": "b"}), "at least v0.6.0"),
        (
            spec_doc(
                version="0.6.0", devices=[{"name": "d", "containerEdits": {"additionalGids": [5]}}]
            ),
            "at least v0.7.0",
        ),
    ],
)
def test_validation_errors(doc, message, tmp_path):
    path = write(tmp_path, "s.json", doc)
    with pytest.raises(SpecError) as exc:
        read(str(path))
    assert message in str(exc.value)


def test_versions_up_to_1_1_0(tmp_path):
    doc = spec_doc(
        version="1.1.0",
        devices=[
            {
                "name": "d",
                "containerEdits": {
                    "netDevices": [{"hostInterfaceName": "eth1", "name": "n"}],
                    "intelRdt": {"closID": "c", "enableMonitoring": True},
                },
            }
        ],
    )
    assert read(str(write(tmp_path, "s.json", doc))).devices["d"]


# ------------------------------------------------------------------ registry
def test_scan_order_priority_and_extensions(tmp_path):
    a, b = tmp_path / "etc", tmp_path / "run"
    write(
        a,
        "x.yaml",
        spec_doc(
            devices=[
                {"name": "d", "containerEdits": {"env": ["FROM=etc"]}},
                {"name": "e", "containerEdits": {"env": ["E=1"]}},
            ]
        ),
    )
    write(b, "y.json", spec_doc(devices=[{"name": "d", "containerEdits": {"env": ["FROM=run"]}}]))
    write(a, "ignored.yml", "not: [valid")
    (a / "sub.yaml").mkdir()
    reg = Registry.load([str(a), str(b), str(tmp_path / "missing")])
    assert reg.resolve("vendor.com/class=d")[0].raw["containerEdits"]["env"] == ["FROM=run"]
    assert [d.qualified for d in reg.all_devices()] == ["vendor.com/class=d", "vendor.com/class=e"]
    assert reg.broken == []


def test_duplicate_in_one_directory_is_a_conflict(tmp_path):
    write(tmp_path, "a.yaml", spec_doc())
    write(tmp_path, "b.json", spec_doc())
    reg = Registry.load([str(tmp_path)])
    with pytest.raises(CDIError) as exc:
        reg.resolve("vendor.com/class=dev0")
    assert str(exc.value) == (
        f"CDI device vendor.com/class=dev0 is defined by more than one spec file: "
        f"{tmp_path}/a.yaml, {tmp_path}/b.json"
    )


def test_unknown_device_names_the_directories_and_unreadable_files(tmp_path):
    write(tmp_path, "a.yaml", spec_doc())
    write(tmp_path, "broken.yaml", "cdiVersion: [")
    reg = Registry.load([str(tmp_path)])
    with pytest.raises(CDIError) as exc:
        reg.resolve("vendor.com/class=nope")
    msg = str(exc.value)
    assert msg.startswith(
        f"unresolvable CDI devices vendor.com/class=nope (spec directories: {tmp_path})"
    )
    assert f"{tmp_path}/broken.yaml: cannot parse" in msg
    assert "\n" not in msg


def test_invalid_file_of_the_requested_kind_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", spec_doc())
    write(
        tmp_path,
        "b.yaml",
        spec_doc(version="9.9.9", devices=[{"name": "x", "containerEdits": {"env": ["A=1"]}}]),
    )
    write(tmp_path, "c.yaml", spec_doc(kind="other.com/class", version="9.9.9"))
    reg = Registry.load([str(tmp_path)])
    with pytest.raises(CDIError) as exc:
        reg.resolve("vendor.com/class=dev0")
    assert str(exc.value) == (
        f"CDI device vendor.com/class=dev0: spec file {tmp_path}/b.yaml of kind "
        'vendor.com/class is unusable: invalid CDI Spec: invalid version "9.9.9"'
    )


def test_unreadable_file(tmp_path):
    path = write(tmp_path, "a.yaml", spec_doc())
    os.chmod(path, 0)
    if os.geteuid() == 0:
        pytest.skip("root reads anything")
    reg = Registry.load([str(tmp_path)])  # pragma: no cover
    assert reg.broken and "cannot read" in reg.broken[0].error  # pragma: no cover


def test_all(tmp_path):
    write(
        tmp_path,
        "a.yaml",
        spec_doc(
            devices=[{"name": n, "containerEdits": {"env": [f"{n.upper()}=1"]}} for n in ("b", "a")]
        ),
    )
    reg = Registry.load([str(tmp_path)])
    assert [d.name for d in reg.resolve("vendor.com/class=all")] == ["b", "a"]
    write(
        tmp_path,
        "b.yaml",
        spec_doc(devices=[{"name": "all", "containerEdits": {"env": ["ALL=1"]}}]),
    )
    reg = Registry.load([str(tmp_path)])
    assert [d.name for d in reg.resolve("vendor.com/class=all")] == ["all"]
    with pytest.raises(CDIError):
        reg.resolve("other.com/class=all")


@pytest.mark.parametrize(
    "value,dirs",
    [
        ("", ("/etc/cdi", "/var/run/cdi")),
        (None, ("/etc/cdi", "/var/run/cdi")),
        ("/a:/b", ("/a", "/b")),
        ("/a::", ("/a",)),
        (["/a", "/b:/c"], ("/a", "/b", "/c")),
    ],
)
def test_spec_dirs(value, dirs):
    assert spec_dirs_from(value) == dirs


# ------------------------------------------------------------------ applying edits
def base_spec(uid=0, gid=0, userns=False):
    ns = [{"type": "pid"}, {"type": "mount"}] + ([{"type": "user"}] if userns else [])
    return SpecEditor(
        {
            "process": {
                "user": {"uid": uid, "gid": gid, "additionalGids": [gid]},
                "env": ["PATH=/bin", "A=0"],
            },
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev/shm", "type": "tmpfs", "source": "shm"},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs"},
                {"destination": "/etc/hosts", "type": "bind", "source": "/x", "options": ["rbind"]},
            ],
            "linux": {
                "namespaces": ns,
                "devices": [{"path": "/dev/x", "type": "c", "major": 9, "minor": 9}],
                "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            },
        }
    )


def prepared(**e):
    full = {
        "env": None,
        "deviceNodes": None,
        "netDevices": None,
        "hooks": None,
        "mounts": None,
        "intelRdt": None,
        "additionalGids": None,
    }
    for key, value in e.items():
        full[key] = value
    if full["deviceNodes"]:
        full["deviceNodes"] = [
            {
                **{
                    "hostPath": "",
                    "type": "",
                    "major": 0,
                    "minor": 0,
                    "fileMode": None,
                    "permissions": "",
                    "uid": None,
                    "gid": None,
                },
                **n,
            }
            for n in full["deviceNodes"]
        ]
    for m in full["mounts"] or ():
        m.setdefault("options", None)
        m.setdefault("type", "")
    for h in full["hooks"] or ():
        for k in ("args", "env", "timeout"):
            h.setdefault(k, None)
    return edits.prepare(full, "test")


def test_env_replaces_or_appends():
    spec = base_spec()
    edits.apply(spec, prepared(env=["A=1", "B=2", "B=3"]))
    assert spec.spec["process"]["env"] == ["PATH=/bin", "A=1", "B=3"]


def test_device_node_from_host_replaces_same_path():
    spec = base_spec()
    edits.apply(spec, prepared(deviceNodes=[{"path": "/dev/x", "hostPath": "/dev/null"}]))
    assert spec.spec["linux"]["devices"] == [
        {"path": "/dev/x", "type": "c", "major": 1, "minor": 3, "fileMode": NULL.st_mode & 0o7777}
    ]
    assert spec.spec["linux"]["resources"]["devices"][-1] == {
        "allow": True,
        "type": "c",
        "major": 1,
        "minor": 3,
        "access": "rwm",
    }


def test_device_node_owner_defaults_to_a_non_root_user():
    spec = base_spec(uid=1000, gid=50)
    edits.apply(
        spec,
        prepared(
            deviceNodes=[
                {"path": "/dev/y", "hostPath": "/dev/null", "gid": 7, "permissions": "none"}
            ]
        ),
    )
    dev = spec.spec["linux"]["devices"][-1]
    assert (dev["uid"], dev["gid"]) == (1000, 7)
    assert "access" not in spec.spec["linux"]["resources"]["devices"][-1]


def test_fully_specified_node_needs_no_host_node():
    spec = base_spec()
    edits.apply(
        spec,
        prepared(
            deviceNodes=[
                {"path": "/dev/gpu9", "type": "c", "major": 195, "minor": 9, "permissions": "rw"}
            ]
        ),
    )
    assert spec.spec["linux"]["devices"][-1] == {
        "path": "/dev/gpu9",
        "type": "c",
        "major": 195,
        "minor": 9,
    }
    assert spec.spec["linux"]["resources"]["devices"][-1]["access"] == "rw"


@pytest.mark.parametrize(
    "n,message",
    [
        (
            {"path": "/dev/nope"},
            'failed to stat CDI host device "/dev/nope": lstat /dev/nope: no such file',
        ),
        ({"path": "/x", "hostPath": "/etc/hostname"}, "not a device node"),
        ({"path": "/x", "hostPath": "/dev/null", "type": "b"}, "host type mismatch (b, c)"),
    ],
)
def test_device_node_errors(n, message):
    with pytest.raises(CDIError) as exc:
        prepared(deviceNodes=[n])
    assert message in str(exc.value)


def test_mounts_replace_and_sort_by_depth():
    spec = base_spec()
    edits.apply(
        spec,
        prepared(
            mounts=[
                {"hostPath": "/h1", "containerPath": "/etc/hosts", "options": ["ro"]},
                {"hostPath": "/h2", "containerPath": "/a/b/c/d", "type": "bind"},
                {"hostPath": "/h3", "containerPath": "/opt"},
            ]
        ),
    )
    assert [m["destination"] for m in spec.spec["mounts"]] == [
        "/proc",
        "/sys",
        "/opt",
        "/dev/shm",
        "/etc/hosts",
        "/a/b/c/d",
    ]
    assert spec.spec["mounts"][4] == {
        "destination": "/etc/hosts",
        "source": "/h1",
        "options": ["ro"],
    }


def test_bind_mounts_get_idmap_with_a_user_namespace():
    spec = base_spec(userns=True)
    edits.apply(
        spec,
        prepared(
            mounts=[
                {"hostPath": "/h", "containerPath": "/m1", "options": ["rbind"]},
                {"hostPath": "/h", "containerPath": "/m2", "type": "bind"},
                {"hostPath": "/h", "containerPath": "/m3", "options": ["bind", "idmap"]},
            ]
        ),
    )
    by_dest = {m["destination"]: m for m in spec.spec["mounts"]}
    assert by_dest["/m1"]["options"] == ["rbind", "ridmap"]
    assert by_dest["/m2"]["options"] == ["idmap"]
    assert by_dest["/m3"]["options"] == ["bind", "idmap"]


def test_hooks_rdt_gids_netdevices():
    spec = base_spec(gid=5)
    edits.apply(
        spec,
        prepared(
            hooks=[
                {"hookName": "createContainer", "path": "/bin/h", "args": ["h", "x"], "timeout": 5},
                {"hookName": "prestart", "path": "/bin/p"},
            ],
            intelRdt={
                "closID": "gold",
                "l3CacheSchema": "",
                "memBwSchema": "",
                "schemata": None,
                "enableMonitoring": False,
            },
            additionalGids=[0, 5, 44, 44],
            netDevices=[{"hostInterfaceName": "eth1", "name": "net0"}],
        ),
    )
    s = spec.spec
    assert s["hooks"] == {
        "createContainer": [{"path": "/bin/h", "args": ["h", "x"], "timeout": 5}],
        "prestart": [{"path": "/bin/p"}],
    }
    assert s["linux"]["intelRdt"] == {"closID": "gold"}
    assert s["process"]["user"]["additionalGids"] == [5, 44]
    assert s["linux"]["netDevices"] == {"eth1": {"name": "net0"}}


# ------------------------------------------------------------------ a session: several requests
def test_spec_wide_edits_once_and_conflicts(tmp_path):
    write(
        tmp_path,
        "a.yaml",
        spec_doc(
            edits_={"env": ["VENDOR=1"], "hooks": [{"hookName": "poststop", "path": "/p"}]},
            devices=[
                {"name": "a", "containerEdits": {"env": ["A=1"]}},
                {
                    "name": "b",
                    "containerEdits": {"env": ["B=1"], "deviceNodes": [node("/dev/shared")]},
                },
                {"name": "c", "containerEdits": {"env": ["A=2"]}},
                {
                    "name": "d",
                    "containerEdits": {"deviceNodes": [node("/dev/shared", "/dev/zero")]},
                },
            ],
        ),
    )
    session = Session([str(tmp_path)])
    apply_a = session.request("vendor.com/class=a")
    apply_b = session.request("vendor.com/class=b")
    spec = base_spec()
    apply_a(spec)
    apply_b(spec)
    assert spec.spec["process"]["env"] == ["PATH=/bin", "A=1", "VENDOR=1", "B=1"]
    assert spec.spec["hooks"]["poststop"] == [{"path": "/p"}]
    with pytest.raises(CDIError) as exc:
        session.request("vendor.com/class=c")
    assert str(exc.value) == (
        f'conflicting CDI edits: environment variable "A" is set differently by '
        f"vendor.com/class=a ({tmp_path}/a.yaml) and vendor.com/class=c ({tmp_path}/a.yaml)"
    )
    with pytest.raises(CDIError) as exc:
        session.request("vendor.com/class=d")
    assert 'device node "/dev/shared"' in str(exc.value)


def test_same_device_twice_is_not_a_conflict(tmp_path):
    write(tmp_path, "a.yaml", spec_doc())
    session = Session([str(tmp_path)])
    session.request("vendor.com/class=dev0")
    session.request("vendor.com/class=dev0")


def test_fifo_device_node(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    p = prepared(deviceNodes=[{"path": "/dev/f", "hostPath": str(fifo)}])
    spec = base_spec()
    edits.apply(spec, p)
    dev = spec.spec["linux"]["devices"][-1]
    assert dev["type"] == "p" and dev["major"] == 0
    assert stat.S_IMODE(os.stat(fifo).st_mode) == dev["fileMode"] & 0o7777
