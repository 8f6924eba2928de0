"""--device: DeviceFromPath, the directory walk and WithDevices (§7.5)."""

import os
import stat

import pytest

from runcore.oci import (
    DeviceError,
    NotADeviceError,
    device_from_path,
    devices_for,
    to_go_json,
    with_devices,
)
from runcore.oci.devices import running_in_userns


def test_device_from_path_dev_null():
    st = os.lstat("/dev/null")
    dev = device_from_path("/dev/null")
    assert dev == {
        "path": "/dev/null",
        "type": "c",
        "major": os.major(st.st_rdev),
        "minor": os.minor(st.st_rdev),
        "fileMode": st.st_mode & 0o7777,
        "uid": st.st_uid,
        "gid": st.st_gid,
    }


def test_device_from_path_block_and_mode(dev_tree):
    dev = device_from_path(str(dev_tree / "blk"))
    assert (dev["type"], dev["major"], dev["minor"], dev["fileMode"]) == ("b", 7, 0, 0o660)


def test_device_from_path_fifo_accepted(dev_tree):
    assert device_from_path(str(dev_tree / "fifo"))["type"] == "p"


@pytest.mark.parametrize("name", ["link", "file", "sub"])
def test_not_a_device(dev_tree, name):
    with pytest.raises(NotADeviceError) as exc:
        device_from_path(str(dev_tree / name))
    assert str(exc.value) == "not a device node"


def test_symlink_device_flag_is_not_a_device(dev_tree):
    # stat follows the link, but the entry is then built with lstat
    with pytest.raises(NotADeviceError):
        devices_for(str(dev_tree / "link"))


def test_missing_device():
    with pytest.raises(DeviceError) as exc:
        devices_for("/nonexistent/dev")
    assert (
        str(exc.value)
        == "error stating device path: stat /nonexistent/dev: no such file or directory"
    )


def test_directory_walk(dev_tree):
    devs = devices_for(str(dev_tree), in_userns=False)
    assert [(d["path"], d["type"], d["major"], d["minor"]) for d in devs] == [
        (f"{dev_tree}/blk", "b", 7, 0),
        (f"{dev_tree}/null", "c", 1, 3),
        (f"{dev_tree}/sub/zero", "c", 1, 5),
    ]


def test_directory_walk_trailing_slash_paths_cleaned(dev_tree):
    devs = devices_for(str(dev_tree) + "//", in_userns=False)
    assert devs[0]["path"] == f"{dev_tree}/blk"


def test_single_path_kept_verbatim(dev_tree):
    path = str(dev_tree) + "//null"
    assert devices_for(path)[0]["path"] == path


def test_container_path(dev_tree):
    devs = devices_for(str(dev_tree), "/dev/x", in_userns=False)
    assert [d["path"] for d in devs] == ["/dev/x/blk", "/dev/x/null", "/dev/x/sub/zero"]
    assert devices_for(str(dev_tree / "null"), "/dev/mynull")[0]["path"] == "/dev/mynull"


def test_with_devices_adds_rules(spec, dev_tree):
    with_devices(spec, str(dev_tree / "null"))
    with_devices(spec, str(dev_tree / "blk"), perms="r")
    assert spec["linux"]["devices"][0]["path"] == f"{dev_tree}/null"
    assert spec["linux"]["resources"]["devices"][-2:] == [
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "r"},
    ]
    uid, gid = os.getuid(), os.getgid()
    expected = (
        '"devices":[{"path":"%s/null","type":"c","major":1,"minor":3,"fileMode":438,"uid":%d,"gid":%d}'
        % (
            dev_tree,
            uid,
            gid,
        )
    )
    assert expected.encode() in to_go_json(spec)


def test_with_devices_error_leaves_spec(spec):
    before = repr(spec)
    with pytest.raises(DeviceError):
        with_devices(spec, "/nonexistent")
    assert repr(spec) == before


def test_permission_errors_ignored_only_in_userns(dev_tree):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    locked = dev_tree / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert len(devices_for(str(dev_tree), in_userns=True)) == 3
        with pytest.raises(DeviceError):
            devices_for(str(dev_tree), in_userns=False)
    finally:
        locked.chmod(0o755)


def test_running_in_userns(tmp_path):
    f = tmp_path / "uid_map"
    f.write_text("         0          0 4294967295\n")
    assert running_in_userns(str(f)) is False
    f.write_text("         0     100000      65536\n")
    assert running_in_userns(str(f)) is True
    f.write_text("")
    assert running_in_userns(str(f)) is True
    assert running_in_userns(str(tmp_path / "missing")) is False


def test_fifo_only_skipped_inside_walk(dev_tree):
    assert all(d["type"] != "p" for d in devices_for(str(dev_tree), in_userns=False))
    assert stat.S_ISFIFO(os.lstat(dev_tree / "fifo").st_mode)
