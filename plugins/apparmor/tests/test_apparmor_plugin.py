"""Loading the default profile and the plugin's hooks, with a fake kernel list and parser."""

import json
import os

import pytest

from runcore.errors import RuncoreError, UsageError
from runcore.spec_editor import SpecEditor
from runcore.testing.hooks import modules_after_import, RecordingRegistrar, run_context
from runcore.testing.cli import run_runcore

import runcore_apparmor as plugin
from runcore_apparmor import loader


# --------------------------------------------------------------------------- fakes


@pytest.fixture
def profiles(tmp_path, monkeypatch):
    """A fake /sys/kernel/security/apparmor/profiles."""
    path = tmp_path / "profiles"
    path.write_text("docker-default (enforce)\n/usr/bin/man (enforce)\n")
    monkeypatch.setattr(loader, "PROFILES_FILE", str(path))
    return path


@pytest.fixture
def parser(tmp_path, monkeypatch):
    """A fake apparmor_parser recording its arguments and the profile file it was given."""
    log = tmp_path / "parser.log"
    script = tmp_path / "apparmor_parser"
    script.write_text(f"""#!/bin/sh
echo "$@" >> {log}
cat "$2" > {log}.profile
if [ -n "$FAIL_PARSER" ]; then echo "AppArmor parser error: line 1"; echo "second line" >&2; exit 3; fi
""")
    script.chmod(0o755)
    monkeypatch.setattr(loader, "PARSER", str(script))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    (tmp_path / "xdg").mkdir()

    class Parser:
        calls = property(lambda self: log.read_text().splitlines() if log.exists() else [])
        profile = property(lambda self: (tmp_path / "parser.log.profile").read_text())
        xdg = tmp_path / "xdg"

    return Parser()


def run_hooks(ctx, spec=None):
    spec = spec or SpecEditor({"process": {}})
    plugin.runcore_configure(ctx=ctx)
    with spec.attributed_to("apparmor"):
        plugin.runcore_spec_security(spec=spec, ctx=ctx)
    return spec


# --------------------------------------------------------------------------- loader


def test_is_loaded(profiles):
    assert loader.is_loaded("docker-default")
    assert loader.is_loaded("/usr/bin/man")
    assert not loader.is_loaded("docker")  # whole names only
    assert not loader.is_loaded("rc-new")


def test_is_loaded_ignores_an_unterminated_last_line(profiles):
    profiles.write_text("a (enforce)\nb (enforce)")
    assert loader.is_loaded("a") and not loader.is_loaded("b")


def test_missing_profiles_file(tmp_path, monkeypatch):
    missing = tmp_path / "apparmor" / "profiles"
    monkeypatch.setattr(loader, "PROFILES_FILE", str(missing))
    assert loader.unavailable_reason() == f"open {missing}: no such file or directory"
    with pytest.raises(loader.AppArmorError, match="no such file or directory"):
        loader.is_loaded("x")


def test_this_host_has_no_apparmor_or_reports_nothing():
    reason = loader.unavailable_reason()
    assert reason is None or reason == (
        "open /sys/kernel/security/apparmor/profiles: no such file or directory"
    )


def test_load_runs_parser_with_Kr_on_a_temp_file(parser):
    loader.load("rc-prof", "profile rc-prof {}\n")
    (call,) = parser.calls
    flag, path = call.split(" ", 1)
    assert flag == "-Kr"
    assert os.path.dirname(path) == str(parser.xdg)
    assert os.path.basename(path).startswith("rc-prof")
    assert parser.profile == "profile rc-prof {}\n"
    assert not os.path.exists(path)  # removed afterwards


def test_load_failure_message(parser, monkeypatch):
    monkeypatch.setenv("FAIL_PARSER", "1")
    with pytest.raises(loader.AppArmorError) as info:
        loader.load("rc-prof", "x")
    (call,) = parser.calls
    path = call.split(" ", 1)[1]
    assert str(info.value) == (
        f'load apparmor profile {path}: parser error("AppArmor parser error: line 1\\nsecond line")'
        ": exit status 3"
    )
    assert not os.path.exists(path)


def test_missing_parser(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "PARSER", "no-such-apparmor-parser")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(loader.AppArmorError) as info:
        loader.load("rc", "x")
    assert str(info.value).endswith(
        'parser error(""): exec: "no-such-apparmor-parser": executable file not found in $PATH'
    )
    assert os.listdir(tmp_path) == []


def test_slash_in_name_cannot_be_a_temp_file_pattern(parser):
    with pytest.raises(loader.AppArmorError, match="pattern contains path separator"):
        loader.load("a/b", "x")
    assert parser.calls == []


def test_ensure_loaded(profiles, parser):
    assert loader.ensure_loaded("docker-default") is False
    assert parser.calls == []
    assert loader.ensure_loaded("rc-new") is True
    assert len(parser.calls) == 1
    assert "profile rc-new flags=(attach_disconnected,mediate_deleted) {" in parser.profile
    assert "peer=rc-new," in parser.profile


