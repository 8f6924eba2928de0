"""Go encoding/json compatibility of to_go_json and the default spec (§5)."""

import json
import os

import pytest

from runcore.oci import (
    DEFAULT_CAPS,
    OCI_VERSION,
    default_unix_devices,
    default_unix_spec,
    encode_struct,
    go_json_string,
    to_go_json,
    with_default_unix_devices,
)

DATA = os.path.join(os.path.dirname(__file__), "data")


def test_default_spec_golden_bytes():
    # Byte-compared with `ctr oci spec` of a real ctr (after the 1.7.24 version/powercap differences).
    s = default_unix_spec("refcheck", "c1")
    with_default_unix_devices(s)
    with open(os.path.join(DATA, "default_spec_refcheck_c1.json"), "rb") as fh:
        assert to_go_json(s) == fh.read()


def test_default_spec_values():
    s = default_unix_spec("ns", "id")
    assert s["ociVersion"] == OCI_VERSION == "1.2.0"
    assert s["linux"]["cgroupsPath"] == "/ns/id"
    assert s["process"]["capabilities"]["bounding"] == DEFAULT_CAPS
    assert s["process"]["capabilities"]["bounding"] is not s["process"]["capabilities"]["effective"]
    assert "/sys/devices/virtual/powercap" in s["linux"]["maskedPaths"]
    assert [m["destination"] for m in s["mounts"]] == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/run",
    ]
    assert default_unix_spec("a/../b", "c")["linux"]["cgroupsPath"] == "/b/c"


def test_default_unix_devices():
    devs = default_unix_devices()
    assert [(d["major"], d.get("minor")) for d in devs] == [
        (1, 3),
        (1, 8),
        (1, 7),
        (5, 0),
        (1, 5),
        (1, 9),
        (5, 1),
        (136, None),
        (5, 2),
    ]
    assert "minor" not in devs[7]


def test_user_ids_never_omitted():
    assert (
        to_go_json({"process": {"user": {}}})
        == b'{"ociVersion":"","process":{"user":{"uid":0,"gid":0},"cwd":""}}'
    )


def test_missing_non_omitempty_fields_get_zero_values():
    raw = to_go_json(
        {"ociVersion": "1", "process": {}, "root": {}, "windows": {}, "linux": {"namespaces": [{}]}}
    )
    assert raw == (
        b'{"ociVersion":"1","process":{"user":{"uid":0,"gid":0},"cwd":""},"root":{"path":""},'
        b'"linux":{"namespaces":[{"type":""}]},"windows":{"layerFolders":null}}'
    )


def test_omitempty_rules():
    spec = {
        "ociVersion": "1",
        "hostname": "",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0, "additionalGids": [], "umask": 0},
            "args": [],
            "env": None,
            "cwd": "/",
            "noNewPrivileges": False,
            "oomScoreAdj": 0,
        },
        "root": {"path": "rootfs", "readonly": False},
        "mounts": [],
        "annotations": {},
        "linux": {
            "cgroupsPath": "",
            "resources": {
                "devices": [
                    {"allow": False},
                    {"allow": True, "type": "c", "major": 0, "minor": 0, "access": ""},
                ],
                "cpu": {"shares": 0, "quota": 0, "cpus": ""},
                "memory": {"limit": 0},
            },
            "devices": [
                {
                    "path": "/dev/x",
                    "type": "c",
                    "major": 0,
                    "minor": 0,
                    "fileMode": 0,
                    "uid": 0,
                    "gid": 0,
                }
            ],
            "seccomp": {
                "defaultAction": "",
                "syscalls": [
                    {
                        "names": [],
                        "action": "A",
                        "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "X"}],
                    }
                ],
            },
        },
    }
    assert to_go_json(spec) == (
        b'{"ociVersion":"1","process":{"user":{"uid":0,"gid":0,"umask":0},"cwd":"/","oomScoreAdj":0},'
        b'"root":{"path":"rootfs"},"linux":{"resources":{"devices":[{"allow":false},'
        b'{"allow":true,"type":"c","major":0,"minor":0}],"memory":{"limit":0},"cpu":{"shares":0,"quota":0}},'
        b'"devices":[{"path":"/dev/x","type":"c","major":0,"minor":0,"fileMode":0,"uid":0,"gid":0}],'
        b'"seccomp":{"defaultAction":"","syscalls":[{"names":[],"action":"A","args":[{"index":0,"value":0,"op":"X"}]}]}}}'
    )


