import types

from runcore.testing import build_spec, run_cli

pytest_plugins = ["runcore.testing"]

mod = types.ModuleType("hello_plugin")
exec(
    """
from runcore import hookimpl
@hookimpl
def runcore_add_options(registrar, command):
    registrar.add("--hello-name", default="")
@hookimpl
def runcore_spec_finish(spec, ctx):
    if ctx.opt("hello_name"):
        spec.set(("annotations", "hello"), ctx.opt("hello_name"))
""",
    mod.__dict__,
)


def test_it():
    res, spec = build_spec(["--hello-name", "bob"], {"hello": mod})
    assert res.exit_code == 0, res.stderr
    assert spec.spec["annotations"] == {"hello": "bob"}
    assert spec.owners("annotations.hello") == ["hello"], spec.provenance
    r = run_cli(["plugins", "--json"], {"hello": mod})
    assert '"hello"' in r.stdout
    r = run_cli(["spec", "--rootfs", "--cap-add", "X", "/", "id"], {"hello": mod})
    assert r.exit_code == 1 and "CAP_" in r.error, (r.exit_code, r.stderr)


def test_fixture(runcore_cli):
    assert runcore_cli.run(["--version"]).stdout.startswith("runcore ")


def test_spec_fixture(runcore_spec):
    res, spec = runcore_spec(["--hello-name", "ann"], plugins={"hello": mod})
    assert res.exit_code == 0, res.stderr
    assert spec.owners("annotations.hello") == ["hello"]


def test_support_modules_are_the_packaged_harness():
    """tests/support keeps the old module names, as aliases of the one packaged copy."""
    import support.daemon
    import support.fixtures

    import runcore.testing.containerd
    import runcore.testing.daemon

    assert support.daemon is runcore.testing.daemon
    assert support.fixtures is runcore.testing.containerd
