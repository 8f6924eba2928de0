"""Parity with ctr 1.7.24 for --apparmor-profile / --apparmor-default-profile.

Same approach as the core's parity suite: ``ctr run -d --null-io FLAGS`` and
``runcore create FLAGS`` in one namespace, records diffed; error cases: both refuse and
runcore leaves nothing behind (the ``namespace`` fixture's leak check).
"""

import json

import pytest

from runcore_apparmor import loader

from runcore.testing import parity  # noqa: E402

pytestmark = pytest.mark.containerd

HOST_HAS_APPARMOR = loader.unavailable_reason() is None

CASES = [
    ("apparmor-profile", ["--apparmor-profile", "rc-test-profile"]),
    ("privileged-apparmor-profile", ["--privileged", "--apparmor-profile", "rc-test-profile"]),
    ("empty-default-profile", ["--apparmor-default-profile", ""]),
    ("empty-both", ["--apparmor-default-profile", "", "--apparmor-profile", "x"]),
    ("with-seccomp", ["--seccomp", "--cap-add", "CAP_SYS_PTRACE", "--apparmor-profile", "p1"]),
]

ERROR_CASES = [
    (
        "conflict",
        ["--apparmor-default-profile", "a", "--apparmor-profile", "b"],
        "apparmor-profile conflicts with apparmor-default-profile",
    ),
]
if not HOST_HAS_APPARMOR:
    ERROR_CASES.append(
        (
            "default-without-apparmor",
            ["--apparmor-default-profile", "rc-default"],
            "open /sys/kernel/security/apparmor/profiles: no such file or directory",
        )
    )


@pytest.mark.parametrize("case_id,flags", CASES, ids=[c[0] for c in CASES])
def test_apparmor_parity(containerd, namespace, image, case_id, flags):
    ctr, rc = parity.compare(containerd, namespace, flags, image, ["sleep", "1000"])
    assert ctr.record is not None, f"ctr created nothing: {ctr.stderr}"
    assert rc.ok, f"runcore failed: {rc.stderr}"
    problems = parity.diff(ctr.record, rc.record) + parity.diff(
        ctr.snapshot, rc.snapshot, "snapshot"
    )
    assert not problems, "\n".join(problems)
    expected = (
        flags[flags.index("--apparmor-profile") + 1] if "--apparmor-profile" in flags else None
    )
    assert rc.record["Spec"]["process"].get("apparmorProfile") == expected


@pytest.mark.parametrize("case_id,flags,message", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_apparmor_errors(containerd, namespace, image, case_id, flags, message):
    ctr, rc = parity.compare(containerd, namespace, flags, image, ["true"])
    assert not ctr.ok and ctr.record is None, f"ctr accepted {flags}"
    assert not rc.ok and rc.record is None, f"runcore accepted {flags}"
    assert message in rc.stderr, rc.stderr
    assert message in ctr.stderr, ctr.stderr
    assert rc.stderr.count("\n") == 0 and "Traceback" not in rc.stderr, rc.stderr


@pytest.mark.skipif(HOST_HAS_APPARMOR, reason="this host has AppArmor")
def test_default_profile_without_apparmor_creates_nothing(containerd, namespace, image):
    """No snapshot, no lease, no container: the check runs before anything is created."""
    before = containerd.snapshots(namespace)
    r = containerd.runcore(
        "create",
        "--apparmor-default-profile",
        "rc-default",
        image,
        "x",
        namespace=namespace,
        check=False,
    )
    assert r.returncode != 0
    assert r.stderr.startswith(
        "runcore: --apparmor-default-profile rc-default: AppArmor is not enabled on this host"
    ), r.stderr
    assert containerd.snapshots(namespace) == before
    assert containerd.lines("leases", "ls", "-q", namespace=namespace) == []
    assert containerd.lines("containers", "ls", "-q", namespace=namespace) == []


def test_config_ignores_the_flags(containerd, namespace, tmp_path):
    """ctr ignores spec flags with --config, even on a host without AppArmor."""
    spec = {
        "ociVersion": "1.0.2",
        "process": {"args": ["/bin/true"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
        "root": {"path": "/nonexistent-root"},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(spec))
    flags = [
        "--config",
        str(path),
        "--apparmor-default-profile",
        "a",
        "--apparmor-profile",
        "b",
        "--seccomp-profile",
        "/missing.json",
    ]
    ctr = containerd.ctr(
        "run", "-d", "--null-io", *flags, "ctr-cfg", namespace=namespace, check=False
    )
    rc = containerd.runcore("create", *flags, "rc-cfg", namespace=namespace, check=False)
    try:
        a, _ = parity._info(containerd, namespace, "ctr-cfg")
        b, _ = parity._info(containerd, namespace, "rc-cfg")
        assert a is not None, ctr.stderr
        assert rc.returncode == 0, rc.stderr
        assert not parity.diff(a, b), "\n".join(parity.diff(a, b))
    finally:
        parity.remove_ctr_container(containerd, namespace, "ctr-cfg")
        containerd.ctr("containers", "rm", "rc-cfg", namespace=namespace, check=False)
