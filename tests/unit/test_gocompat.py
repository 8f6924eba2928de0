"""runcore.gocompat: Go's strconv, encoding/json rules and the declarative type tables."""

from __future__ import annotations

import json

import pytest

from runcore import gocompat
from runcore.gocompat import json as gojson
from runcore.gocompat.strconv import GoNumError, parse_atoi, parse_go_int, parse_int, parse_uint
from runcore.testing import run_cli

TABLE = """
pkg.Name = string

[pkg.Outer]
name        pkg.Name
count       int64               omitempty
small       uint8               omitempty
flag        bool                omitempty
ptr         *pkg.Inner          omitempty
items       []pkg.Inner         omitempty
tags        map[string]string   omitempty
value       pkg.Inner
any         interface {}        omitempty
blob        []byte              omitempty
kind        string              in=Embedded
"""


@pytest.fixture(scope="module")
def schema() -> gojson.Schema:
    return gojson.Schema.parse(TABLE + "\n[pkg.Inner]\nA  string\nbB int\n")


# ----------------------------------------------------------------------------- strconv


@pytest.mark.parametrize(
    "text,bits,value",
    [
        ("127", 8, 127),
        ("-128", 8, -128),
        ("0x7f", 8, None),
        ("9223372036854775807", 64, (1 << 63) - 1),
        ("-9223372036854775808", 64, -(1 << 63)),
        ("+0", 64, 0),
    ],
)
def test_parse_int_base10(text, bits, value):
    if value is None:
        with pytest.raises(GoNumError, match="invalid syntax"):
            parse_int(text, 10, bits)
    else:
        assert parse_int(text, 10, bits) == value


@pytest.mark.parametrize(
    "text,bits",
    [
        ("128", 8),
        ("-129", 8),
        ("9223372036854775808", 64),
        ("-9223372036854775809", 64),
        ("1" + "0" * 40, 64),
    ],
)
def test_parse_int_range(text, bits):
    with pytest.raises(GoNumError) as info:
        parse_int(text, 10, bits)
    assert str(info.value) == f'strconv.ParseInt: parsing "{text}": value out of range'


def test_parse_uint_and_atoi_texts():
    with pytest.raises(GoNumError) as info:
        parse_uint("-1", 0, 64)
    assert str(info.value) == 'strconv.ParseUint: parsing "-1": invalid syntax'
    with pytest.raises(GoNumError) as info:
        parse_atoi("x")
    assert str(info.value) == 'strconv.Atoi: parsing "x": invalid syntax'
    assert parse_uint("0b1_0", 0, 64) == 2 and parse_uint("0", 0, 64) == 0
    assert parse_go_int("4294967295", "uint32") == (1 << 32) - 1
    with pytest.raises(GoNumError, match="value out of range"):
        parse_go_int("4294967296", "uint32")


def test_old_module_names_still_importable():
    for name in (
        "go_quote",
        "errno_text",
        "path_error",
        "clean",
        "join",
        "atoi",
        "parse_uint",
        "to_uint32",
        "to_int64",
        "float_to_int64",
        "scan_lines",
        "trim_space",
        "decode",
        "ScannerTooLong",
        "GoNumError",
        "INT32_MAX",
    ):
        assert hasattr(gocompat, name), name
    from runcore.gocompat.url import parse_url
    from runcore.task.logurl import parse_url as task_parse_url

    assert parse_url is task_parse_url
    assert str(parse_url("file:///a b")) == "file:///a%20b"


# ----------------------------------------------------------------------------- decoding


def test_decode_fills_zero_values_and_folds_keys(schema):
    v = schema.decode(
        b'{"NAME":"n","Value":{"a":"x","BB":3},"unknown":1,"\\u212aind":"k"}', "pkg.Outer"
    )
    assert v["name"] == "n" and v["value"] == {"A": "x", "bB": 3}
    assert v["count"] == 0 and v["ptr"] is None and v["items"] is None and v["kind"] == "k"


def test_exact_name_wins_over_folded(schema):
    assert schema.decode(b'{"name":"a","NAME":"b"}', "pkg.Outer")["name"] == "b"
    assert schema.decode(b'{"NAME":"b","name":"a"}', "pkg.Outer")["name"] == "a"


def test_null_rules(schema):
    v = schema.decode(
        b'{"name":null,"count":null,"ptr":null,"items":null,"value":null}', "pkg.Outer"
    )
    assert (
        v["name"] == ""
        and v["count"] == 0
        and v["ptr"] is None
        and v["value"] == {"A": "", "bB": 0}
    )
    assert schema.decode(b"null", "pkg.Outer")["name"] == ""
    assert schema.decode(b'{"tags":{"a":null}}', "pkg.Outer")["tags"] == {"a": ""}


def test_repeated_struct_keys_merge_like_go(schema):
    v = schema.decode(
        b'{"ptr":{"A":"x"},"ptr":{"bB":2},"items":[{"A":"y"}],"items":[{"bB":1}]}', "pkg.Outer"
    )
    assert v["ptr"] == {"A": "x", "bB": 2}
    assert v["items"] == [{"A": "y", "bB": 1}]


