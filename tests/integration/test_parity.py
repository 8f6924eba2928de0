"""Parity with ctr 1.7.24: same flags, same stored container record, spec and snapshot.

Every case creates one container with ``ctr run -d --null-io`` and one with
``runcore create`` in the same namespace, then diffs ``ctr containers info`` and
``ctr snapshots info`` with the ids replaced. Error cases check that both tools refuse
and that runcore leaves nothing behind (the ``namespace`` fixture's leak check).
"""

from __future__ import annotations

import json

import pytest

from runcore.testing.parity import compare, diff, remove_ctr_container

pytestmark = pytest.mark.containerd

#: (case id, flags, command); "{tmp}" is replaced by a per-test directory with files.
CASES = [
    ("defaults", [], ["sleep", "1000"]),
    ("image-cmd", [], []),
    (
        "env",
        ["--env", "A=1", "--env", "A=2", "--env", "FOO=x", "--env", "FOO=y", "--env", "KEEP"],
        [],
    ),
    ("env-file", ["--env-file", "{tmp}/env", "--env", "NOEQ", "--env", "A", "--env", "C=3"], []),
    ("cwd", ["--cwd", "/tmp"], []),
    ("label", ["--label", "l1=v1", "--label", "flag", "--label", "org.example.label=over"], []),
    ("annotation", ["--annotation", "a=b", "--annotation", "l1=ann", "--label", "l1=label"], []),
    (
        "mount",
        [
            "--mount",
            "type=bind,src={tmp},dst=/host,options=rbind:ro",
            "--mount",
            "type=tmpfs,source=tmpfs,destination=/scratch",
        ],
        [],
    ),
    ("net-host", ["--net-host"], []),
    ("privileged", ["--privileged"], []),
    ("privileged-no-devices", ["--privileged", "--privileged-without-host-devices"], []),
    ("read-only", ["--read-only"], []),
    (
        "runtime-other",
        ["--runtime", "io.containerd.runc.v1", "--runtime-config-path", "/etc/rt.toml"],
        [],
    ),
    ("runc-options", ["--runc-binary", "/usr/sbin/runc", "--runc-root", "/run/rc-runc"], []),
    ("runc-systemd", ["--cgroup", "machine.slice:rc:test", "--runc-systemd-cgroup"], []),
    ("cgroup", ["--cgroup", "/custom/path"], []),
    ("cgroup-empty", ["--cgroup", ""], []),
    ("tty", ["-t"], []),
    ("tty-env", ["--env", "TERM=vt100", "-t"], []),
    ("with-ns", ["--with-ns", "network:/var/run/netns/rc-none", "--with-ns", "cgroup:/x/y"], []),
    ("allow-new-privs", ["--allow-new-privs"], []),
    ("memory-limit", ["--memory-limit", "67108864"], []),
    # Go flag syntax and the Go types' bounds (issue 18, defect 3): ctr stores int64(uint64 max) = -1
    (
        "numbers-go-syntax",
        ["--memory-limit", "0x4000000", "--cpu-shares", "0o1000", "--cpu-period", "1_000_000"],
        [],
    ),
    (
        "numbers-max",
        [
            "--memory-limit",
            "18446744073709551615",
            "--cpu-quota",
            "9223372036854775807",
            "--cpu-period",
            "18446744073709551615",
            "--cpu-shares",
            "9223372036854775807",
        ],
        [],
    ),
    (
        "numbers-min",
        ["--cpu-quota", "-9223372036854775808", "--cpu-shares", "-9223372036854775808"],
        [],
    ),
    ("device", ["--device", "/dev/null", "--device", "/dev/zero"], []),
    (
        "cap-add-drop",
        ["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_CHOWN", "--cap-drop", "CAP_NET_RAW"],
        [],
    ),
    ("rdt-class", ["--rdt-class", "gold"], []),
    ("no-cpu-shares", ["--cpu-shares", "0"], []),
    ("cpus", ["--cpus", "1.5", "--cpu-shares", "512"], []),
    ("cpu-quota-period", ["--cpu-quota", "20000", "--cpu-period", "50000"], []),
    ("cpu-period-only", ["--cpu-period", "50000"], []),
    ("rootfs-propagation", ["--rootfs-propagation", "rshared"], []),
    ("hostname", ["--hostname", "box1"], []),
    ("platform", ["--platform", "linux/amd64"], []),
    ("snapshotter-native", ["--snapshotter", "native"], []),
    ("snapshotter-label", ["--snapshotter-label", "x=y", "--snapshotter-label", "flag"], []),
    ("user-bob", ["-u", "bob"], []),
    ("user-uid", ["--user", "1000"], []),
    ("user-uid-gid", ["--user", "1000:50"], []),
    ("user-name-group", ["--user", "alice:staff"], []),
    ("user-unknown-uid", ["--user", "99999"], []),
    ("user-root", ["--user", "root"], []),
    (
        "combo",
        [
            "--privileged",
            "--cap-drop",
            "CAP_SYS_ADMIN",
            "--net-host",
            "--env",
            "X=1",
            "--read-only",
            "--hostname",
            "h",
            "--label",
            "a=b",
            "--memory-limit",
            "1000000",
            "--cpus",
            "0.5",
            "--cwd",
            "/",
            "-u",
            "alice",
        ],
        ["sh", "-c", "true"],
    ),
]

