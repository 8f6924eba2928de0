"""Fixtures for the runcore.oci unit tests: a container rootfs with the §7.4 passwd/group files."""
import os

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
