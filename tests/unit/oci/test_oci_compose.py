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
    assert (
        p["capabilities"]["bounding"][-1] == "CAP_SYS_ADMIN"
        and "CAP_KILL" not in p["capabilities"]["bounding"]
    )
    assert doc["annotations"] == {"z": "1"}
    assert doc["linux"]["resources"]["cpu"] == {"shares": 1024, "quota": 50000, "period": 100000}
    assert doc["linux"]["namespaces"] == [
        {"type": "pid"},
        {"type": "ipc", "path": "/proc/1/ns/ipc"},
        {"type": "uts"},
        {"type": "mount"},
    ]
    assert [m["destination"] for m in doc["mounts"]][-3:] == [
        "/b",
        "/etc/hosts",
        "/etc/resolv.conf",
    ]


def test_rootfs_run_golden_bytes(tmp_path):
    """Options of a `ctr run --rootfs` whose stored spec matched Debian ctr 1.7.24 byte for byte.

    ctr 1.7.24 flags: --env-file F --env C=3 --mount type=bind,src=/a,dst=/b,options=rbind:ro --read-only
    --cwd /w --annotation k=v> --cap-add CAP_SYS_ADMIN --cap-drop CAP_KILL --cpus 1.5
    --with-ns ipc:/proc/1/ns/ipc --memory-limit 1000000 --rdt-class g --hostname hh --label a<b=c&d
    (the compared run also had --net-host and --device /dev/null, left out here as host-dependent).
    """
    import os

    from runcore.oci import parse_annotations as pa
    from runcore.oci import (
        with_hostname,
        with_memory_limit,
        with_process_cwd,
        with_rdt,
        with_rootfs_path,
        with_rootfs_readonly,
    )

    env_file = tmp_path / "envf"
    env_file.write_bytes(b"A=1\r\nB=2\r\r\nE=<&>\bx\fy\x01\x7f\xff\xe2\x80\xa8\n# c=3\nNOEQ\n\n")
    s = default_unix_spec("r1", "r1")
    with_default_unix_devices(s)
    with_env_file(s, str(env_file))
    with_env(s, ["C=3"])
    with_mount_flags(s, ["type=bind,src=/a,dst=/b,options=rbind:ro"])
    with_rootfs_path(s, "/tmp/rootfs")
    with_rootfs_readonly(s)
    with_process_args(s, ["/bin/true", "x"])
    with_process_cwd(s, "/w")
    with_annotations(s, pa(["k=v>"]))
    add_caps(s, ["CAP_SYS_ADMIN"])
    drop_caps(s, ["CAP_KILL"])
    apply_cpu_flags(s, cpus=1.5)
    with_ns(s, "ipc:/proc/1/ns/ipc")
    with_memory_limit(s, 1000000)
    with_rdt(s, "g")
    with_hostname(s, "hh")
    with_annotations(s, parse_labels(["a<b=c&d"]))
    with open(os.path.join(os.path.dirname(__file__), "data", "run_rootfs_r1.json"), "rb") as fh:
        assert to_go_json(s) == fh.read()
