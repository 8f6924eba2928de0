"""User resolution (§7.3/§7.4): WithUser, WithAdditionalGIDs and the image-config user.

The --user table and the error texts were also checked against Debian ctr 1.7.24 (`ctr c create --rootfs -u ...`).
"""

import os

import pytest

from conftest import write_rootfs
from runcore.oci import (
    DirectoryRootFS,
    NoGroupsFound,
    NoUsersFound,
    RootFSReadError,
    SpecError,
    UserLookupError,
    apply_image_config,
    parse_group,
    parse_passwd,
    rootfs_for_path,
    user_needs_rootfs,
    with_additional_gids,
    with_user,
)


def run_user(spec, value, rootfs):
    """Apply --user the way ctr does: WithUser then WithAdditionalGIDs."""
    with_user(spec, value, rootfs)
    with_additional_gids(spec, value, rootfs)
    u = spec["process"]["user"]
    return u["uid"], u["gid"], u["additionalGids"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("bob", (1002, 1002, [1002, 29])),
        ("1000", (1000, 1001, [1001, 10, 50])),
        ("1000:50", (1000, 50, [50])),
        ("alice:staff", (1000, 50, [50])),
        ("99999", (99999, 0, [0])),
        ("root", (0, 0, [0, 10, 29])),
        ("alice", (1000, 1001, [1001, 10, 50])),
        ("bob:0", (1002, 0, [0])),  # "bob:0" is nobody's name in /etc/group
        ("0:audio", (0, 29, [29])),
        ("alice:", (1000, 0, [0])),
        (":", (0, 0, [0])),
        ("+1000", (1000, 1001, [1001, 10, 50])),
    ],
)
def test_verified_user_table(spec, rootfs, value, expected):
    assert run_user(spec, value, rootfs) == expected


def test_image_user_alice(spec, rootfs):
    apply_image_config(spec, {"User": "alice", "Cmd": ["sh"]}, rootfs)
    u = spec["process"]["user"]
    assert (u["uid"], u["gid"], u["additionalGids"]) == (1000, 1001, [1001, 10, 50])


def test_image_without_user_uses_root_groups(spec, rootfs):
    apply_image_config(spec, {"Cmd": ["sh"]}, rootfs)
    assert spec["process"]["user"] == {"uid": 0, "gid": 0, "additionalGids": [0, 10, 29]}


def test_user_flag_replaces_image_user(spec, rootfs):
    apply_image_config(spec, {"User": "alice"}, rootfs)
    assert run_user(spec, "bob", rootfs) == (1002, 1002, [1002, 29])


@pytest.mark.parametrize(
    "value", ["nobody", "-1", "4294967295", "2147483648", "99999999999999999999", ""]
)
def test_unknown_or_out_of_range_user_is_a_name(spec, rootfs, value):
    with pytest.raises(NoUsersFound) as exc:
        with_user(spec, value, rootfs)
    assert str(exc.value) == "no users found"
    assert isinstance(exc.value, UserLookupError)


def test_max_int32_uid_is_numeric(spec, rootfs):
    assert run_user(spec, "2147483647", rootfs) == (2147483647, 0, [0])


def test_out_of_range_gid_is_a_group_name(spec, rootfs):
    with pytest.raises(NoGroupsFound) as exc:
        with_user(spec, "0:-1", rootfs)
    assert str(exc.value) == "no groups found"
    with pytest.raises(NoUsersFound):
        with_user(spec, "-1:-1", rootfs)


def test_unknown_group(spec, rootfs):
    with pytest.raises(NoGroupsFound) as exc:
        with_user(spec, "alice:nogroup", rootfs)
    assert str(exc.value) == "no groups found"


def test_user_checked_before_group(spec, rootfs):
    with pytest.raises(NoUsersFound):
        with_user(spec, "nobody:nogroup", rootfs)


@pytest.mark.parametrize("value", ["a:b:c", "1:2:3", "::"])
def test_invalid_user_value(spec, rootfs, value):
    with pytest.raises(SpecError) as exc:
        with_user(spec, value, rootfs)
    assert str(exc.value) == f"invalid USER value {value}"
    assert not isinstance(exc.value, UserLookupError)


def test_numeric_pair_needs_no_rootfs(spec):
    class Boom:
        def read_file(self, path):
            raise AssertionError("rootfs read")

        def host_path(self, path):
            return path

    with_user(spec, "1000:50", Boom())
    assert spec["process"]["user"] == {"uid": 1000, "gid": 50, "additionalGids": [50]}
    assert not user_needs_rootfs("1000:50")
    assert (
        user_needs_rootfs("1000") and user_needs_rootfs("alice:50") and user_needs_rootfs("1000:-1")
    )
    assert not user_needs_rootfs("a:b:c")


