"""containerd's default seccomp profile (``ctr run --seccomp``), as containerd 1.7.24 builds it.

The profile depends on three inputs, all taken where ctr takes them:

* the spec's ``process.capabilities.bounding`` as the earlier phases left it (after
  ``--privileged``, ``--cap-add``, ``--cap-drop``), walked in its order;
* the architecture ctr was built for, in Go's ``GOARCH`` naming (:func:`host_goarch`);
* the host kernel release, of which only ``MAJOR.MINOR`` matters (:func:`kernel_version`).

The result is a plain ``dict`` in the JSON shape of the OCI ``LinuxSeccomp`` as Go
marshals it: empty ``args`` and ``architectures`` are left out, ``valueTwo: 0`` too.
"""

from __future__ import annotations

import os
import platform
import re
import struct
import sys
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

ALLOW = "SCMP_ACT_ALLOW"
ERRNO = "SCMP_ACT_ERRNO"

#: Syscalls every container may use (rule 1), in containerd 1.7.13+'s order (355 names).
BASE_SYSCALLS: Tuple[str, ...] = tuple(
    """
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown
chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect
copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir
fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid
geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid
gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1
inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter
io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset
landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr
_llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create
memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall map_shadow_stack
mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc
pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead
readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction
rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx
symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create
timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat
utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
""".split()
)

#: ``socket`` is allowed for every address family but AF_VSOCK (rule 2, 1.7.0–1.7.31).
AF_VSOCK = 40

#: ``personality`` is allowed for these personas only (rule 3, one rule each, in order):
#: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query value 0xffffffff.
PERSONALITIES: Tuple[int, ...] = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)

#: Allowed when the host kernel is 4.8 or newer (rule 4; seccomp and ptrace got safe then).
KERNEL_4_8_SYSCALLS: Tuple[str, ...] = ("process_vm_readv", "process_vm_writev", "ptrace")

#: ``architectures`` by GOARCH; any other GOARCH leaves the key out. containerd also lists
#: names that are no GOARCH (mips64n32, mipsel64, mipsel64n32): kept for the same result.
ARCHITECTURES: Dict[str, Tuple[str, ...]] = {
    "amd64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "arm64": ("SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"),
    "mips64": ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32"),
    "mips64n32": ("SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32"),
    "mipsel64": ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32"),
    "mipsel64n32": ("SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32"),
    "s390x": ("SCMP_ARCH_S390", "SCMP_ARCH_S390X"),
    "riscv64": ("SCMP_ARCH_RISCV64",),
}

#: Architecture-specific syscalls (rule 5), by GOARCH.
ARCH_SYSCALLS: Dict[str, Tuple[str, ...]] = {
    "ppc64le": ("sync_file_range2", "swapcontext"),
    "arm": (
        "arm_fadvise64_64",
        "arm_sync_file_range",
        "sync_file_range2",
        "breakpoint",
        "cacheflush",
        "set_tls",
    ),
    "amd64": ("arch_prctl", "modify_ldt"),
    "386": ("modify_ldt",),
    "s390": ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    "riscv64": ("riscv_flush_icache",),
}
ARCH_SYSCALLS["arm64"] = ARCH_SYSCALLS["arm"]
ARCH_SYSCALLS["s390x"] = ARCH_SYSCALLS["s390"]

#: Syscalls a capability in the bounding set unlocks (rule 6), one rule per matching entry.
CAP_SYSCALLS: Dict[str, Tuple[str, ...]] = {
    "CAP_DAC_READ_SEARCH": ("open_by_handle_at",),
    "CAP_SYS_ADMIN": (
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
    ),
    "CAP_SYS_BOOT": ("reboot",),
    "CAP_SYS_CHROOT": ("chroot",),
    "CAP_SYS_MODULE": ("delete_module", "init_module", "finit_module"),
    "CAP_SYS_PACCT": ("acct",),
    "CAP_SYS_PTRACE": (
        "kcmp",
        "pidfd_getfd",
        "process_madvise",
        "process_vm_readv",
        "process_vm_writev",
        "ptrace",
    ),
    "CAP_SYS_RAWIO": ("iopl", "ioperm"),
    "CAP_SYS_TIME": ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    "CAP_SYS_TTY_CONFIG": ("vhangup",),
    "CAP_SYS_NICE": ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
    "CAP_SYSLOG": ("syslog",),
    "CAP_BPF": ("bpf",),
    "CAP_PERFMON": ("perf_event_open",),
}

#: Without CAP_SYS_ADMIN, ``clone`` may not create namespaces: the masked-equal rule allows
#: it only when none of these flags is set (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|
#: NEWNET|NEWCGROUP).
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NAMESPACE_FLAGS = (
    CLONE_NEWNS
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWCGROUP
)

#: On s390 the clone flags are the second argument.
CLONE_FLAGS_ARG_INDEX: Dict[str, int] = {"s390": 1, "s390x": 1}

