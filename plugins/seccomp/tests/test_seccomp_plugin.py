"""The plugin's hooks, called as runcore calls them, and the plugin through the real CLI."""

import json

import pytest

from runcore.errors import UsageError
from runcore.spec_editor import SpecEditor
from runcore.testing.hooks import modules_after_import, RecordingRegistrar, run_context
from runcore.testing.cli import run_runcore

import runcore_seccomp as plugin
from runcore_seccomp.profile import default_profile


def make_spec(bounding=None):
    caps = bounding if bounding is not None else ["CAP_CHOWN", "CAP_SYS_CHROOT"]
    return SpecEditor({"process": {"capabilities": {"bounding": list(caps)}}, "linux": {}})


def run_hooks(ctx, spec):
    plugin.runcore_configure(ctx=ctx)
    with spec.attributed_to("seccomp"):
        plugin.runcore_spec_security(spec=spec, ctx=ctx)
    return spec


def test_options_are_ctrs():
    reg = RecordingRegistrar()
    plugin.runcore_add_options(registrar=reg, command="run")
    by_name = {o.name: o for o in reg.options}
    assert set(by_name) == {"seccomp", "seccomp_profile"}
    assert by_name["seccomp"].is_flag and by_name["seccomp"].opts == ["--seccomp"]
    assert by_name["seccomp_profile"].opts == ["--seccomp-profile"]
    assert not by_name["seccomp_profile"].is_flag


def test_without_flags_nothing_happens():
    spec = run_hooks(run_context(seccomp=False, seccomp_profile=None), make_spec())
    assert "seccomp" not in spec.spec["linux"]
    assert spec.changes == []


def test_default_profile_from_the_final_bounding_set():
    caps = ["CAP_SYS_ADMIN", "CAP_BPF"]
    spec = run_hooks(run_context(seccomp=True), make_spec(caps))
    assert spec.spec["linux"]["seccomp"] == default_profile(caps)
    assert spec.explain() == {"linux.seccomp": ["seccomp"]}


def test_profile_needs_seccomp(tmp_path):
    with pytest.raises(UsageError) as info:
        plugin.runcore_configure(
            ctx=run_context(seccomp=False, seccomp_profile=str(tmp_path / "x"))
        )
    assert str(info.value) == "seccomp must be set to true, if using a custom seccomp-profile"


def test_empty_profile_means_default():
    # ctr tests the value, not whether the flag was given
    spec = run_hooks(run_context(seccomp=True, seccomp_profile=""), make_spec([]))
    assert spec.spec["linux"]["seccomp"] == default_profile([])
    plugin.runcore_configure(ctx=run_context(seccomp=False, seccomp_profile=""))


def test_profile_file_replaces_default(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
            }
        )
    )
    spec = run_hooks(run_context(seccomp=True, seccomp_profile=str(path)), make_spec())
    assert spec.spec["linux"]["seccomp"] == {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
    }


def test_profile_file_is_read_in_configure(tmp_path):
    """Errors come before anything is created; a later change of the file is not seen."""
    path = tmp_path / "p.json"
    path.write_text('{"defaultAction": "SCMP_ACT_LOG"}')
    ctx = run_context(seccomp=True, seccomp_profile=str(path))
    plugin.runcore_configure(ctx=ctx)
    path.write_text("garbage")
    spec = make_spec()
    plugin.runcore_spec_security(spec=spec, ctx=ctx)
    assert spec.spec["linux"]["seccomp"] == {"defaultAction": "SCMP_ACT_LOG"}


