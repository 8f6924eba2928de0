"""--mount CSV parsing and --net-host (texts checked against a real ctr built with Go's encoding/csv)."""

import pytest

from runcore.oci import (
    MountSpecError,
    parse_mount_flag,
    to_go_json,
    with_host_network,
    with_mount_flags,
)
from runcore.oci.mounts import host_hostname, read_csv_record, without_mounts


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            "type=bind,src=/a,dst=/b,options=rbind:ro",
            {"destination": "/b", "type": "bind", "source": "/a", "options": ["rbind", "ro"]},
        ),
        (
            "type=bind,source=/a,destination=/b",
            {"destination": "/b", "type": "bind", "source": "/a"},
        ),
        ('"type=bind",dst=/x', {"destination": "/x", "type": "bind"}),
        ('type=bind,"src=/a,b",dst=/c', {"destination": "/c", "type": "bind", "source": "/a,b"}),
        ('"type=b""ind",dst=/x', {"destination": "/x", "type": 'b"ind'}),
        ("type=bind,options=", {"destination": "", "type": "bind", "options": [""]}),
        ("\n\ntype=bind\nfoo", {"destination": "", "type": "bind"}),
        ("dst=/x\r", {"destination": "/x"}),
        ("dst=/x\r\nfoo", {"destination": "/x"}),
        ("dst=/a=b", {"destination": "/a=b"}),
        ("dst=/a,dst=/b", {"destination": "/b"}),
        ('dst=/x,"src=a\nb"', {"destination": "/x", "source": "a\nb"}),
    ],
)
def test_parse_mount_flag(value, expected):
    assert parse_mount_flag(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("type=bind,foo", "invalid mount specification: expected key=val"),
        ("type=bind,,dst=/x", "invalid mount specification: expected key=val"),
        ("foo=bar", 'mount option "foo" not supported'),
        ("   type=bind", 'mount option "   type" not supported'),
        ("ty\tpe=x", 'mount option "ty\\tpe" not supported'),
        ("", "EOF"),
        ("\n\r\n", "EOF"),
        ('a"b=c', 'parse error on line 1, column 2: bare " in non-quoted-field'),
        ('type="bind"', 'parse error on line 1, column 6: bare " in non-quoted-field'),
        ('é"x', 'parse error on line 1, column 3: bare " in non-quoted-field'),
        ('"type=bind', 'parse error on line 1, column 11: extraneous or missing " in quoted-field'),
        (
            '"type=bind"x',
            'parse error on line 1, column 11: extraneous or missing " in quoted-field',
        ),
        (
            '"type=bind\nx"y',
            'record on line 1; parse error on line 2, column 2: extraneous or missing " in quoted-field',
        ),
        (
            'dst=/x,"type=bind\nx',
            'record on line 1; parse error on line 2, column 2: extraneous or missing " in quoted-field',
        ),
        (
            'dst=/x,"type=bind\n',
            'parse error on line 1, column 19: extraneous or missing " in quoted-field',
        ),
    ],
)
def test_parse_mount_flag_errors(value, message):
    with pytest.raises(MountSpecError) as exc:
        parse_mount_flag(value)
    assert str(exc.value) == message


def test_csv_reader_fields():
    assert read_csv_record('a,"b,c",,"d""e"') == ["a", "b,c", "", 'd"e']
    assert read_csv_record('"a\r\nb",c') == ["a\nb", "c"]


def test_with_mount_flags_appends_after_defaults(spec):
    with_mount_flags(spec, ["type=bind,src=/a,dst=/b,options=rbind:ro", "type=tmpfs,dst=/t"])
    assert [m["destination"] for m in spec["mounts"]][-3:] == ["/run", "/b", "/t"]
    assert b'{"destination":"/t","type":"tmpfs"}' in to_go_json(spec)


def test_with_mount_flags_first_error_nothing_added(spec):
    with pytest.raises(MountSpecError):
        with_mount_flags(spec, ["dst=/ok", "bad"])
    assert len(spec["mounts"]) == 7


def test_with_host_network(spec):
    with_mount_flags(spec, ["type=bind,src=/a,dst=/b"])
    spec["process"]["env"] = ["HOSTNAME=old", "A=1"]
    with_host_network(spec, "myhost")
    assert [ns["type"] for ns in spec["linux"]["namespaces"]] == ["pid", "ipc", "uts", "mount"]
    assert spec["mounts"][-3:] == [
        {"destination": "/b", "type": "bind", "source": "/a"},
        {
            "destination": "/etc/hosts",
            "type": "bind",
            "source": "/etc/hosts",
            "options": ["rbind", "ro"],
        },
        {
            "destination": "/etc/resolv.conf",
            "type": "bind",
            "source": "/etc/resolv.conf",
            "options": ["rbind", "ro"],
        },
    ]
    assert spec["process"]["env"] == ["HOSTNAME=myhost", "A=1"]


def test_host_hostname():
    assert host_hostname() != ""


def test_without_mounts(spec):
    without_mounts(spec, ["/run", "/dev/shm"])
    assert "/run" not in [m["destination"] for m in spec["mounts"]]
    assert len(spec["mounts"]) == 5