def test_key_order_process_and_linux():
    spec = {
        "linux": {
            "readonlyPaths": ["/r"],
            "maskedPaths": ["/m"],
            "namespaces": [{"path": "/p", "type": "pid"}],
            "uidMappings": [{"size": 1, "hostID": 2, "containerID": 3}],
        },
        "annotations": {"b": "1", "a": "2", "B": "3"},
        "hostname": "h",
        "root": {"readonly": True, "path": "/"},
        "process": {
            "cwd": "/",
            "env": ["A=1"],
            "args": ["sh"],
            "terminal": True,
            "user": {"additionalGids": [1], "gid": 2, "uid": 3},
            "capabilities": {
                "ambient": ["A"],
                "bounding": ["B"],
                "inheritable": ["I"],
                "permitted": ["P"],
                "effective": ["E"],
            },
        },
        "ociVersion": "v",
    }
    assert to_go_json(spec) == (
        b'{"ociVersion":"v","process":{"terminal":true,"user":{"uid":3,"gid":2,"additionalGids":[1]},"args":["sh"],'
        b'"env":["A=1"],"cwd":"/","capabilities":{"bounding":["B"],"effective":["E"],"inheritable":["I"],'
        b'"permitted":["P"],"ambient":["A"]}},"root":{"path":"/","readonly":true},"hostname":"h",'
        b'"annotations":{"B":"3","a":"2","b":"1"},"linux":{"uidMappings":[{"containerID":3,"hostID":2,"size":1}],'
        b'"namespaces":[{"type":"pid","path":"/p"}],"maskedPaths":["/m"],"readonlyPaths":["/r"]}}'
    )


def test_hooks_order():
    spec = {
        "hooks": {
            "poststop": [{"path": "/b"}],
            "prestart": [{"timeout": 0, "env": ["E=1"], "args": ["a"], "path": "/a"}],
        }
    }
    assert to_go_json(spec) == (
        b'{"ociVersion":"","hooks":{"prestart":[{"path":"/a","args":["a"],"env":["E=1"],"timeout":0}],"poststop":[{"path":"/b"}]}}'
    )


@pytest.mark.parametrize(
    "text, encoded",
    [
        ("plain", '"plain"'),
        ("<a&b>", '"\\u003ca\\u0026b\\u003e"'),
        ('q"b\\s', '"q\\"b\\\\s"'),
        ("\n\r\t", '"\\n\\r\\t"'),
        ("\b\f", '"\\b\\f"'),
        ("\x00\x01\x1f\x7f", '"\\u0000\\u0001\\u001f\x7f"'),
        ("é€😀", '"é€😀"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("bad\udcff", '"bad\\ufffd"'),
    ],
)
def test_go_string_escaping(text, encoded):
    assert go_json_string(text) == encoded


def test_utf8_output():
    assert to_go_json({"hostname": "é"}) == '{"ociVersion":"","hostname":"é"}'.encode("utf-8")


def test_unknown_keys_after_known_sorted():
    spec = {
        "zzz": {"b": 1, "a": [True, None, 1.5]},
        "ociVersion": "1",
        "aaa": "x<",
        "process": {"x-ext": 1, "cwd": "/"},
    }
    assert to_go_json(spec) == (
        b'{"ociVersion":"1","process":{"user":{"uid":0,"gid":0},"cwd":"/","x-ext":1},"aaa":"x\\u003c",'
        b'"zzz":{"a":[true,null,1.5],"b":1}}'
    )
    assert (
        to_go_json(spec, drop_unknown=True)
        == b'{"ociVersion":"1","process":{"user":{"uid":0,"gid":0},"cwd":"/"}}'
    )


def test_type_errors():
    with pytest.raises(TypeError):
        to_go_json({"process": {"user": {"uid": "0"}}})
    with pytest.raises(TypeError):
        to_go_json({"process": {"terminal": 1}})
    with pytest.raises(TypeError):
        to_go_json({"mounts": {"a": 1}})


def test_encode_struct_resources():
    assert (
        encode_struct({"cpu": {"period": 1, "shares": 2}}, "LinuxResources")
        == b'{"cpu":{"shares":2,"period":1}}'
    )


def test_roundtrip_is_valid_json(spec):
    assert json.loads(to_go_json(spec))["linux"]["cgroupsPath"] == "/default/c1"
