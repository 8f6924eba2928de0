"""User lookups through a mounted snapshot (``SnapshotRootFS``) when the image has no
``/etc/passwd`` or ``/etc/group`` (issue 18, defect 1).

ctr treats a missing file like an empty one for a numeric ``-u UID`` (uid=UID gid=0) and
fails with Go's ``open <path>: no such file or directory`` for a name. These tests mount a
directory read-only the way runcore mounts a snapshot, so they need root.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from runcore.oci.errors import UserLookupError
from runcore.oci.user import with_additional_gids, with_user
from runcore.rootfs_mount import SnapshotRootFS

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a snapshot needs root")


def _rootfs(tmp_path, variant: str) -> SnapshotRootFS:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    if variant in ("no-group", "full"):
        (root / "etc" / "passwd").write_text(
            "root:x:0:0::/root:/bin/sh\nalice:x:1000:1001::/:/bin/sh\n"
        )
    if variant in ("no-passwd", "dangling-passwd", "full"):
        (root / "etc" / "group").write_text("root:x:0:\nstaff:x:50:alice\n")
    if variant == "dangling-passwd":
        os.symlink("/nonexistent/passwd", root / "etc" / "passwd")
    mount = SimpleNamespace(type="bind", source=str(root), options=["rbind", "ro"])
    return SnapshotRootFS([mount])


def _spec() -> dict:
    return {"process": {"user": {"uid": 0, "gid": 0}}}


@pytest.mark.parametrize("variant", ["no-passwd", "no-group", "dangling-passwd", "no-etc-files"])
def test_numeric_user_without_files(tmp_path, variant):
    rootfs = _rootfs(tmp_path, variant)
    try:
        spec = _spec()
        with_user(spec, "1000", rootfs)
        with_additional_gids(spec, "1000", rootfs)
        user = spec["process"]["user"]
        if variant == "no-group":  # passwd has uid 1000 → its gid, no group memberships
            assert user == {"uid": 1000, "gid": 1001, "additionalGids": [1001]}
        else:
            assert user == {"uid": 1000, "gid": 0, "additionalGids": [0]}
    finally:
        rootfs.close()


@pytest.mark.parametrize("variant", ["no-passwd", "dangling-passwd"])
def test_user_name_without_passwd_is_go_open_error(tmp_path, variant):
    rootfs = _rootfs(tmp_path, variant)
    try:
        with pytest.raises(UserLookupError) as info:
            with_user(_spec(), "alice", rootfs)
        message = str(info.value)
        assert message.startswith("open /") and message.endswith(": no such file or directory"), (
            message
        )
        assert "\n" not in message
    finally:
        rootfs.close()


def test_group_name_without_group_is_go_open_error(tmp_path):
    rootfs = _rootfs(tmp_path, "no-group")
    try:
        with pytest.raises(UserLookupError) as info:
            with_user(_spec(), "1000:staff", rootfs)
        assert str(info.value).endswith("/etc/group: no such file or directory"), str(info.value)
    finally:
        rootfs.close()


def test_snapshot_rootfs_is_a_rootfs():
    from runcore.oci.rootfs import RootFS

    assert isinstance(SnapshotRootFS([]), RootFS)
