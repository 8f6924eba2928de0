"""Quantities, YAML scalars and configuration decoding as goresctrl v0.3.0 sees them."""

import math

import pytest

from runcore_blockio import _go, config, goyaml, quantity


# ------------------------------------------------------------------ quantities
@pytest.mark.parametrize(
    "text,value",
    [
        ("0", 0),
        ("80", 80),
        ("+80", 80),
        ("007", 7),
        ("50M", 50_000_000),
        ("10k", 10_000),
        ("1Mi", 1 << 20),
        ("1Ki", 1024),
        ("2Gi", 2 << 30),
        ("1.5Gi", 1610612736),
        ("1.5", 2),
        ("1.01", 2),
        ("1500m", 2),
        ("1000m", 1),
        ("1m", 1),
        ("1n", 1),
        ("0.0", 0),
        ("1e3", 1000),
        ("1E3", 1000),
        ("1e+06", 1_000_000),
        ("1.5e6", 1_500_000),
        ("5e-1", 1),
        ("1E", 10**18),
        ("1P", 10**15),
        ("1T", 10**12),
        ("1G", 10**9),
        ("-1.5", -2),
        ("-5", -5),
        ("k", 0),
        ("Ki", 0),
        (".5", 1),
        ("1.G", 10**9),
        ("0.0000000001", 1),  # rounds up to the nano, then to 1
        ("9Ei", (1 << 63) - 1),  # binary values are capped at int64
        ("10E", 0),
        ("1e99", 0),  # int64 fast path overflow gives 0, as in Go
    ],
)
def test_quantity_values(text, value):
    assert quantity.parse(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "x", "1x", "K", "e", "1e", "50 M", " 5", "1.2.3", "1Mb", "--1", "1e1.5", "ki", "1_000"],
)
def test_quantity_errors(text):
    with pytest.raises(quantity.QuantityError):
        quantity.parse(text)