def test_missing_passwd(tmp_path, spec):
    rootfs = write_rootfs(tmp_path / "r", passwd=None, group=None)
    assert run_user(spec, "1000", rootfs) == (1000, 0, [0])
    with pytest.raises(UserLookupError) as exc:
        with_user(spec, "alice", rootfs)
    assert str(exc.value) == f"open {tmp_path}/r/etc/passwd: no such file or directory"


def test_missing_group_file(tmp_path, spec):
    rootfs = write_rootfs(tmp_path / "r", group=None)
    assert run_user(spec, "alice", rootfs) == (1000, 1001, [1001])
    with pytest.raises(UserLookupError) as exc:
        with_user(spec, "alice:staff", rootfs)
    assert str(exc.value) == f"open {tmp_path}/r/etc/group: no such file or directory"


def test_additional_gids_uid_without_passwd_entry(spec, rootfs):
    spec["process"]["user"].update(uid=5, gid=7)
    with_additional_gids(spec, "5", rootfs)
    assert spec["process"]["user"]["additionalGids"] == [7]


def test_additional_gids_keep_primary_position(spec, rootfs):
    spec["process"]["user"].update(uid=0, gid=29)
    with_additional_gids(spec, "root", rootfs)
    assert spec["process"]["user"]["additionalGids"] == [10, 29]


def test_passwd_parsing_quirks():
    data = b"  alice:x:1000:1001  \n\n#c:x:5:5\nshort\nbad:x:abc:-1\nbig:x:99999999999999999999:1\n"
    users = parse_passwd(data)
    assert [(u.name, u.uid, u.gid) for u in users] == [
        ("alice", 1000, 1001),
        ("#c", 5, 5),
        ("short", 0, 0),
        ("bad", 0, -1),
        ("big", 9223372036854775807, 1),
    ]


def test_group_parsing_quirks():
    groups = parse_group(b"# comment\n\n wheel:x:10:root,alice \r\nempty:x:11:\nnolist:x:12\n")
    assert [(g.name, g.gid, g.members) for g in groups] == [
        ("wheel", 10, ["root", "alice"]),
        ("empty", 11, []),
        ("nolist", 12, []),
    ]


def test_negative_passwd_ids_wrap_to_uint32(tmp_path, spec):
    rootfs = write_rootfs(tmp_path / "r", passwd="neg:x:-2:-1\n", group="g:x:-3:neg\n")
    assert run_user(spec, "neg", rootfs) == (4294967294, 4294967295, [4294967295, 4294967293])


def test_passwd_symlink_resolved_inside_root(tmp_path, spec):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("evil:x:666:666\n")
    root = tmp_path / "r"
    write_rootfs(root)
    (root / "etc" / "passwd").unlink()
    (root / "data").mkdir()
    (root / "data" / "passwd").write_text("carol:x:3000:3000\n")
    # absolute and ../ escapes must stay inside the root
    os.symlink("/../../../data/passwd", root / "etc" / "passwd")
    os.symlink("../../../..", root / "up")
    rootfs = DirectoryRootFS(str(root))
    assert run_user(spec, "carol", rootfs)[:2] == (3000, 3000)
    assert rootfs.resolve("/up/etc/passwd") == "/data/passwd"
    assert rootfs.read_file("/up/outside/passwd") is None


def test_symlink_loop(tmp_path):
    root = tmp_path / "r"
    (root / "etc").mkdir(parents=True)
    os.symlink("passwd", root / "etc" / "passwd")
    with pytest.raises(RootFSReadError) as exc:
        DirectoryRootFS(str(root)).read_file("/etc/passwd")
    assert str(exc.value) == "too many links"


def test_passwd_is_directory(tmp_path, spec):
    root = tmp_path / "r"
    (root / "etc" / "passwd").mkdir(parents=True)
    with pytest.raises(RootFSReadError) as exc:
        with_user(spec, "alice", DirectoryRootFS(str(root)))
    assert str(exc.value) == f"read {root}/etc/passwd: is a directory"


def test_passwd_token_too_long(tmp_path, spec):
    rootfs = write_rootfs(tmp_path / "r", passwd="x" * 70000 + "\n")
    with pytest.raises(UserLookupError) as exc:
        with_user(spec, "1", rootfs)
    assert str(exc.value) == "bufio.Scanner: token too long"


def test_rootfs_for_path():
    with pytest.raises(SpecError) as exc:
        rootfs_for_path("relative/dir")
    assert str(exc.value) == "rootfs absolute path is required"
    assert rootfs_for_path("/abs").root == "/abs"
