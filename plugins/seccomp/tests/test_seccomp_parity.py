"""Parity with ctr 1.7.24 for --seccomp / --seccomp-profile, and seccomp in a real container.

Each parity case creates one container with ``ctr run -d --null-io FLAGS`` and one with
``runcore create FLAGS`` in the same namespace (``support.parity.compare``) and diffs the
stored records (spec included). Error cases check that both refuse and that runcore leaves
nothing behind (the ``namespace`` fixture's leak check).
"""

import json

import pytest

from profile_cases import CHECK_ERRORS, DECODE_CASES, DECODE_ERRORS, REFUSED_BY_CHECK

from runcore.testing import parity  # noqa: E402

pytestmark = pytest.mark.containerd

#: Capabilities whose presence in the bounding set changes the default profile.
PROFILE_CAPS = [
    "CAP_DAC_READ_SEARCH",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_MODULE",
    "CAP_SYS_PACCT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_SYS_NICE",
    "CAP_SYSLOG",
    "CAP_BPF",
    "CAP_PERFMON",
]

CASES = [
    ("seccomp", ["--seccomp"]),
    ("privileged", ["--privileged", "--seccomp"]),
    *[(f"cap-add-{cap[4:].lower()}", ["--seccomp", "--cap-add", cap]) for cap in PROFILE_CAPS],
    ("cap-drop-chroot", ["--seccomp", "--cap-drop", "CAP_SYS_CHROOT"]),
    (
        "cap-order",
        [
            "--seccomp",
            "--cap-add",
            "CAP_BPF",
            "--cap-add",
            "CAP_SYS_ADMIN",
            "--cap-drop",
            "CAP_SYS_CHROOT",
            "--cap-add",
            "CAP_SYS_CHROOT",
        ],
    ),
    ("privileged-drop-admin", ["--privileged", "--cap-drop", "CAP_SYS_ADMIN", "--seccomp"]),
    ("empty-profile-is-default", ["--seccomp", "--seccomp-profile", ""]),
    ("empty-profile-without-seccomp", ["--seccomp-profile", ""]),
    *[
        (f"profile-{name}", ["--seccomp", "--seccomp-profile", "{tmp}/" + name + ".json"])
        for name in sorted(DECODE_CASES)
        if name not in REFUSED_BY_CHECK
    ],
]

ERROR_CASES = [
    (
        "profile-without-seccomp",
        ["--seccomp-profile", "{tmp}/oci-full.json"],
        "seccomp must be set to true, if using a custom seccomp-profile",
    ),
    (
        "profile-missing",
        ["--seccomp", "--seccomp-profile", "{tmp}/missing.json"],
        'cannot load seccomp profile "{tmp}/missing.json": open {tmp}/missing.json: '
        "no such file or directory",
    ),
    *[
        (
            f"decode-{name}",
            ["--seccomp", "--seccomp-profile", "{tmp}/" + name + ".json"],
            'decoding seccomp profile failed "{tmp}/' + name + '.json": ',
        )
        for name in sorted(DECODE_ERRORS)
    ],
]

#: ctr stores these profiles; the runtime would refuse them when the task starts. runcore
#: refuses them before anything is created (docs/ctr-differences.md).
STRICTER_CASES = [
    *[(f"check-{name}", "{tmp}/" + name + ".json") for name in sorted(CHECK_ERRORS)],
    *[(f"check-{name}", "{tmp}/" + name + ".json") for name in sorted(REFUSED_BY_CHECK)],
]


@pytest.fixture
def files(tmp_path):
    for name, (text, _) in {**DECODE_CASES, **DECODE_ERRORS, **CHECK_ERRORS}.items():
        (tmp_path / f"{name}.json").write_text(text)
    return tmp_path


def _expand(values, tmp):
    return [v.replace("{tmp}", str(tmp)) for v in values]


@pytest.mark.parametrize("case_id,flags", CASES, ids=[c[0] for c in CASES])
def test_seccomp_parity(containerd, namespace, image, files, case_id, flags):
    ctr, rc = parity.compare(containerd, namespace, _expand(flags, files), image, ["sleep", "1000"])
    assert ctr.record is not None, f"ctr created nothing: {ctr.stderr}"
    assert rc.ok, f"runcore failed: {rc.stderr}"
    problems = parity.diff(ctr.record, rc.record) + parity.diff(
        ctr.snapshot, rc.snapshot, "snapshot"
    )
    assert not problems, "\n".join(problems)
    seccomp = rc.record["Spec"].get("linux", {}).get("seccomp")
    if "--seccomp" in flags:
        assert seccomp is not None
    else:
        assert seccomp is None
    if case_id.startswith("profile-"):
        assert seccomp == DECODE_CASES[case_id[len("profile-") :]][1]