# ------------------------------------------------------------------ Go formatting
@pytest.mark.parametrize(
    "value,text",
    [
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.5, "0.5"),
        (1.5, "1.5"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (12345678.9, "1.2345679e+07"),
        (0.1, "0.1"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
        (-2.0, "-2"),
    ],
)
def test_float_formatting_32(value, text):
    assert _go.format_float_g(value, 32) == text


def test_quote_and_multierror():
    assert _go.quote('a"b\n\x01é') == '"a\\"b\\n\\x01é"'
    assert _go.multierror(["x"]) == "1 error occurred:\n\t* x\n\n"
    assert _go.multierror(["x", "y"]) == "2 errors occurred:\n\t* x\n\t* y\n\n"
    assert _go.slice_v(["/dev/a", "/dev/b"]) == "[/dev/a /dev/b]"


# ------------------------------------------------------------------ go-yaml scalars
@pytest.mark.parametrize(
    "plain,value",
    [
        ("80", 80),
        ("0x10", 16),
        ("0o17", 15),
        ("017", 15),
        ("0b101", 5),
        ("1_000", 1000),
        ("1.5", 1.5),
        ("1e6", 1e6),
        ("y", True),
        ("Yes", True),
        ("off", False),
        ("n", False),
        ("~", None),
        ("null", None),
        ("", None),
        (".inf", math.inf),
        ("-.inf", -math.inf),
        ("1:20", "1:20"),
        ("2001-12-14", "2001-12-14"),
        ("50M", "50M"),
        ("08", 8.0),
        ("abc", "abc"),
        ("+5", 5),
        ("-0x10", -16),
    ],
)
def test_go_yaml_plain_scalars(plain, value):
    assert goyaml.resolve_plain(plain) == value


@pytest.mark.parametrize(
    "value,text",
    [
        (80, "80"),
        (True, "true"),
        (False, "false"),
        (1e6, "1e+06"),
        (1.5, "1.5"),
        ("x", "x"),
        (None, None),
    ],
)
def test_scalars_become_strings_for_string_fields(value, text):
    assert goyaml.scalar_to_string(value) == text


def test_only_first_document_and_merge_keys():
    doc = goyaml.load(b"a: &x {k: 1}\nb:\n  <<: *x\n  j: 2\n---\nc: 3\n")
    assert doc == {"a": {"k": 1}, "b": {"k": 1, "j": 2}}


def test_quoted_scalars_stay_strings():
    assert goyaml.load(b"a: '80'\nb: \"y\"\nc: !!str 1.0\n") == {"a": "80", "b": "y", "c": "1.0"}


def test_non_string_keys_become_strings():
    assert goyaml.load(b"1: a\ntrue: b\n1.5: c\n") == {"1": "a", "true": "b", "1.5": "c"}


def test_yaml_syntax_error_has_go_yaml_form():
    with pytest.raises(goyaml.YAMLError) as exc:
        goyaml.load(b"Classes:\n  a: [1\n")
    assert str(exc.value).startswith("yaml: line ")


# ------------------------------------------------------------------ config decoding
def test_empty_file_is_no_configuration():
    assert config.parse(b"") is None
    assert config.parse(b"# only a comment\n") is None
    assert config.parse(b"Classes:\n") == []


def test_keys_are_case_insensitive():
    classes = config.parse(
        b"classes:\n  c:\n    - devices: [/dev/x]\n      WEIGHT: 50\n"
        b"      throttlereadbps: 1M\n      ThrottleWriteIOPS: 5\n"
    )
    ((name, items),) = classes
    assert name == "c"
    item = items[0]
    assert item.devices == ["/dev/x"]
    assert (item.weight, item.throttle_read_bps, item.throttle_write_iops) == ("50", "1M", "5")


def test_keys_fold_as_encoding_json_folds_them():
    # the long s folds to S (as the Kelvin sign to K); other non-ASCII letters match nothing
    ((_, items),) = config.parse(
        "Claſſes:\n  c:\n    - ThrottleReadIOPſ: 7\n      wéight: 9\n".encode()
    )
    assert (items[0].throttle_read_iops, items[0].weight) == ("7", "")


def test_two_keys_for_one_field_the_last_in_byte_order_wins():
    # json.Marshal sorts keys: "WEIGHT" < "Weight" < "weight"
    ((_, items),) = config.parse(
        b"Classes:\n  c:\n    - weight: 30\n      WEIGHT: 10\n      Weight: 20\n"
    )
    assert items[0].weight == "30"


def test_null_leaves_a_string_field_unchanged():
    ((_, items),) = config.parse(b"Classes:\n  c:\n    - WEIGHT: 10\n      Weight: ~\n")
    assert items[0].weight == "10"


def test_scalars_are_strings_and_unknown_keys_ignored():
    ((_, items),) = config.parse(
        b"Classes:\n  c:\n    - Weight: 80\n      Other: [1]\n      Devices: [1, y]\n"
    )
    assert items[0].weight == "80"
    assert items[0].devices == ["1", "true"]


def test_devices_absent_null_or_empty():
    ((_, items),) = config.parse(
        b"Classes:\n  c:\n    - Weight: 1\n    - Devices: ~\n    - Devices: []\n    - ~\n"
    )
    assert [i.devices for i in items] == [None, None, [], None]


@pytest.mark.parametrize(
    "text,message",
    [
        (b"- a\n", "json: cannot unmarshal array into Go value of type blockio.Config"),
        (b"hello\n", "json: cannot unmarshal string into Go value of type blockio.Config"),
        (
            b"Classes: 5\n",
            "json: cannot unmarshal number into Go struct field Config.Classes of type "
            "map[string][]blockio.DevicesParameters",
        ),
        (
            b"Classes:\n  c: {Weight: 1}\n",
            "json: cannot unmarshal object into Go struct field "
            "Config.Classes of type []blockio.DevicesParameters",
        ),
        (
            b"Classes:\n  c: [x]\n",
            "json: cannot unmarshal string into Go struct field "
            "Config.Classes of type blockio.DevicesParameters",
        ),
        (
            b"Classes:\n  c: [{Devices: /dev/vda}]\n",
            "json: cannot unmarshal string into Go struct "
            "field DevicesParameters.Classes.Devices of type []string",
        ),
        (
            b"Classes:\n  c: [{Weight: [1]}]\n",
            "json: cannot unmarshal array into Go struct field "
            "DevicesParameters.Classes.Weight of type string",
        ),
    ],
)
def test_type_errors(text, message):
    with pytest.raises(config.ConfigError) as exc:
        config.parse(text)
    assert str(exc.value) == "error unmarshaling JSON: while decoding JSON: " + message


def test_yaml_errors_are_wrapped():
    with pytest.raises(config.ConfigError) as exc:
        config.parse(b"Classes: [\n")
    assert str(exc.value).startswith("error converting YAML to JSON: yaml: line ")


@pytest.mark.parametrize("text", [b"? [a]\n: 1\n", b"~: 1\n"])
def test_unsupported_map_keys(text):
    with pytest.raises(config.ConfigError) as exc:
        config.parse(text)
    assert str(exc.value).startswith("error converting YAML to JSON: Unsupported map key of type: ")
