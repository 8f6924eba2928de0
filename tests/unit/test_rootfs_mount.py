"""The snapshot root filesystem satisfies the RootFS protocol the user lookups need."""

from __future__ import annotations

import pytest

from runcore.oci.rootfs import DirectoryRootFS
from runcore.oci.user import RootFSFileMissing, user_from_rootfs
from runcore.rootfs_mount import SnapshotRootFS


def test_missing_passwd_in_a_snapshot_is_the_go_open_error(tmp_path):
    rootfs = SnapshotRootFS(mounts=[])
    rootfs._reader = DirectoryRootFS(str(tmp_path))  # as if mounted at tmp_path
    with pytest.raises(RootFSFileMissing) as err:
        user_from_rootfs(rootfs, lambda entry: entry.name == "nobody")
    assert str(err.value) == f"open {tmp_path}/etc/passwd: no such file or directory"