@pytest.mark.parametrize("case_id,flags,message", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_seccomp_errors(containerd, namespace, image, files, case_id, flags, message):
    ctr, rc = parity.compare(containerd, namespace, _expand(flags, files), image, ["true"])
    assert not ctr.ok and ctr.record is None, f"ctr accepted {flags}"
    assert not rc.ok and rc.record is None, f"runcore accepted {flags}"
    assert message.replace("{tmp}", str(files)) in rc.stderr, rc.stderr
    assert rc.stderr.count("\n") == 0 and "Traceback" not in rc.stderr, rc.stderr
    if "json: " in ctr.stderr:  # Go's decoding error: the same text as ctr's
        assert rc.stderr.split(": ", 1)[1] == ctr.stderr.split(": ", 1)[1], (ctr.stderr, rc.stderr)


@pytest.mark.parametrize("case_id,path", STRICTER_CASES, ids=[c[0] for c in STRICTER_CASES])
def test_runcore_refuses_what_the_runtime_would(containerd, namespace, image, files, case_id, path):
    flags = ["--seccomp", "--seccomp-profile", path.replace("{tmp}", str(files))]
    ctr, rc = parity.compare(containerd, namespace, flags, image, ["true"])
    assert ctr.record is not None, f"ctr refused too: {ctr.stderr}"  # stored, task failed
    assert not rc.ok and rc.record is None
    assert rc.stderr.startswith(f'runcore: invalid seccomp profile "{flags[-1]}": '), rc.stderr
    assert rc.stderr.count("\n") == 0


def test_docker_keys_warning(containerd, namespace, image, files):
    flags = ["--seccomp", "--seccomp-profile", f"{files}/docker-format.json"]
    ctr, rc = parity.compare(containerd, namespace, flags, image, ["sleep", "1000"])
    assert rc.ok and not parity.diff(ctr.record, rc.record)
    assert "warning" in rc.stderr and "archMap, includes, excludes, name ignored" in rc.stderr


def test_spec_command_prints_what_create_stores(containerd, namespace, image):
    flags = ["--seccomp", "--cap-add", "CAP_SYS_PTRACE"]
    printed = containerd.runcore("spec", *flags, image, "sp", namespace=namespace)
    explain = containerd.runcore("spec", "--explain", *flags, image, "sp", namespace=namespace)
    created = containerd.runcore("create", *flags, image, "sp", namespace=namespace)
    try:
        assert created.returncode == 0, created.stderr
        info = json.loads(containerd.ctr("containers", "info", "sp", namespace=namespace).stdout)
        assert json.loads(printed.stdout)["linux"]["seccomp"] == info["Spec"]["linux"]["seccomp"]
        owners = dict(line.split(None, 1) for line in explain.stdout.splitlines())
        assert owners["linux.seccomp"].strip() == "seccomp"
    finally:
        containerd.ctr("containers", "rm", "sp", namespace=namespace, check=False)


# --------------------------------------------------------------------------- real containers

SCRIPT = (
    "grep '^Seccomp:' /proc/self/status; unshare -U true; echo unshare=$?; "
    "mkdir /tmp/d; echo mkdir=$?"
)


def _run(containerd, namespace, image, flags, name):
    r = containerd.runcore(
        "run",
        "--rm",
        *flags,
        image,
        name,
        "sh",
        "-c",
        SCRIPT,
        namespace=namespace,
        check=False,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return r


def test_seccomp_in_a_real_container(containerd, namespace, image):
    """unshare(CLONE_NEWUSER) needs no capability: only the profile denies it."""
    plain = _run(containerd, namespace, image, [], "plain")
    assert "Seccomp:\t0" in plain.stdout and "unshare=0" in plain.stdout

    confined = _run(containerd, namespace, image, ["--seccomp"], "confined")
    assert "Seccomp:\t2" in confined.stdout
    assert "unshare=1" in confined.stdout
    assert "Operation not permitted" in confined.stderr  # EPERM: the default action
    assert "mkdir=0" in confined.stdout

    admin = _run(containerd, namespace, image, ["--seccomp", "--cap-add", "CAP_SYS_ADMIN"], "admin")
    assert "Seccomp:\t2" in admin.stdout and "unshare=0" in admin.stdout


def test_profile_file_in_a_real_container(containerd, namespace, image, tmp_path):
    profile = tmp_path / "deny-mkdir.json"
    profile.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
                ],
            }
        )
    )
    r = _run(containerd, namespace, image, ["--seccomp", "--seccomp-profile", str(profile)], "file")
    assert "Seccomp:\t2" in r.stdout
    assert "unshare=0" in r.stdout  # allowed by this profile's default action
    assert "mkdir=1" in r.stdout and "Permission denied" in r.stderr  # errnoRet 13 = EACCES
