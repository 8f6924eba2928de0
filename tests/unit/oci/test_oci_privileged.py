"""--privileged: WithPrivileged, WithAllDevicesAllowed, WithHostDevices."""

import json

from runcore.oci import (
    CAPABILITIES,
    to_go_json,
    with_all_devices_allowed,
    with_host_devices,
    with_privileged,
)


def test_with_privileged(spec):
    spec["mounts"].append(
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["ro", "nosuid"],
        }
    )
    spec["process"]["apparmorProfile"] = "x"
    spec["process"]["selinuxLabel"] = "y"
    spec["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO"}
    with_privileged(spec, CAPABILITIES)
    c = spec["process"]["capabilities"]
    assert c["bounding"] == c["effective"] == c["permitted"] == CAPABILITIES
    doc = json.loads(to_go_json(spec))
    assert "maskedPaths" not in doc["linux"] and "readonlyPaths" not in doc["linux"]
    assert "seccomp" not in doc["linux"]
    assert "apparmorProfile" not in doc["process"] and "selinuxLabel" not in doc["process"]
    sysfs = [m for m in doc["mounts"] if m["type"] == "sysfs"][0]
    assert sysfs["options"] == ["nosuid", "noexec", "nodev", "rw"]
    assert doc["mounts"][-1]["options"] == ["rw", "nosuid"]
    # device rules untouched by WithPrivileged alone (--privileged-without-host-devices)
    assert len(doc["linux"]["resources"]["devices"]) == 10


def test_with_privileged_inheritable_filtered(spec):
    spec["process"]["capabilities"]["inheritable"] = ["CAP_CHOWN", "CAP_SYS_ADMIN"]
    with_privileged(spec, ["CAP_CHOWN"])
    assert spec["process"]["capabilities"]["inheritable"] == ["CAP_CHOWN"]
    with_privileged(spec, [])
    doc = json.loads(to_go_json(spec))
    assert doc["process"]["capabilities"] == {}


def test_with_privileged_reads_capeff_by_default(spec):
    with_privileged(spec)
    assert isinstance(spec["process"]["capabilities"]["bounding"], list)


def test_all_devices_allowed_replaces_rules(spec):
    with_all_devices_allowed(spec)
    assert spec["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert b'"resources":{"devices":[{"allow":true,"access":"rwm"}]}' in to_go_json(spec)


def test_host_devices_appends_linux_devices_only(spec, dev_tree):
    with_all_devices_allowed(spec)
    with_host_devices(spec, dev_root=str(dev_tree), in_userns=False)
    assert [d["path"] for d in spec["linux"]["devices"]] == [
        f"{dev_tree}/blk",
        f"{dev_tree}/null",
        f"{dev_tree}/sub/zero",
    ]
    assert spec["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