#: Cases that need containerd 1.7 (the flag or record field does not exist in 1.6).
ONLY_17 = {"sandbox"}

ERROR_CASES = [
    ("cap-prefix", ["--cap-add", "SYS_ADMIN"], "capabilities must be specified with 'CAP_' prefix"),
    ("privileged-without", ["--privileged-without-host-devices"], "without 'privileged' specified"),
    (
        "cpus-and-quota",
        ["--cpus", "1", "--cpu-quota", "1000"],
        "cpus and quota/period should be used separately",
    ),
    ("with-ns-format", ["--with-ns", "network"], "requires the format 'nstype:path'"),
    ("with-ns-type", ["--with-ns", "foo:/x"], "not valid: foo"),
    ("systemd-no-cgroup", ["--runc-systemd-cgroup"], "requires --cgroup to be set"),
    (
        "runc-binary-runtime",
        ["--runtime", "io.containerd.runc.v1", "--runc-binary", "x"],
        "only supported",
    ),
    (
        "annotation-format",
        ["--annotation", "noequal"],
        "invalid key=value format annotation: noequal",
    ),
    ("mount-format", ["--mount", "type=bind,src"], "invalid mount specification: expected key=val"),
    ("mount-option", ["--mount", "type=bind,foo=bar"], 'mount option "foo" not supported'),
    ("env-file-missing", ["--env-file", "/nonexist"], "open /nonexist: no such file or directory"),
    ("device-missing", ["--device", "/dev/rc-nonexistent"], "no such file or directory"),
    ("device-not-device", ["--device", "/etc/hostname"], "not a device node"),
    ("user-unknown", ["-u", "nobodyhere"], "no users found"),
    ("group-unknown", ["-u", "alice:nosuchgroup"], "no groups found"),
    ("user-format", ["-u", "a:b:c"], "invalid USER value a:b:c"),
    ("snapshotter-unknown", ["--snapshotter", "nosuch"], "snapshotter not loaded: nosuch"),
    ("platform-bad", ["--platform", "linux/arm64/v8/extra"], "cannot parse platform specifier"),
    ("memory-limit-wraps", ["--memory-limit", str((1 << 64) + (2 << 20))], "value out of range"),
    ("memory-limit-negative", ["--memory-limit", "-5"], "invalid syntax"),
    ("cpu-quota-range", ["--cpu-quota", "99999999999999999999"], "value out of range"),
    ("cpu-quota-min", ["--cpu-quota", "-9223372036854775809"], "value out of range"),
    ("cpu-period-range", ["--cpu-period", "18446744073709551616"], "value out of range"),
    ("cpu-shares-range", ["--cpu-shares", "9223372036854775808"], "value out of range"),
    ("cpus-range", ["--cpus", "1e400"], "value out of range"),
]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "env").write_text("A=1\n# c=3\nNOEQ\n\nB=2 \nFOO=envfile\n")
    return tmp_path


def _expand(flags, tmp):
    return [f.replace("{tmp}", str(tmp)) for f in flags]


