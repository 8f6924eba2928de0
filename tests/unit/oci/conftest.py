"""Fixtures for the runcore.oci unit tests: a container rootfs with the §7.4 passwd/group files."""

import os
import stat

import pytest

from runcore.oci import DirectoryRootFS, default_unix_spec, with_default_unix_devices

PASSWD = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001::/home/alice:/bin/sh\nbob:x:1002:1002::/home/bob:/bin/sh\n"
GROUP = "root:x:0:\nalicegrp:x:1001:\nwheel:x:10:root,alice\nstaff:x:50:alice\naudio:x:29:bob,root\nbob:x:1002:bob\n"


def write_rootfs(path, passwd=PASSWD, group=GROUP):
    """Create <path>/etc/{passwd,group} (None leaves a file out)."""
    etc = os.path.join(path, "etc")
    os.makedirs(etc, exist_ok=True)
    if passwd is not None:
        with open(os.path.join(etc, "passwd"), "w") as fh:
            fh.write(passwd)
    if group is not None:
        with open(os.path.join(etc, "group"), "w") as fh:
            fh.write(group)
    return DirectoryRootFS(str(path))


@pytest.fixture
def rootfs(tmp_path):
    """RootFS with the reference image's users alice/bob and groups alicegrp/wheel/staff/audio/bob."""
    return write_rootfs(tmp_path / "rootfs")


@pytest.fixture
def spec():
    """A fresh default spec for namespace 'default', container 'c1', with the default device rules."""
    s = default_unix_spec("default", "c1")
    with_default_unix_devices(s)
    return s


def _mknod(path, kind, major, minor, mode=0o666):
    """Create a device node, skipping the test where that is not allowed."""
    try:
        os.mknod(str(path), kind | mode, os.makedev(major, minor))
    except PermissionError:
        pytest.skip("mknod not permitted here")
    os.chmod(str(path), mode)  # undo the umask


@pytest.fixture
def dev_tree(tmp_path):
    """A fake /dev: devices, skipped dirs, console, FIFO, symlink, plain file."""
    d = tmp_path / "dev"
    d.mkdir()
    _mknod(d / "null", stat.S_IFCHR, 1, 3)
    _mknod(d / "blk", stat.S_IFBLK, 7, 0, 0o660)
    _mknod(d / "console", stat.S_IFCHR, 5, 1)
    (d / "sub").mkdir()
    _mknod(d / "sub" / "zero", stat.S_IFCHR, 1, 5)
    for skipped in ("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"):
        (d / skipped).mkdir()
        _mknod(d / skipped / "x", stat.S_IFCHR, 1, 9)
    os.mkfifo(str(d / "fifo"))
    os.symlink("null", d / "link")
    (d / "file").write_text("x")
    return d