#: ENOSYS as Go's ``unix.ENOSYS`` has it per GOARCH (``clone3`` answers it without
#: CAP_SYS_ADMIN, so that libcs fall back to ``clone``).
ENOSYS_DEFAULT = 38
ENOSYS: Dict[str, int] = {"mips": 89, "mipsle": 89, "mips64": 89, "mips64le": 89, "sparc64": 90}

_MACHINE_GOARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "i386": "386",
    "i486": "386",
    "i586": "386",
    "i686": "386",
    "x86": "386",
    "aarch64": "arm64",
    "arm64": "arm64",
    "aarch64_be": "arm64be",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "ppc": "ppc",
    "s390x": "s390x",
    "s390": "s390",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
    "sparc64": "sparc64",
}


def host_goarch(
    machine: Optional[str] = None,
    pointer_bits: Optional[int] = None,
    little_endian: Optional[bool] = None,
) -> str:
    """The GOARCH a native ctr on this machine would have been built for.

    Derived from ``uname -m`` and the width of this interpreter's pointers (a 32-bit
    userland on a 64-bit kernel runs a 32-bit ctr).
    """
    machine = (machine if machine is not None else platform.machine()).lower()
    bits = pointer_bits if pointer_bits is not None else struct.calcsize("P") * 8
    little = little_endian if little_endian is not None else sys.byteorder == "little"
    if machine.startswith("arm") and machine not in ("arm64",):
        return "arm"
    if machine.startswith("mips"):
        base = "mips64" if machine.startswith("mips64") and bits == 64 else "mips"
        return base + ("le" if little else "")
    goarch = _MACHINE_GOARCH.get(machine, machine)
    if bits == 32:
        goarch = {"amd64": "386", "arm64": "arm", "ppc64": "ppc", "s390x": "s390"}.get(
            goarch, goarch
        )
    return goarch


_RELEASE_RE = re.compile(r"[ \t\r\v\f]*([0-9]+)\.[ \t\r\v\f]*([0-9]+)")


def kernel_version(release: Optional[str] = None) -> Optional[Tuple[int, int]]:
    """``(major, minor)`` of a kernel release as Go's ``fmt.Sscanf(release, "%d.%d")``
    reads it (``"6.18.44-fc"`` → ``(6, 18)``); ``None`` when it does not parse."""
    if release is None:
        release = os.uname().release
    m = _RELEASE_RE.match(release)
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    if major >= 1 << 64 or minor >= 1 << 64:  # uint64 overflow: Sscanf fails
        return None
    return major, minor


def _rule(
    names: Iterable[str],
    action: str = ALLOW,
    args: Sequence[Dict[str, Any]] = (),
    errno_ret: Optional[int] = None,
) -> Dict[str, Any]:
    rule: Dict[str, Any] = {"names": list(names), "action": action}
    if errno_ret is not None:
        rule["errnoRet"] = errno_ret
    if args:
        rule["args"] = [dict(a) for a in args]
    return rule


def _arg(index: int, value: int, op: str) -> Dict[str, Any]:
    # valueTwo is 0 in every rule of the default profile, which Go's omitempty drops.
    return {"index": index, "value": value, "op": op}


def default_profile(
    bounding: Optional[Sequence[str]],
    goarch: Optional[str] = None,
    kernel_release: Optional[str] = None,
) -> Dict[str, Any]:
    """The default profile for a container whose bounding set is ``bounding``.

    :param bounding: ``process.capabilities.bounding`` (``None``: no capabilities).
    :param goarch: GOARCH name (``amd64``, ``arm64``, ``s390x``...); default: this host's.
    :param kernel_release: ``uname -r`` text; default: this host's.
    """
    goarch = goarch or host_goarch()
    version = kernel_version(kernel_release)

    rules: List[Dict[str, Any]] = [_rule(BASE_SYSCALLS)]
    rules.append(_rule(["socket"], args=[_arg(0, AF_VSOCK, "SCMP_CMP_NE")]))
    for persona in PERSONALITIES:
        rules.append(_rule(["personality"], args=[_arg(0, persona, "SCMP_CMP_EQ")]))
    if version is not None and version >= (4, 8):
        rules.append(_rule(KERNEL_4_8_SYSCALLS))
    if goarch in ARCH_SYSCALLS:
        rules.append(_rule(ARCH_SYSCALLS[goarch]))

    admin = False
    for cap in bounding or ():
        names = CAP_SYSCALLS.get(cap)
        if names is None:
            continue
        if cap == "CAP_SYS_ADMIN":
            admin = True
        rules.append(_rule(names))

    if not admin:
        index = CLONE_FLAGS_ARG_INDEX.get(goarch, 0)
        rules.append(
            _rule(["clone"], args=[_arg(index, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ")])
        )
        rules.append(_rule(["clone3"], action=ERRNO, errno_ret=ENOSYS.get(goarch, ENOSYS_DEFAULT)))

    profile: Dict[str, Any] = {"defaultAction": ERRNO}
    arches = ARCHITECTURES.get(goarch)
    if arches:
        profile["architectures"] = list(arches)
    profile["syscalls"] = rules
    return profile
