"""The default AppArmor profile text (reference sheet §11, containerd 1.7.24)."""

import os
import shutil
import subprocess

import pytest

from runcore_apparmor import template
from runcore_apparmor.template import TemplateData, host_data, render

PARSER = shutil.which("apparmor_parser") or (
    "/usr/sbin/apparmor_parser" if os.path.exists("/usr/sbin/apparmor_parser") else None
)
needs_parser = pytest.mark.skipif(
    PARSER is None, reason="apparmor_parser not installed (apt-get install apparmor)"
)


def rules_of(text):
    """The policy lines (comments and blank lines carry no meaning)."""
    out = []
    for line in text.splitlines():
        line = (
            line.split("  #")[0].strip()
            if not line.strip().startswith("#include")
            else line.strip()
        )
        if line and not line.startswith("# "):
            out.append(line)
    return out


EXPECTED_BODY = [
    "network,",
    "capability,",
    "file,",
    "umount,",
    "signal (receive) peer=unconfined,",
    "signal (receive) peer=runc,",
    "signal (receive) peer=crun,",
    "signal (receive) peer={daemon},",
    "signal (send,receive) peer={name},",
    "{rootlesskit}",
    "deny @{{PROC}}/* w,",
    "deny @{{PROC}}/{{[^1-9],[^1-9][^0-9],[^1-9s][^0-9y][^0-9s],[^1-9][^0-9][^0-9][^0-9]*}}/** w,",
    "deny @{{PROC}}/sys/[^k]** w,",
    "deny @{{PROC}}/sys/kernel/{{?,??,[^s][^h][^m]**}} w,",
    "deny @{{PROC}}/sysrq-trigger rwklx,",
    "deny @{{PROC}}/mem rwklx,",
    "deny @{{PROC}}/kmem rwklx,",
    "deny @{{PROC}}/kcore rwklx,",
    "deny mount,",
    "deny /sys/[^f]*/** wklx,",
    "deny /sys/f[^s]*/** wklx,",
    "deny /sys/fs/[^c]*/** wklx,",
    "deny /sys/fs/c[^g]*/** wklx,",
    "deny /sys/fs/cg[^r]*/** wklx,",
    "deny /sys/firmware/** rwklx,",
    "deny /sys/devices/virtual/powercap/** rwklx,",
    "deny /sys/kernel/security/** rwklx,",
    "ptrace (trace,tracedby,read,readby) peer={name},",
]


def expected(name, imports, inner, daemon="unconfined", rootlesskit=""):
    body = [
        r.format(
            name=name,
            daemon=daemon,
            rootlesskit=f"signal (receive) peer={rootlesskit}," if rootlesskit else "",
        )
        for r in EXPECTED_BODY
    ]
    body = [r for r in body if r]
    return [
        *imports,
        f"profile {name} flags=(attach_disconnected,mediate_deleted) {{",
        *inner,
        *body,
        "}",
    ]


def test_plain_host():
    text = render("rc-default")
    assert rules_of(text) == expected("rc-default", ["@{PROC}=/proc/"], [])
    assert "abi <" not in text  # 1.7.31+ only


def test_with_imports_daemon_profile_and_rootlesskit():
    data = TemplateData(
        imports=["#include <tunables/global>"],
        inner_imports=["#include <abstractions/base>"],
        daemon_profile="containerd",
        rootlesskit="/usr/bin/rootlesskit",
    )
    text = render("x.y", data)
    assert rules_of(text) == expected(
        "x.y",
        ["#include <tunables/global>"],
        ["#include <abstractions/base>"],
        "containerd",
        "/usr/bin/rootlesskit",
    )
    assert text.endswith("}\n")


def test_host_data_reads_the_host(tmp_path):
    aa = tmp_path / "apparmor.d"
    (aa / "tunables").mkdir(parents=True)
    (aa / "abstractions").mkdir()
    attr = tmp_path / "current"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    data = host_data(str(aa), str(attr), path=str(bindir))
    assert data == TemplateData(["@{PROC}=/proc/"], [], "unconfined", "")

    (aa / "tunables" / "global").write_text("")
    (aa / "abstractions" / "base").write_text("")
    attr.write_text("/usr/bin/runcore (enforce)\n")
    kit = bindir / "rootlesskit"
    kit.write_text("#!/bin/sh\n")
    kit.chmod(0o755)
    data = host_data(str(aa), str(attr), path=str(bindir))
    assert data.imports == ["#include <tunables/global>"]
    assert data.inner_imports == ["#include <abstractions/base>"]
    assert data.daemon_profile == "/usr/bin/runcore"
    assert data.rootlesskit == str(kit)


def test_relative_path_entries_do_not_count(tmp_path, monkeypatch):
    (tmp_path / "rel").mkdir()
    kit = tmp_path / "rel" / "rootlesskit"
    kit.write_text("#!/bin/sh\n")
    kit.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    assert host_data(str(tmp_path), str(tmp_path / "x"), path="rel").rootlesskit == ""


@pytest.mark.parametrize(
    "current,name",
    [
        ("", "unconfined"),
        ("unconfined\n", "unconfined"),
        ("docker-default (enforce)", "docker-default"),
        ("a b c", "a"),
        (" (enforce)", "unconfined"),
    ],
)
def test_clean_profile_name(current, name):
    assert template.clean_profile_name(current) == name


def test_main_prints_the_host_profile(capsys):
    assert template.main(["rc-test"]) == 0
    assert (
        "profile rc-test flags=(attach_disconnected,mediate_deleted) {" in capsys.readouterr().out
    )
    assert template.main([]) == 2


def parse(text, tmp_path, name="p"):
    path = tmp_path / name
    path.write_text(text)
    # -Q: skip loading into the kernel; -K: no cache. Parses and compiles the policy.
    return subprocess.run(
        [PARSER, "-Q", "-K", str(path)], capture_output=True, text=True, timeout=60
    )


@needs_parser
@pytest.mark.parametrize(
    "data",
    [
        TemplateData(),
        TemplateData(["#include <tunables/global>"], ["#include <abstractions/base>"]),
        TemplateData(
            ["#include <tunables/global>"],
            ["#include <abstractions/base>"],
            "containerd",
            "/usr/local/bin/rootlesskit",
        ),
    ],
    ids=["plain", "includes", "includes-daemon-rootlesskit"],
)
def test_profile_passes_apparmor_parser(data, tmp_path):
    result = parse(render("runcore-test-default", data), tmp_path)
    assert result.returncode == 0, result.stderr


@needs_parser
def test_host_profile_passes_apparmor_parser(tmp_path):
    result = parse(template.render_for_host("cri-containerd.apparmor.d"), tmp_path)
    assert result.returncode == 0, result.stderr


@needs_parser
def test_parser_check_is_real(tmp_path):
    """The parser check above would catch a broken profile."""
    broken = render("x").replace("deny mount,", "deny mount")
    assert parse(broken, tmp_path).returncode != 0
