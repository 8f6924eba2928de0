"""Capabilities: CapEff parsing, cap-add/cap-drop, validation."""

import pytest

from runcore.oci import (
    CAPABILITIES,
    DEFAULT_CAPS,
    SpecError,
    ValidationError,
    add_caps,
    caps_from_bitmap,
    caps_from_proc_status,
    current_caps,
    drop_caps,
    validate_caps,
    with_capabilities,
)

STATUS = "Name:\tctr\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t{}\nCapBnd:\t000001ffffffffff\n"


def test_table():
    assert len(CAPABILITIES) == 41
    assert CAPABILITIES[0] == "CAP_CHOWN"
    assert CAPABILITIES[21] == "CAP_SYS_ADMIN"
    assert CAPABILITIES[40] == "CAP_CHECKPOINT_RESTORE"


def test_capeff_all_known_bits():
    assert caps_from_proc_status(STATUS.format("000001ffffffffff")) == CAPABILITIES


def test_capeff_bits_above_40_dropped():
    assert caps_from_proc_status(STATUS.format("ffffffffffffffff")) == CAPABILITIES
    assert caps_from_proc_status(STATUS.format("0000020000000001")) == ["CAP_CHOWN"]


def test_capeff_ascending_order():
    assert caps_from_bitmap((1 << 21) | (1 << 2) | 1) == [
        "CAP_CHOWN",
        "CAP_DAC_READ_SEARCH",
        "CAP_SYS_ADMIN",
    ]


def test_capeff_missing_or_zero():
    assert caps_from_proc_status("Name:\tx\n") == []
    assert caps_from_proc_status(STATUS.format("0000000000000000")) == []


def test_capeff_parse_error():
    with pytest.raises(SpecError) as exc:
        caps_from_proc_status("CapEff:\tzz\n")
    assert str(exc.value) == 'failed to parse line "CapEff:\\tzz"'


def test_current_caps_reads_given_file(tmp_path):
    status = tmp_path / "status"
    status.write_text(STATUS.format("00000000a80425fb"))
    caps = current_caps(str(status))
    assert caps[0] == "CAP_CHOWN" and "CAP_SYS_ADMIN" not in caps
    with pytest.raises(SpecError) as exc:
        current_caps(str(tmp_path / "missing"))
    assert str(exc.value) == f"open {tmp_path}/missing: no such file or directory"


@pytest.mark.parametrize("caps", [["SYS_ADMIN"], ["CAP_NET_ADMIN", "cap_chown"], [""]])
def test_validate_caps(caps):
    with pytest.raises(ValidationError) as exc:
        validate_caps(caps)
    assert str(exc.value) == "capabilities must be specified with 'CAP_' prefix"


def test_validate_caps_ok_even_if_unknown():
    validate_caps(["CAP_WHATEVER", "CAP_"])


def test_add_caps_appends_missing_only(spec):
    add_caps(spec, ["CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_SYS_ADMIN"])
    c = spec["process"]["capabilities"]
    assert c["bounding"] == DEFAULT_CAPS + ["CAP_SYS_ADMIN"]
    assert c["effective"] == c["bounding"] == c["permitted"]
    assert "inheritable" not in c


def test_add_caps_lists_independent(spec):
    c = spec["process"]["capabilities"]
    c["effective"] = ["CAP_X"]
    add_caps(spec, ["CAP_X", "CAP_Y"])
    assert c["effective"] == ["CAP_X", "CAP_Y"]
    assert c["bounding"][-2:] == ["CAP_X", "CAP_Y"]


def test_drop_caps_including_inheritable(spec):
    c = spec["process"]["capabilities"]
    c["inheritable"] = ["CAP_CHOWN", "CAP_KILL"]
    drop_caps(spec, ["CAP_CHOWN", "CAP_NOPE"])
    for key in ("bounding", "effective", "permitted"):
        assert c[key] == DEFAULT_CAPS[1:]
    assert c["inheritable"] == ["CAP_KILL"]


def test_drop_then_add_order(spec):
    # ctr applies --cap-add before --cap-drop
    add_caps(spec, ["CAP_CHOWN"])
    drop_caps(spec, ["CAP_CHOWN"])
    assert "CAP_CHOWN" not in spec["process"]["capabilities"]["bounding"]


def test_with_capabilities_inheritable_rules(spec):
    c = spec["process"]["capabilities"]
    c["inheritable"] = ["CAP_KILL", "CAP_SYS_ADMIN"]
    with_capabilities(spec, ["CAP_SYS_ADMIN", "CAP_CHOWN"])
    assert c["inheritable"] == ["CAP_SYS_ADMIN"]
    assert c["bounding"] == ["CAP_SYS_ADMIN", "CAP_CHOWN"]
    with_capabilities(spec, [])
    assert "inheritable" not in c and c["bounding"] == []