@pytest.mark.parametrize(
    "content,start",
    [
        (None, 'cannot load seccomp profile "{p}": open {p}: no such file or directory'),
        ("{", 'decoding seccomp profile failed "{p}": '),
        (
            '{"defaultAction": "SCMP_ACT_NOPE"}',
            'invalid seccomp profile "{p}": defaultAction: unknown action',
        ),
        (
            '{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["x86_64"]}',
            'invalid seccomp profile "{p}": architectures[0]: unknown architecture "x86_64"',
        ),
    ],
)
def test_profile_errors_are_usage_errors(tmp_path, content, start):
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as info:
        plugin.runcore_configure(ctx=run_context(seccomp=True, seccomp_profile=str(path)))
    assert str(info.value).startswith(start.format(p=path))
    assert "\n" not in str(info.value)


def test_docker_keys_warn(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(
        '{"defaultAction": "SCMP_ACT_ERRNO", "archMap": [], '
        '"syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW", "includes": {}}]}'
    )
    spec = run_hooks(run_context(seccomp=True, seccomp_profile=str(path)), make_spec())
    err = capsys.readouterr().err
    assert "warning" in err and "archMap, includes ignored" in err and str(path) in err
    assert spec.spec["linux"]["seccomp"] == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW"}],
    }


def test_config_ignores_the_flags(tmp_path):
    """ctr ignores every spec flag with --config (even the --seccomp-profile check)."""
    ctx = run_context(
        config=str(tmp_path / "config.json"),
        seccomp=True,
        seccomp_profile=str(tmp_path / "missing.json"),
    )
    spec = run_hooks(ctx, make_spec())
    assert "seccomp" not in spec.spec["linux"]
    plugin.runcore_configure(ctx=run_context(config="c.json", seccomp=False, seccomp_profile="x"))


def test_missing_capabilities_give_the_no_caps_profile():
    spec = SpecEditor({"process": {}, "linux": {}})
    run_hooks(run_context(seccomp=True), spec)
    assert spec.spec["linux"]["seccomp"] == default_profile([])


def test_module_import_is_cheap():
    assert modules_after_import("runcore_seccomp") == []


# --------------------------------------------------------------------------- real CLI


def test_plugin_is_listed_active():
    result = run_runcore("plugins", "--json")
    assert result.returncode == 0, result.stderr
    row = {r["id"]: r for r in json.loads(result.stdout)}["seccomp"]
    assert row["status"] == "active"
    assert row["distribution"] == "runcore-seccomp"
    assert row["flags"] == ["--seccomp", "--seccomp-profile"]


def test_help_shows_the_flags():
    result = run_runcore("run", "--help")
    assert result.returncode == 0, result.stderr
    assert "--seccomp-profile FILE" in result.stdout


@pytest.mark.parametrize(
    "how,args,env",
    [
        ("-p no:seccomp", ["-p", "no:seccomp"], {}),
        ("RUNCORE_DISABLE_PLUGINS", [], {"RUNCORE_DISABLE_PLUGINS": "seccomp"}),
    ],
)
@pytest.mark.parametrize("flag", [["--seccomp"], ["--seccomp-profile", "/x.json"]])
def test_disabled_plugin_fails_closed(how, args, env, flag, tmp_path):
    result = run_runcore(*args, "create", *flag, "--rootfs", str(tmp_path), "id", env=env)
    assert result.returncode != 0
    assert f"{flag[0]} is not available" in result.stderr
    assert "disabled" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_plugin_fails_closed(tmp_path):
    shadow = tmp_path / "shadow"
    (shadow / "runcore_seccomp").mkdir(parents=True)
    (shadow / "runcore_seccomp" / "__init__.py").write_text(
        "raise RuntimeError('broken on purpose')\n"
    )
    listing = run_runcore("plugins", "--json", pythonpath=str(shadow))
    row = {r["id"]: r for r in json.loads(listing.stdout)}["seccomp"]
    assert row["status"] == "failed" and "broken on purpose" in row["reason"]
    result = run_runcore(
        "create", "--seccomp", "--rootfs", str(tmp_path), "id", pythonpath=str(shadow)
    )
    assert result.returncode != 0
    assert "--seccomp is not available" in result.stderr and "broken on purpose" in result.stderr
