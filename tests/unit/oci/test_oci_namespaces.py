"""--with-ns, host namespaces and --uidmap/--gidmap."""

import pytest

from runcore.oci import (
    ValidationError,
    parse_id_mapping,
    parse_with_ns,
    to_go_json,
    with_host_namespace,
    with_linux_namespace,
    with_ns,
    with_user_namespace,
)


def ns_list(spec):
    return spec["linux"]["namespaces"]


def test_with_ns_replaces_in_place(spec):
    with_ns(spec, "network:/var/run/netns/x")
    assert ns_list(spec)[4] == {"type": "network", "path": "/var/run/netns/x"}
    with_ns(spec, "pid:/proc/1/ns/pid")
    assert ns_list(spec)[0] == {"type": "pid", "path": "/proc/1/ns/pid"}
    assert len(ns_list(spec)) == 5


def test_with_ns_appends_new_type(spec):
    with_ns(spec, "cgroup:/proc/1/ns/cgroup")
    with_ns(spec, "user:")
    assert ns_list(spec)[5:] == [{"type": "cgroup", "path": "/proc/1/ns/cgroup"}, {"type": "user"}]
    assert b'{"type":"user"}]' in to_go_json(spec)


def test_with_ns_split_at_first_colon():
    assert parse_with_ns("network:/a:b") == {"type": "network", "path": "/a:b"}


@pytest.mark.parametrize(
    "value, message",
    [
        ("network", "joining a Linux namespace using --with-ns requires the format 'nstype:path'"),
        ("", "joining a Linux namespace using --with-ns requires the format 'nstype:path'"),
        ("net:/x", "the Linux namespace type specified in --with-ns is not valid: net"),
        ("time:/x", "the Linux namespace type specified in --with-ns is not valid: time"),
        (":/x", "the Linux namespace type specified in --with-ns is not valid: "),
    ],
)
def test_with_ns_errors(value, message):
    with pytest.raises(ValidationError) as exc:
        parse_with_ns(value)
    assert str(exc.value) == message


def test_with_host_namespace(spec):
    with_host_namespace(spec, "network")
    with_host_namespace(spec, "network")
    assert [n["type"] for n in ns_list(spec)] == ["pid", "ipc", "uts", "mount"]


def test_with_linux_namespace_creates_linux():
    s = {}
    with_linux_namespace(s, {"type": "pid"})
    assert s == {"linux": {"namespaces": [{"type": "pid"}]}}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0:100000:65536", (0, 100000, 65536)),
        ("0x0:0o10:0b11", (0, 8, 3)),
        ("010:1_000:0x_ff", (8, 1000, 255)),
        ("0:4294967295:1", (0, 4294967295, 1)),
    ],
)
def test_parse_id_mapping(value, expected):
    m = parse_id_mapping(value)
    assert (m["containerID"], m["hostID"], m["size"]) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("1:2", "user namespace mappings require the format `container-id:host-id:size`"),
        ("1:2:3:4", "user namespace mappings require the format `container-id:host-id:size`"),
        (
            "a:1:1",
            'invalid container id for user namespace remapping: strconv.ParseUint: parsing "a": invalid syntax',
        ),
        (
            "0:-1:1",
            'invalid host id for user namespace remapping: strconv.ParseUint: parsing "-1": invalid syntax',
        ),
        (
            "0:4294967296:1",
            'invalid host id for user namespace remapping: strconv.ParseUint: parsing "4294967296": value out of range',
        ),
        (
            "0:0:",
            'invalid size for user namespace remapping: strconv.ParseUint: parsing "": invalid syntax',
        ),
        (
            "0:0:1__0",
            'invalid size for user namespace remapping: strconv.ParseUint: parsing "1__0": invalid syntax',
        ),
        (
            "0:0:09",
            'invalid size for user namespace remapping: strconv.ParseUint: parsing "09": invalid syntax',
        ),
        (
            "0x:0:1",
            'invalid container id for user namespace remapping: strconv.ParseUint: parsing "0x": invalid syntax',
        ),
    ],
)
def test_parse_id_mapping_errors(value, message):
    with pytest.raises(ValidationError) as exc:
        parse_id_mapping(value)
    assert str(exc.value) == message


def test_with_user_namespace(spec):
    uid = parse_id_mapping("0:100000:65536")
    gid = parse_id_mapping("0:200000:65536")
    with_user_namespace(spec, [uid], [gid])
    with_user_namespace(spec, [uid], [gid])
    assert [n["type"] for n in ns_list(spec)].count("user") == 1
    raw = to_go_json(spec)
    assert raw.startswith(b'{"ociVersion"')
    assert (
        b'"linux":{"uidMappings":[{"containerID":0,"hostID":100000,"size":65536},'
        b'{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":200000,"size":65536},'
    ) in raw
