"""containerd 1.7.24's default seccomp profile (reference sheet §10), rule by rule."""

import hashlib
import json
from pathlib import Path

import pytest

from runcore_seccomp import profile as P
from runcore_seccomp.profile import default_profile, host_goarch, kernel_version

#: containerd's default capability set, in the default spec's order.
DEFAULT_CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]

#: sha256 of the 355 base names joined with "," (checked against v1.7.24's source list).
BASE_SHA256 = "8b947dd163826d112f89a24264bfa7d86b51c1ef08a17d4ee0f780c29176823e"

REFERENCE = Path("/work/shared/reference/ctr-run-reference.md")

ALLOW, ERRNO = "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"


def rule(names, action=ALLOW, args=None, errno=None):
    r = {"names": list(names), "action": action}
    if errno is not None:
        r["errnoRet"] = errno
    if args:
        r["args"] = args
    return r


def eq(index, value, op="SCMP_CMP_EQ"):
    return {"index": index, "value": value, "op": op}


def test_base_list_is_containerds():
    assert len(P.BASE_SYSCALLS) == 355
    assert len(set(P.BASE_SYSCALLS)) == 355
    assert hashlib.sha256(",".join(P.BASE_SYSCALLS).encode()).hexdigest() == BASE_SHA256
    # not alphabetical: containerd's order is kept
    assert P.BASE_SYSCALLS.index("mlockall") + 1 == P.BASE_SYSCALLS.index("map_shadow_stack")
    assert "socket" not in P.BASE_SYSCALLS and "socketcall" in P.BASE_SYSCALLS
    for gone in ("ptrace", "clone", "clone3", "personality", "chroot", "syslog", "reboot"):
        assert gone not in P.BASE_SYSCALLS


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared reference sheet not present")
def test_base_list_matches_the_reference_sheet():
    text = REFERENCE.read_text()
    section = text[text.index("## 10.") : text.index("## 11.")]
    block = section.split("```")[1]
    names = [n.strip() for n in block.replace("\n", " ").split(",") if n.strip()]
    assert names == list(P.BASE_SYSCALLS)


def test_default_caps_amd64_is_the_verified_profile():
    """§10: 12 rules, verified against ctr 1.7.24 on amd64, kernel 6.18."""
    got = default_profile(DEFAULT_CAPS, goarch="amd64", kernel_release="6.18.44-fc-v595")
    assert list(got) == ["defaultAction", "architectures", "syscalls"]
    assert got["defaultAction"] == ERRNO
    assert "defaultErrnoRet" not in got
    assert got["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    expected = [
        rule(P.BASE_SYSCALLS),
        rule(["socket"], args=[eq(0, 40, "SCMP_CMP_NE")]),
        rule(["personality"], args=[eq(0, 0)]),
        rule(["personality"], args=[eq(0, 8)]),
        rule(["personality"], args=[eq(0, 131072)]),
        rule(["personality"], args=[eq(0, 131080)]),
        rule(["personality"], args=[eq(0, 4294967295)]),
        rule(["process_vm_readv", "process_vm_writev", "ptrace"]),
        rule(["arch_prctl", "modify_ldt"]),
        rule(["chroot"]),
        rule(["clone"], args=[eq(0, 2114060288, "SCMP_CMP_MASKED_EQ")]),
        rule(["clone3"], action=ERRNO, errno=38),
    ]
    assert got["syscalls"] == expected
    assert len(got["syscalls"]) == 12
    # JSON shape: no empty args, no valueTwo, key order as Go writes it
    text = json.dumps(got)
    assert '"args": []' not in text and "valueTwo" not in text
    assert list(got["syscalls"][-1]) == ["names", "action", "errnoRet"]
    assert list(got["syscalls"][1]["args"][0]) == ["index", "value", "op"]


def test_clone_mask_value():
    assert P.CLONE_NAMESPACE_FLAGS == 0x7E020000 == 2114060288


