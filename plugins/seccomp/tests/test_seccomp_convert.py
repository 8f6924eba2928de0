"""--seccomp-profile FILE: decoded as ctr decodes it, then checked."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from profile_cases import CHECK_ERRORS, DECODE_CASES, DECODE_ERRORS, REFUSED_BY_CHECK  # noqa: E402
from runcore_seccomp.convert import (  # noqa: E402
    ProfileError,
    check_profile,
    decode_profile,
    docker_keys,
    load_profile,
)


@pytest.mark.parametrize("name", sorted(DECODE_CASES))
def test_decode_as_ctr_stores_it(name):
    text, expected = DECODE_CASES[name]
    got = decode_profile(text)
    assert got == expected
    # and the JSON key order is Go's field order
    assert json.dumps(got) == json.dumps(expected)


@pytest.mark.parametrize("name", sorted(DECODE_ERRORS))
def test_decode_errors(name):
    text, fragment = DECODE_ERRORS[name]
    with pytest.raises(ProfileError):
        decode_profile(text)
    # through the file loader: one line, naming the file
    path = f"/tmp/rcsec-{os.getpid()}-{name}.json"
    with open(path, "w") as f:
        f.write(text)
    try:
        with pytest.raises(ProfileError) as info:
            load_profile(path)
    finally:
        os.unlink(path)
    message = str(info.value)
    assert message.startswith(f'decoding seccomp profile failed "{path}": ')
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize("name", sorted(CHECK_ERRORS))
def test_check_errors(name, tmp_path):
    text, fragment = CHECK_ERRORS[name]
    profile = decode_profile(text)  # ctr stores these
    assert check_profile(profile)
    path = tmp_path / f"{name}.json"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    message = str(info.value)
    assert message.startswith(f'invalid seccomp profile "{path}": ')
    assert fragment in message and "\n" not in message


def test_valid_cases_pass_the_check():
    for name, (text, _) in DECODE_CASES.items():
        assert bool(check_profile(decode_profile(text))) is (name in REFUSED_BY_CHECK), name


def test_every_problem_is_reported():
    profile = decode_profile(
        json.dumps(
            {
                "defaultAction": "X",
                "architectures": ["Y"],
                "syscalls": [{"names": ["a"], "action": "Z", "args": [{"op": "W"}]}],
            }
        )
    )
    assert len(check_profile(profile)) == 4


def test_default_profile_passes_the_check():
    from runcore_seccomp.profile import default_profile

    for goarch in ("amd64", "arm64", "s390x", "riscv64", "mips64", "386"):
        assert check_profile(default_profile(["CAP_SYS_ADMIN", "CAP_BPF"], goarch=goarch)) == []


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    assert str(info.value) == (
        f'cannot load seccomp profile "{path}": open {path}: no such file or directory'
    )


def test_directory(tmp_path):
    with pytest.raises(ProfileError) as info:
        load_profile(str(tmp_path))
    assert str(info.value) == (
        f'cannot load seccomp profile "{tmp_path}": read {tmp_path}: is a directory'
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{}")
    path.chmod(0)
    with pytest.raises(ProfileError, match="permission denied"):
        load_profile(str(path))


def test_docker_keys_are_reported():
    text = DECODE_CASES["docker-format"][0]
    assert docker_keys(text) == ["archMap", "includes", "excludes", "name"]
    assert load_profile_text(text)[1] == ["archMap", "includes", "excludes", "name"]
    assert docker_keys(DECODE_CASES["oci-full"][0]) == []
    assert docker_keys("{") == []


def load_profile_text(text, _n=[0]):
    _n[0] += 1
    path = f"/tmp/rcsec-{os.getpid()}-{_n[0]}.json"
    with open(path, "w") as f:
        f.write(text)
    try:
        return load_profile(path)
    finally:
        os.unlink(path)


def test_long_s_and_kelvin_sign_fold_like_go():
    # U+017F folds to "s" in Go's encoding/json, U+212A to "k"; other letters do not fold.
    got = decode_profile(
        '{"defaultAction": "SCMP_ACT_ERRNO", "\u017fyscalls": [{"names": ["x"], '
        '"action": "SCMP_ACT_ALLOW"}], "d\u00e9faultAction": "no"}'
    )
    assert got == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW"}],
    }


def test_lone_surrogates_become_replacement_characters():
    got = decode_profile('{"defaultAction": "SCMP_ACT_ERRNO", "listenerMetadata": "a\\ud800b"}')
    assert got["listenerMetadata"] == "a\ufffdb"


def test_invalid_utf8_is_replaced(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b'{"defaultAction": "SCMP_ACT_ERRNO", "listenerMetadata": "a\xffb"}')
    profile, _ = load_profile(str(path))
    assert profile["listenerMetadata"] == "a\ufffdb"