@pytest.mark.parametrize("case_id,flags,cmd", CASES, ids=[c[0] for c in CASES])
def test_record_parity(containerd, namespace, image, files, case_id, flags, cmd):
    if case_id in ONLY_17 and containerd.version != "1.7":
        pytest.skip("needs containerd 1.7")
    ctr, rc = compare(
        containerd, namespace, _expand(flags, files), image, cmd, tty=case_id.startswith("tty")
    )
    assert ctr.record is not None, f"ctr created nothing: {ctr.stderr}"
    assert rc.ok, f"runcore failed: {rc.stderr}"
    problems = diff(ctr.record, rc.record) + diff(ctr.snapshot, rc.snapshot, "snapshot")
    assert not problems, "\n".join(problems)


def test_record_parity_image_user(containerd, namespace, image_alice):
    ctr, rc = compare(containerd, namespace, [], image_alice, ["id"])
    assert rc.ok, rc.stderr
    assert not diff(ctr.record, rc.record), "\n".join(diff(ctr.record, rc.record))
    assert rc.record["Spec"]["process"]["user"] == {
        "uid": 1000,
        "gid": 1001,
        "additionalGids": [1001, 10, 50],
    }


def test_record_parity_rootfs(containerd, namespace, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1001::/:/bin/sh\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nstaff:x:50:alice\n")
    for flags in ([], ["-u", "alice", "--env", "A=1"]):
        ctr, rc = compare(containerd, namespace, ["--rootfs", *flags], str(root), ["/bin/true"])
        assert rc.ok, rc.stderr
        assert not diff(ctr.record, rc.record), "\n".join(diff(ctr.record, rc.record))


def test_record_parity_config_file(containerd, namespace, tmp_path):
    spec = {
        "ociVersion": "1.0.2",
        "process": {"args": ["/bin/true"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
        "root": {"path": "/nonexistent-root"},
        "linux": {"namespaces": [{"type": "pid"}]},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(spec))
    n = "cfg"
    ctr = containerd.ctr(
        "run",
        "-d",
        "--null-io",
        "--config",
        str(path),
        "--label",
        "k=v",
        f"ctr-{n}",
        namespace=namespace,
        check=False,
    )
    rc = containerd.runcore(
        "create",
        "--config",
        str(path),
        "--label",
        "k=v",
        "--env",
        "IGNORED=1",
        f"rc-{n}",
        namespace=namespace,
        check=False,
    )
    try:
        from runcore.testing.parity import _info

        a, _ = _info(containerd, namespace, f"ctr-{n}")
        b, _ = _info(containerd, namespace, f"rc-{n}")
        assert a is not None, ctr.stderr
        assert rc.returncode == 0, rc.stderr
        assert not diff(a, b), "\n".join(diff(a, b))
    finally:
        remove_ctr_container(containerd, namespace, f"ctr-{n}")
        containerd.ctr("containers", "rm", f"rc-{n}", namespace=namespace, check=False)


def test_record_parity_sandbox(containerd, namespace, image):
    if containerd.version != "1.7":
        pytest.skip("--sandbox is new in containerd 1.7.11")
    ctr, rc = compare(containerd, namespace, ["--sandbox", "sb1"], image, ["true"])
    assert rc.ok, rc.stderr
    assert not diff(ctr.record, rc.record), "\n".join(diff(ctr.record, rc.record))


@pytest.mark.parametrize("case_id,flags,message", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_validation_errors(containerd, namespace, image, case_id, flags, message):
    ctr, rc = compare(containerd, namespace, flags, image, ["true"])
    assert not ctr.ok, f"ctr accepted {flags}"
    assert not rc.ok, f"runcore accepted {flags}"
    assert rc.record is None
    assert message in rc.stderr, rc.stderr
    assert rc.stderr.count("\n") == 0, rc.stderr
    assert "Traceback" not in rc.stderr


def test_unknown_image(containerd, namespace, monkeypatch):
    # ctr never pulls: compare with runcore-pull (run --pull missing) disabled
    monkeypatch.setenv("RUNCORE_DISABLE_PLUGINS", "pull")
    rc = containerd.runcore(
        "create", "docker.io/library/nosuch:latest", "x", namespace=namespace, check=False
    )
    assert rc.returncode == 1
    assert rc.stderr.strip() == 'runcore: image "docker.io/library/nosuch:latest": not found'


def test_duplicate_id(containerd, namespace, image):
    first = containerd.runcore("create", image, "dup", namespace=namespace, check=False)
    assert first.returncode == 0, first.stderr
    try:
        again = containerd.runcore("create", image, "dup", namespace=namespace, check=False)
        assert again.returncode == 1
        assert "already exists" in again.stderr and "dup" in again.stderr
        assert again.stderr.count("\n") == 1
        info = json.loads(containerd.ctr("containers", "info", "dup", namespace=namespace).stdout)
        assert info["ID"] == "dup"
    finally:
        containerd.runcore("rm", "dup", namespace=namespace, check=False)
        containerd.ctr("containers", "rm", "dup", namespace=namespace, check=False)


def test_runcore_spec_matches_create(containerd, namespace, image):
    flags = ["--env", "A=1", "-u", "bob", "--cpus", "1"]
    printed = containerd.runcore("spec", *flags, image, "specid", namespace=namespace)
    created = containerd.runcore("create", *flags, image, "specid", namespace=namespace)
    try:
        assert created.returncode == 0
        info = json.loads(
            containerd.ctr("containers", "info", "specid", namespace=namespace).stdout
        )
        assert json.loads(printed.stdout) == info["Spec"]
        explain = containerd.runcore("spec", "--explain", *flags, image, "x", namespace=namespace)
        lines = dict(l.split(None, 1) for l in explain.stdout.splitlines())
        assert "core.process" in lines["process.user.uid"]
        assert "core.process" in lines["process.env"]
        assert "core.resources" in lines["linux.resources.cpu.quota"]
        assert "ociVersion" not in lines  # default-spec values belong to nobody
    finally:
        containerd.ctr("containers", "rm", "specid", namespace=namespace, check=False)


def test_containerd_not_running(tmp_path):
    import subprocess
    import sys

    sock = tmp_path / "none.sock"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "runcore",
            "--address",
            str(sock),
            "--connect-timeout",
            "1s",
            "create",
            "img",
            "id",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1, r.stderr
    assert str(sock) in r.stderr
    assert "Traceback" not in r.stderr


#: Images without /etc/passwd or /etc/group (issue 18, defect 1): (etc variant, flags).
ETC_CASES = [
    ("no-passwd", ["-u", "1000"]),
    ("no-passwd", ["-u", "1000:50"]),
    ("no-group", ["-u", "1000"]),
    ("no-group", ["-u", "alice"]),
    ("dangling-passwd", ["-u", "1000"]),
    ("no-etc-files", ["-u", "1000"]),
    ("no-etc-files", []),
]
SNAPSHOTTERS = ["overlayfs", "native"]


@pytest.mark.parametrize("snapshotter", SNAPSHOTTERS)
@pytest.mark.parametrize(
    "etc,flags", ETC_CASES, ids=[f"{e}-{'_'.join(f) or 'nouser'}" for e, f in ETC_CASES]
)
def test_record_parity_image_without_etc_files(
    containerd, namespace, import_image, busybox_archives, snapshotter, etc, flags
):
    image = import_image(busybox_archives(name=f"docker.io/library/rcbox:{etc}", etc=etc))
    ctr, rc = compare(containerd, namespace, ["--snapshotter", snapshotter, *flags], image, ["id"])
    assert ctr.record is not None, f"ctr created nothing: {ctr.stderr}"
    assert rc.ok, f"runcore failed: {rc.stderr}"
    problems = diff(ctr.record, rc.record) + diff(ctr.snapshot, rc.snapshot, "snapshot")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("snapshotter", SNAPSHOTTERS)
@pytest.mark.parametrize(
    "etc,flags,missing",
    [
        ("no-passwd", ["-u", "alice"], "/etc/passwd"),
        ("dangling-passwd", ["-u", "alice"], "/nonexistent/passwd"),
        ("no-group", ["-u", "1000:staff"], "/etc/group"),
        ("no-etc-files", ["-u", "alice:staff"], "/etc/passwd"),
    ],
)
def test_names_need_etc_files(
    containerd, namespace, import_image, busybox_archives, snapshotter, etc, flags, missing
):
    image = import_image(busybox_archives(name=f"docker.io/library/rcbox:{etc}", etc=etc))
    ctr, rc = compare(containerd, namespace, ["--snapshotter", snapshotter, *flags], image, ["id"])
    assert not ctr.ok, f"ctr accepted {flags}"
    assert not rc.ok and rc.record is None
    assert rc.stderr.startswith("runcore: ") and rc.stderr.count("\n") == 0, rc.stderr
    assert f"{missing}: no such file or directory" in rc.stderr, rc.stderr
    assert f"{missing}: no such file or directory" in ctr.stderr, ctr.stderr