@pytest.mark.parametrize(
    "doc,message",
    [
        (
            b'{"name":5}',
            "json: cannot unmarshal number into Go struct field Outer.name of type pkg.Name",
        ),
        (
            b'{"count":1.5}',
            "json: cannot unmarshal number 1.5 into Go struct field Outer.count of type int64",
        ),
        (
            b'{"small":256}',
            "json: cannot unmarshal number 256 into Go struct field Outer.small of type uint8",
        ),
        (
            b'{"count":"1"}',
            "json: cannot unmarshal string into Go struct field Outer.count of type int64",
        ),
        (
            b'{"items":{}}',
            "json: cannot unmarshal object into Go struct field Outer.items of type []pkg.Inner",
        ),
        (
            b'{"items":[{"bB":true}]}',
            "json: cannot unmarshal bool into Go struct field Inner.items.bB of type int",
        ),
        (
            b'{"kind":1}',
            "json: cannot unmarshal number into Go struct field Outer.Embedded.kind of type string",
        ),
        (b"[]", "json: cannot unmarshal array into Go value of type pkg.Outer"),
        (b'{"blob":"!!"}', "illegal base64 data at input byte 0"),
        (
            b'{"any":1e999}',
            "json: cannot unmarshal number 1e999 into Go struct field Outer.any of type float64",
        ),
        (b'{"name":"a"', "unexpected end of JSON input"),
        (b'{"name":"a"} x', "invalid character 'x' after top-level value"),
        (b'{"count":NaN}', "invalid character 'N' looking for beginning of value"),
        (b"[" * 20000, "exceeded max depth"),
    ],
)
def test_decode_errors(schema, doc, message):
    with pytest.raises(gojson.JSONError) as info:
        schema.decode(doc, "pkg.Outer")
    assert str(info.value).startswith(message), str(info.value)


def test_first_type_error_wins_and_decoding_goes_on(schema):
    with pytest.raises(gojson.JSONTypeError, match=r"Outer\.name of type"):
        schema.decode(b'{"name":1,"count":"x"}', "pkg.Outer")


def test_strict_refuses_unknown_fields(schema):
    with pytest.raises(gojson.JSONError, match='json: unknown field "zz"'):
        schema.decode(b'{"zz":1}', "pkg.Outer", strict=True)


def test_invalid_utf8_and_surrogates_become_replacement_characters(schema):
    assert schema.decode(b'{"name":"a\xffb"}', "pkg.Outer")["name"] == "a\ufffdb"
    assert schema.decode(b'{"name":"\\ud800"}', "pkg.Outer")["name"] == "\ufffd"


def test_yaml_mode_scalar_rules(schema):
    v = schema.decode_value(
        {"name": 1.5, "count": 3.0, "flag": True, "value": {"A": False}}, "pkg.Outer", yaml=True
    )
    assert v["name"] == "1.5" and v["count"] == 3 and v["value"]["A"] == "false"


# ----------------------------------------------------------------------------- marshalling


def test_marshal_field_order_and_omitempty(schema):
    value = {
        "tags": {"b": "1", "a": "<&>"},
        "name": "n",
        "count": 0,
        "value": {},
        "flag": False,
        "blob": b"hi",
        "ptr": {"bB": 0},
    }
    assert schema.marshal(value, "pkg.Outer") == (
        b'{"name":"n","ptr":{"A":"","bB":0},"tags":{"a":"\\u003c\\u0026\\u003e","b":"1"},'
        b'"value":{"A":"","bB":0},"blob":"aGk=","kind":""}'
    )


def test_marshal_round_trip_of_decoded(schema):
    doc = b'{"name":"x","count":-3,"items":[{"A":"a","bB":1}],"value":{"A":"","bB":0},"kind":"k"}'
    assert schema.marshal(schema.decode(doc, "pkg.Outer"), "pkg.Outer") == doc


def test_marshal_refuses_out_of_range(schema):
    with pytest.raises(gojson.MarshalError, match="out of range for uint8"):
        schema.marshal({"small": 256}, "pkg.Outer")


def test_runtime_spec_table_is_data():
    from runcore.oci.jsonutil import runtime_spec_schema

    spec = runtime_spec_schema()
    linux = spec.type("specs.Linux")
    assert [f.key for f in linux.fields][:4] == [
        "uidMappings",
        "gidMappings",
        "sysctl",
        "resources",
    ]
    assert spec.type("specs.LinuxCPU").fields[1].type.name == "*int64"
    assert json.loads(spec.marshal({"process": {"user": {"uid": 1}}}, "specs.Spec"))["process"][
        "user"
    ] == {"uid": 1, "gid": 0}


def test_schema_table_errors():
    with pytest.raises(ValueError, match="unknown Go type"):
        gojson.Schema.parse("[a.B]\nx  c.D\n")
    with pytest.raises(ValueError, match="outside a"):
        gojson.Schema.parse("x string\n")


# --------------------------------------------------------------------------- callers


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["images", "import", "{missing}"], "open {missing}: no such file or directory"),
        (
            ["spec", "--config", "{missing}", "c1"],
            "cannot load spec config file: open {missing}: no such file or directory",
        ),
    ],
)
def test_commands_print_open_errors_as_go_does(tmp_path, argv, expected) -> None:
    """Files the CLI cannot open give Go's ``*fs.PathError`` text (as ctr prints it)."""
    names = {"missing": str(tmp_path / "missing")}
    r = run_cli([a.format(**names) for a in argv])
    assert (r.exit_code, r.error) == (1, expected.format(**names))
