"""Profile files and what ctr 1.7.24 stores for them (``--seccomp --seccomp-profile FILE``).

Shared by the unit tests (decoder output) and the containerd tests (ctr's record, and
runcore's). Every ``expected`` here was checked against ctr 1.7.24's stored spec.
"""

import json

ALLOW, ERRNO = "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"

#: name -> (file text, linux.seccomp as ctr stores it)
DECODE_CASES = {
    "oci-full": (
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "defaultErrnoRet": 1,
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                "syscalls": [
                    {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                    {
                        "names": ["socket"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "value": 40, "valueTwo": 0, "op": "SCMP_CMP_NE"}],
                    },
                    {
                        "names": ["personality"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [
                            {"index": 0, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}
                        ],
                    },
                    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                    {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0},
                ],
            }
        ),
        {
            "defaultAction": ERRNO,
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls": [
                {"names": ["read", "write", "exit_group"], "action": ALLOW},
                {
                    "names": ["socket"],
                    "action": ALLOW,
                    "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}],
                },
                {
                    "names": ["personality"],
                    "action": ALLOW,
                    "args": [{"index": 0, "value": 255, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}],
                },
                {"names": ["clone3"], "action": ERRNO, "errnoRet": 38},
                {"names": ["mkdir"], "action": ERRNO, "errnoRet": 0},
            ],
        },
    ),
    # Docker/moby's format: archMap, includes/excludes, comment, minKernel and the old
    # singular "name" are no LinuxSeccomp fields, so they vanish (as with ctr).
    "docker-format": (
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "defaultErrnoRet": 1,
                "archMap": [
                    {
                        "architecture": "SCMP_ARCH_X86_64",
                        "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                    }
                ],
                "syscalls": [
                    {
                        "names": ["read", "write"],
                        "action": "SCMP_ACT_ALLOW",
                        "comment": "io",
                        "includes": {},
                        "excludes": {},
                    },
                    {
                        "names": ["mount", "umount2"],
                        "action": "SCMP_ACT_ALLOW",
                        "includes": {
                            "caps": ["CAP_SYS_ADMIN"],
                            "arches": ["amd64"],
                            "minKernel": "4.8",
                        },
                    },
                    {
                        "names": ["clone"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
                        "excludes": {"caps": ["CAP_SYS_ADMIN"]},
                    },
                    {"name": "chroot", "action": "SCMP_ACT_ALLOW"},
                    {
                        "names": ["clone3"],
                        "action": "SCMP_ACT_ERRNO",
                        "errnoRet": 38,
                        "excludes": {"caps": ["CAP_SYS_ADMIN"]},
                    },
                ],
            }
        ),
        {
            "defaultAction": ERRNO,
            "defaultErrnoRet": 1,
            "syscalls": [
                {"names": ["read", "write"], "action": ALLOW},
                {"names": ["mount", "umount2"], "action": ALLOW},
                {
                    "names": ["clone"],
                    "action": ALLOW,
                    "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
                },
                {"names": None, "action": ALLOW},
                {"names": ["clone3"], "action": ERRNO, "errnoRet": 38},
            ],
        },
    ),
    # Go matches keys case-insensitively (exact match first), the last key wins, null
    # leaves strings alone and clears lists and optional numbers.
    "go-json-rules": (
        '{"DEFAULTACTION": "SCMP_ACT_KILL", "defaultAction": "SCMP_ACT_ERRNO",'
        ' "defaultErrnoRet": 5, "DefaultErrnoRet": null,'
        ' "architectures": ["SCMP_ARCH_X86"], "Architectures": [],'
        ' "listenerPath": "", "listenerMetadata": "meta",'
        ' "Syscalls": [{"Names": ["getpid"], "ACTION": "SCMP_ACT_ALLOW", "action": null},'
        '              {"names": [], "action": "SCMP_ACT_LOG", "args": []},'
        '              {"names": ["kill"], "action": "SCMP_ACT_TRAP", "errnoRet": 1, "errnoret": null},'
        '              {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",'
        '               "args": [{"Index": 1, "VALUE": 18446744073709551615, "OP": "SCMP_CMP_EQ"}]}],'
        ' "unknown": {"deep": [1, 2, {"x": null}]}}',
        {
            "defaultAction": ERRNO,
            "listenerMetadata": "meta",
            "syscalls": [
                {"names": ["getpid"], "action": ALLOW},
                {"names": [], "action": "SCMP_ACT_LOG"},
                {"names": ["kill"], "action": "SCMP_ACT_TRAP"},
                {
                    "names": ["ioctl"],
                    "action": ALLOW,
                    "args": [{"index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}],
                },
            ],
        },
    ),
    # null elements of arrays are zero values: stored by ctr, refused by runcore's check
    "null-elements": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "architectures": [null],'
        ' "syscalls": [null, {"names": [null, "read"], "action": "SCMP_ACT_ALLOW",'
        ' "args": [null]}]}',
        {
            "defaultAction": ERRNO,
            "architectures": [""],
            "syscalls": [
                {"names": None, "action": ""},
                {
                    "names": ["", "read"],
                    "action": ALLOW,
                    "args": [{"index": 0, "value": 0, "op": ""}],
                },
            ],
        },
    ),
    "kill-default-no-syscalls": (
        '{"defaultAction": "SCMP_ACT_LOG", "syscalls": null}',
        {"defaultAction": "SCMP_ACT_LOG"},
    ),
}