# --------------------------------------------------------------------------- hooks


def test_options_are_ctrs():
    reg = RecordingRegistrar()
    plugin.runcore_add_options(registrar=reg, command="create")
    assert [o.opts for o in reg.options] == [["--apparmor-default-profile"], ["--apparmor-profile"]]
    assert [o.name for o in reg.options] == ["apparmor_default_profile", "apparmor_profile"]


def test_nothing_without_flags():
    spec = run_hooks(run_context(apparmor_default_profile="", apparmor_profile=None))
    assert spec.spec == {"process": {}}


def test_custom_profile_is_just_set(profiles, parser):
    spec = run_hooks(run_context(apparmor_profile="my-profile"))
    assert spec.spec["process"]["apparmorProfile"] == "my-profile"
    assert parser.calls == []


def test_custom_profile_needs_no_apparmor(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "PROFILES_FILE", str(tmp_path / "missing"))
    spec = run_hooks(run_context(apparmor_profile="my-profile"))
    assert spec.spec["process"]["apparmorProfile"] == "my-profile"


def test_conflict():
    with pytest.raises(UsageError) as info:
        plugin.runcore_configure(
            ctx=run_context(apparmor_default_profile="a", apparmor_profile="b")
        )
    assert str(info.value) == "apparmor-profile conflicts with apparmor-default-profile"


def test_conflict_comes_before_the_host_check(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "PROFILES_FILE", str(tmp_path / "missing"))
    with pytest.raises(UsageError, match="conflicts"):
        plugin.runcore_configure(
            ctx=run_context(apparmor_default_profile="a", apparmor_profile="b")
        )


def test_default_profile_without_apparmor_fails_in_configure(tmp_path, monkeypatch):
    missing = tmp_path / "missing"
    monkeypatch.setattr(loader, "PROFILES_FILE", str(missing))
    with pytest.raises(UsageError) as info:
        plugin.runcore_configure(ctx=run_context(apparmor_default_profile="rc-default"))
    message = str(info.value)
    assert message.startswith("--apparmor-default-profile rc-default: AppArmor is not enabled")
    assert f"open {missing}: no such file or directory" in message


@pytest.mark.parametrize("name", ["a b", "a\nb", "a,b", "x{", "p#1", 'q"'])
def test_unsafe_default_profile_names(name, profiles):
    with pytest.raises(UsageError, match="may not contain"):
        plugin.runcore_configure(ctx=run_context(apparmor_default_profile=name))


def test_default_profile_loaded_when_missing(profiles, parser):
    spec = run_hooks(run_context(apparmor_default_profile="rc-default"))
    assert spec.spec["process"]["apparmorProfile"] == "rc-default"
    assert len(parser.calls) == 1


def test_default_profile_already_loaded(profiles, parser):
    spec = run_hooks(run_context(command="run", apparmor_default_profile="docker-default"))
    assert spec.spec["process"]["apparmorProfile"] == "docker-default"
    assert parser.calls == []


def test_spec_command_loads_nothing(profiles, parser):
    spec = run_hooks(run_context(command="spec", apparmor_default_profile="rc-default"))
    assert spec.spec["process"]["apparmorProfile"] == "rc-default"
    assert parser.calls == []


def test_load_failure_is_one_line(profiles, parser, monkeypatch):
    monkeypatch.setenv("FAIL_PARSER", "1")
    with pytest.raises(RuncoreError) as info:
        run_hooks(run_context(apparmor_default_profile="rc-default"))
    message = str(info.value)
    assert message.startswith("--apparmor-default-profile rc-default: load apparmor profile ")
    assert "exit status 3" in message and "\n" not in message


def test_config_ignores_the_flags(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "PROFILES_FILE", str(tmp_path / "missing"))
    spec = run_hooks(
        run_context(config="c.json", apparmor_default_profile="a", apparmor_profile="b")
    )
    assert spec.spec == {"process": {}}


def test_module_import_is_cheap():
    assert modules_after_import("runcore_apparmor") == []


# --------------------------------------------------------------------------- real CLI


def test_plugin_is_listed_active():
    result = run_runcore("plugins", "--json")
    assert result.returncode == 0, result.stderr
    row = {r["id"]: r for r in json.loads(result.stdout)}["apparmor"]
    assert row["status"] == "active" and row["distribution"] == "runcore-apparmor"
    assert row["flags"] == ["--apparmor-default-profile", "--apparmor-profile"]


@pytest.mark.parametrize("flag", ["--apparmor-default-profile", "--apparmor-profile"])
def test_disabled_plugin_fails_closed(flag, tmp_path):
    result = run_runcore("-p", "no:apparmor", "create", flag, "p", "--rootfs", str(tmp_path), "id")
    assert result.returncode != 0
    assert f"{flag} is not available" in result.stderr and "disabled" in result.stderr
    assert "Traceback" not in result.stderr