def test_no_capabilities():
    got = default_profile([], goarch="amd64", kernel_release="6.1.0")
    names = [r["names"] for r in got["syscalls"]]
    assert ["chroot"] not in names
    assert names[-2:] == [["clone"], ["clone3"]]
    assert len(got["syscalls"]) == 11
    assert default_profile(None, goarch="amd64", kernel_release="6.1.0") == got


def test_privileged_caps_amd64():
    """Every capability (as --privileged gives them on this kernel): one rule per
    matching entry in bounding order, and neither clone rule."""
    caps = [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ]
    got = default_profile(caps, goarch="amd64", kernel_release="6.18.0")
    tail = [r["names"] for r in got["syscalls"][9:]]
    assert tail == [
        ["open_by_handle_at"],
        ["delete_module", "init_module", "finit_module"],
        ["iopl", "ioperm"],
        ["chroot"],
        [
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
        ["acct"],
        list(P.CAP_SYSCALLS["CAP_SYS_ADMIN"]),
        ["reboot"],
        ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"],
        ["settimeofday", "stime", "clock_settime", "clock_settime64"],
        ["vhangup"],
        ["syslog"],
        ["perf_event_open"],
        ["bpf"],
    ]
    assert len(got["syscalls"]) == 23
    assert all(r["action"] == ALLOW for r in got["syscalls"])


@pytest.mark.parametrize(
    "cap,names",
    [
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_SYS_BOOT", ["reboot"]),
        ("CAP_SYS_CHROOT", ["chroot"]),
        ("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        ("CAP_SYS_PACCT", ["acct"]),
        (
            "CAP_SYS_PTRACE",
            [
                "kcmp",
                "pidfd_getfd",
                "process_madvise",
                "process_vm_readv",
                "process_vm_writev",
                "ptrace",
            ],
        ),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        ("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        ("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        ("CAP_SYSLOG", ["syslog"]),
        ("CAP_BPF", ["bpf"]),
        ("CAP_PERFMON", ["perf_event_open"]),
    ],
)
def test_each_cap_group(cap, names):
    got = default_profile([cap], goarch="amd64", kernel_release="5.10.0")
    rules = got["syscalls"]
    assert rules[9] == rule(names)
    assert [r["names"] for r in rules[10:]] == [["clone"], ["clone3"]]  # still no admin


def test_sys_admin_group_and_no_clone_rules():
    got = default_profile(["CAP_SYS_ADMIN"], goarch="amd64", kernel_release="5.10.0")
    rules = got["syscalls"]
    assert rules[-1] == rule(
        [
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ]
    )
    assert len(rules) == 10
    assert not any(r["action"] == ERRNO for r in rules)


def test_bounding_order_and_duplicates_are_kept():
    got = default_profile(
        ["CAP_BPF", "CAP_SYS_BOOT", "CAP_BPF", "CAP_NOT_A_CAP", "cap_bpf"],
        goarch="amd64",
        kernel_release="5.10.0",
    )
    assert [r["names"] for r in got["syscalls"][9:12]] == [["bpf"], ["reboot"], ["bpf"]]
    assert [r["names"] for r in got["syscalls"][12:]] == [["clone"], ["clone3"]]


def test_arm64():
    got = default_profile(DEFAULT_CAPS, goarch="arm64", kernel_release="6.1.0")
    assert got["architectures"] == ["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"]
    assert got["syscalls"][8] == rule(
        [
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ]
    )
    assert got["syscalls"][-2]["args"] == [eq(0, 2114060288, "SCMP_CMP_MASKED_EQ")]
    assert got["syscalls"][-1]["errnoRet"] == 38


def test_arm32_has_the_arm_group_but_no_architectures():
    got = default_profile([], goarch="arm", kernel_release="6.1.0")
    assert "architectures" not in got
    assert got["syscalls"][8]["names"][0] == "arm_fadvise64_64"


def test_s390x_clone_flags_are_argument_1():
    got = default_profile(DEFAULT_CAPS, goarch="s390x", kernel_release="6.1.0")
    assert got["architectures"] == ["SCMP_ARCH_S390", "SCMP_ARCH_S390X"]
    assert got["syscalls"][8] == rule(
        ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"]
    )
    assert got["syscalls"][-2] == rule(["clone"], args=[eq(1, 2114060288, "SCMP_CMP_MASKED_EQ")])
    assert got["syscalls"][-1] == rule(["clone3"], action=ERRNO, errno=38)


@pytest.mark.parametrize(
    "goarch,arches,group",
    [
        ("386", None, ["modify_ldt"]),
        ("ppc64le", None, ["sync_file_range2", "swapcontext"]),
        ("riscv64", ["SCMP_ARCH_RISCV64"], ["riscv_flush_icache"]),
        ("mips64", ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32"], None),
        ("mips64le", None, None),  # containerd's switch says "mipsel64", which is no GOARCH
        ("loong64", None, None),
    ],
)
def test_other_architectures(goarch, arches, group):
    got = default_profile([], goarch=goarch, kernel_release="6.1.0")
    assert got.get("architectures") == arches
    names = [r["names"] for r in got["syscalls"]]
    if group:
        assert names[8] == group
        assert len(names) == 11
    else:
        assert len(names) == 10
    assert got["syscalls"][-1]["errnoRet"] == (89 if goarch.startswith("mips") else 38)


@pytest.mark.parametrize(
    "release,rule_present",
    [
        ("4.8.0", True),
        ("4.7.10", False),
        ("3.19", False),
        ("5.0", True),
        ("10.0-rc1", True),
        ("4.10", True),
        ("garbage", False),
        ("", False),
        ("4", False),
    ],
)
def test_kernel_version_rule(release, rule_present):
    got = default_profile([], goarch="amd64", kernel_release=release)
    present = ["process_vm_readv", "process_vm_writev", "ptrace"] in [
        r["names"] for r in got["syscalls"]
    ]
    assert present is rule_present


def test_kernel_version_parse():
    assert kernel_version("6.18.44-fc-v595") == (6, 18)
    assert kernel_version("4.8") == (4, 8)
    assert kernel_version("v4.8") is None
    assert kernel_version("4.x") is None
    assert kernel_version("99999999999999999999999.1") is None
    assert isinstance(kernel_version(None), tuple)  # this host's release parses


@pytest.mark.parametrize(
    "machine,bits,little,goarch",
    [
        ("x86_64", 64, True, "amd64"),
        ("x86_64", 32, True, "386"),
        ("i686", 32, True, "386"),
        ("aarch64", 64, True, "arm64"),
        ("aarch64", 32, True, "arm"),
        ("armv7l", 32, True, "arm"),
        ("s390x", 64, False, "s390x"),
        ("ppc64le", 64, True, "ppc64le"),
        ("riscv64", 64, True, "riscv64"),
        ("mips64", 64, False, "mips64"),
        ("mips64", 64, True, "mips64le"),
        ("loongarch64", 64, True, "loong64"),
    ],
)
def test_host_goarch(machine, bits, little, goarch):
    assert host_goarch(machine, bits, little) == goarch


def test_default_arguments_use_this_host():
    assert default_profile(DEFAULT_CAPS) == default_profile(DEFAULT_CAPS, goarch=host_goarch())


def test_profiles_are_independent_copies():
    a = default_profile(DEFAULT_CAPS, goarch="amd64", kernel_release="6.1")
    a["syscalls"][0]["names"].append("x")
    a["syscalls"][1]["args"][0]["value"] = 1
    b = default_profile(DEFAULT_CAPS, goarch="amd64", kernel_release="6.1")
    assert b["syscalls"][0]["names"][-1] == "writev"
    assert b["syscalls"][1]["args"][0]["value"] == 40


def test_importing_the_plugin_is_cheap():
    import subprocess
    import sys

    code = (
        "import sys, runcore_seccomp; "
        "print(sorted(m for m in sys.modules if m.startswith('runcore_seccomp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['runcore_seccomp']"