#: DECODE_CASES that runcore's check refuses (ctr stores them; the runtime would refuse).
REFUSED_BY_CHECK = {"null-elements"}

#: Files ctr refuses too (same step: decoding), with a fragment of the message (Go's json error, as ctr).
DECODE_ERRORS = {
    "not-json": ("{", "decoding seccomp profile failed"),
    "trailing": ('{"defaultAction": "SCMP_ACT_ERRNO"} x', "decoding seccomp profile failed"),
    "empty-file": ("", "decoding seccomp profile failed"),
    "array": ("[]", "json: cannot unmarshal array into Go value of type specs.LinuxSeccomp"),
    "action-number": (
        '{"defaultAction": 5}',
        "json: cannot unmarshal number into Go struct field LinuxSeccomp.defaultAction of type specs.LinuxSeccompAction",
    ),
    "errno-negative": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], '
        '"action": "SCMP_ACT_ERRNO", "errnoRet": -1}]}',
        "json: cannot unmarshal number -1 into Go struct field LinuxSyscall.syscalls.errnoRet of type uint",
    ),
    "errno-float": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1.0}',
        "json: cannot unmarshal number 1.0 into Go struct field LinuxSeccomp.defaultErrnoRet of type uint",
    ),
    "errno-exponent": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1e2}',
        "json: cannot unmarshal number 1e2 into Go struct field LinuxSeccomp.defaultErrnoRet of type uint",
    ),
    "value-too-big": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], '
        '"action": "SCMP_ACT_ALLOW", "args": [{"index": 0, '
        '"value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]}',
        "json: cannot unmarshal number 18446744073709551616 into Go struct field LinuxSeccompArg.syscalls.args.value of type uint64",
    ),
    "names-string": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", '
        '"action": "SCMP_ACT_ALLOW"}]}',
        "json: cannot unmarshal string into Go struct field LinuxSyscall.syscalls.names of type []string",
    ),
    "syscalls-object": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}',
        "json: cannot unmarshal object into Go struct field LinuxSeccomp.syscalls of type []specs.LinuxSyscall",
    ),
    "nan": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": NaN}',
        "decoding seccomp profile failed",
    ),
}

#: Files ctr stores as they are but a runtime refuses when the task starts: runcore
#: refuses them before anything is created (a deliberate difference).
CHECK_ERRORS = {
    "unknown-action": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], '
        '"action": "SCMP_ACT_BOGUS"}]}',
        'syscalls[0].action: unknown action "SCMP_ACT_BOGUS"',
    ),
    "unknown-default-action": (
        '{"defaultAction": "ALLOW"}',
        'defaultAction: unknown action "ALLOW"',
    ),
    "no-default-action": ("{}", "defaultAction: no action"),
    "null-document": ("null", "defaultAction: no action"),
    "unknown-arch": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "amd64"]}',
        'architectures[1]: unknown architecture "amd64"',
    ),
    "unknown-op": (
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], '
        '"action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, '
        '"op": "SCMP_CMP_BOGUS"}]}]}',
        'syscalls[0].args[0].op: unknown operator "SCMP_CMP_BOGUS"',
    ),
}
