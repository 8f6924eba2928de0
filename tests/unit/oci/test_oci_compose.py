"""A whole ctr-run-like spec built in ctr's option order (§4.2 steps 7-13)."""
import json

from runcore.oci import (
    add_caps,
    apply_cpu_flags,
    apply_image_config,
    default_unix_spec,
    drop_caps,
    parse_annotations,
    parse_labels,
    to_go_json,
    validate_caps,
    with_additional_gids,
    with_annotations,
    with_default_unix_devices,
    with_env,
    with_env_file,
    with_host_network,
    with_mount_flags,
    with_ns,
    with_process_args,
    with_tty,
    with_user,
)


def test_image_run_in_ctr_order(tmp_path, rootfs):
    env_file = tmp_path / "env"
    env_file.write_text("A=1\nFOO=envfile\n")
    # step 10 validations come first in ctr
    annotations = parse_annotations(["z=0"])
    validate_caps(["CAP_SYS_ADMIN"])
    # step 7
    s = default_unix_spec("refcheck", "tr1")
    with_default_unix_devices(s)
    with_env_file(s, str(env_file))
    with_env(s, ["A", "C=3"])
    with_mount_flags(s, ["type=bind,src=/a,dst=/b,options=rbind:ro"])
    # step 8f
    apply_image_config(s, {"Env": ["PATH=/bin", "FOO=img"], "Cmd": ["sh"], "User": "alice"}, rootfs)
    # step 9
    with_process_args(s, ["id"])
    with_user(s, "bob", rootfs)
    with_additional_gids(s, "bob", rootfs)
    with_tty(s)
    # step 10
    with_host_network(s, "host1")
    with_annotations(s, annotations)
    add_caps(s, ["CAP_SYS_ADMIN"])
    drop_caps(s, ["CAP_KILL"])
    apply_cpu_flags(s, cpus=0.5)
    with_ns(s, "ipc:/proc/1/ns/ipc")
    # step 13
    with_annotations(s, parse_labels(["z=1"]))
    doc = json.loads(to_go_json(s))
    p = doc["process"]
    assert p["env"] == ["PATH=/bin", "FOO=envfile", "C=3", "TERM=xterm", "HOSTNAME=host1"]
    assert p["args"] == ["id"]
    assert p["user"] == {"uid": 1002, "gid": 1002, "additionalGids": [1002, 29]}
    assert p["terminal"] is True
    assert p["capabilities"]["bounding"][-1] == "CAP_SYS_ADMIN" and "CAP_KILL" not in p["capabilities"]["bounding"]
    assert doc["annotations"] == {"z": "1"}
    assert doc["linux"]["resources"]["cpu"] == {"shares": 1024, "quota": 50000, "period": 100000}
    assert doc["linux"]["namespaces"] == [{"type": "pid"}, {"type": "ipc", "path": "/proc/1/ns/ipc"}, {"type": "uts"}, {"type": "mount"}]
    assert [m["destination"] for m in doc["mounts"]][-3:] == ["/b", "/etc/hosts", "/etc/resolv.conf"]
