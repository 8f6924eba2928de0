"""Environment merge (§7.1) and --env-file reading (§3.4)."""

import os

import pytest

from runcore.oci import (
    EnvFileError,
    apply_image_config,
    parse_env_file,
    replace_or_append,
    with_env,
    with_env_file,
    with_tty,
)


def test_replace_or_append_verified_duplicates():
    image = ["PATH=/bin", "FOO=img", "KEEP=1"]
    overrides = ["A=1", "A=2", "FOO=x", "FOO=y"]
    assert replace_or_append(image, overrides) == ["PATH=/bin", "FOO=y", "KEEP=1", "A=1", "A=2"]


def test_replace_or_append_unset_only_touches_defaults():
    assert replace_or_append(["A=1", "B=2"], ["A", "C=3", "C"]) == ["B=2", "C=3"]


def test_replace_or_append_unset_then_set_again():
    assert replace_or_append(["A=1", "B=2"], ["A", "A=9"]) == ["A=9", "B=2"]


def test_replace_or_append_duplicate_default_keys_last_wins():
    assert replace_or_append(["A=1", "A=2"], ["A=3"]) == ["A=1", "A=3"]


def test_replace_or_append_drops_empty_entries():
    assert replace_or_append(["", "A=1"], ["NOEQ", ""]) == ["A=1"]
    assert replace_or_append(None, None) == []


def test_with_env_noop_for_empty_list(spec):
    with_env(spec, [])
    assert "env" not in spec["process"]


def test_verified_env_result(tmp_path, spec, rootfs):
    env_file = tmp_path / "envfile"
    env_file.write_bytes(b"A=1\n# c=3\nNOEQ\n\nB=2 \nFOO=envfile\n")
    with_env_file(spec, str(env_file))
    with_env(spec, ["NOEQ", "A", "C=3"])
    apply_image_config(spec, {"Env": ["PATH=/bin", "FOO=img", "KEEP=1"]}, rootfs)
    assert spec["process"]["env"] == ["PATH=/bin", "FOO=envfile", "KEEP=1", "# c=3", "B=2 ", "C=3"]


def test_tty_appends_term_without_dedupe(spec):
    with_env(spec, ["TERM=vt100"])
    with_tty(spec)
    assert spec["process"]["env"] == ["TERM=vt100", "TERM=xterm"]
    assert spec["process"]["terminal"] is True


def test_env_file_lines_are_raw(tmp_path):
    path = tmp_path / "env"
    # CRLF: one CR removed; CR CR LF: one kept; inner CR kept; final CR before EOF removed.
    path.write_bytes(b"A=1\r\nB=2\r\r\nC=3\rD=4\n# c=3\nNOEQ\n\n  X = y \nF=x\r")
    assert parse_env_file(str(path)) == [
        "A=1",
        "B=2\r",
        "C=3\rD=4",
        "# c=3",
        "NOEQ",
        "",
        "  X = y ",
        "F=x",
    ]


def test_env_file_merge_drops_lines_without_equals(tmp_path, spec):
    path = tmp_path / "env"
    path.write_bytes(b"A=1\r\nNOEQ\n\n# c=3\n")
    with_env_file(spec, str(path))
    assert spec["process"]["env"] == ["A=1", "# c=3"]


def test_env_file_invalid_utf8_kept_as_bytes(tmp_path):
    path = tmp_path / "env"
    path.write_bytes(b"E=\xff\n")
    assert parse_env_file(str(path)) == ["E=\udcff"]


def test_env_file_missing():
    with pytest.raises(EnvFileError) as exc:
        parse_env_file("/nonexist")
    assert str(exc.value) == "open /nonexist: no such file or directory"


def test_env_file_directory(tmp_path):
    with pytest.raises(EnvFileError) as exc:
        parse_env_file(str(tmp_path))
    assert str(exc.value) == f"read {tmp_path}: is a directory"


@pytest.mark.parametrize(
    "content, ok",
    [
        (b"A=" + b"x" * 65533 + b"\n", True),  # 65536 bytes with the LF: fits
        (b"A=" + b"x" * 65534 + b"\n", False),
        (b"A=" + b"x" * 65533, True),  # unterminated 65535 bytes
        (b"A=" + b"x" * 65534, False),  # unterminated 65536 bytes
        (b"A=" + b"x" * 65532 + b"\r\n", True),
        (b"B=1\n" + b"A=" + b"x" * 70000 + b"\nC=1\n", False),
    ],
)
def test_env_file_64k_line_limit(tmp_path, content, ok):
    path = tmp_path / "env"
    path.write_bytes(content)
    if ok:
        assert parse_env_file(str(path))[0].startswith("A=")
    else:
        with pytest.raises(EnvFileError) as exc:
            parse_env_file(str(path))
        assert str(exc.value) == "bufio.Scanner: token too long"


def test_env_file_unreadable(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can read anything")
    path = tmp_path / "env"
    path.write_text("A=1\n")
    path.chmod(0)
    with pytest.raises(EnvFileError) as exc:
        parse_env_file(str(path))
    assert str(exc.value) == f"open {path}: permission denied"
