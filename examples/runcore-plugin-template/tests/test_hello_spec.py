"""Spec-level tests with runcore's in-process CLI (``runcore_cli``): no containerd needed."""

import runcore_hello

PLUGINS = {"hello": runcore_hello}


def test_flag_in_help(runcore_cli):
    result = runcore_cli.run(["run", "--help"], plugins=PLUGINS)
    assert result.exit_code == 0
    assert "--hello-greeting" in result.stdout


def test_spec_change_and_provenance(runcore_cli):
    result, spec = runcore_cli.spec(["--hello-greeting", "hi", "--env", "A=1"], plugins=PLUGINS)
    assert result.exit_code == 0, result.stderr
    assert spec.spec["annotations"][runcore_hello.ANNOTATION] == "hi"
    assert spec.spec["process"]["env"] == ["A=1", "HELLO_GREETING=hi"]
    assert "hello" in spec.owners(f"annotations.[{runcore_hello.ANNOTATION}]")


def test_no_flag_no_change(runcore_cli):
    result, spec = runcore_cli.spec([], plugins=PLUGINS)
    assert result.exit_code == 0, result.stderr
    assert "annotations" not in spec.spec


def test_bad_value_is_one_line_error(runcore_cli):
    result, spec = runcore_cli.spec(["--hello-greeting", "a\nb"], plugins=PLUGINS)
    assert spec is None
    assert result.exit_code == 1
    assert result.error == "--hello-greeting must be a single line"
