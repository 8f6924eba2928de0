"""The plugin's hooks as runcore calls them, and the CLI in-process (no containerd)."""

import json
import os
from types import SimpleNamespace

import pytest

from runcore.context import COMMANDLINE, RunContext
from runcore.errors import UsageError
from runcore.record import ContainerRecord, TaskInfo
from runcore.testing import run_cli
from runcore.testing.hooks import RecordingRegistrar

import runcore_cni as plugin
from runcore_cni.network import CNIError

PLUGINS = {"cni": plugin}
NOWHERE = ["--address", "/nonexistent/containerd.sock"]


def make_ctx(command="run", **options):
    sources = {k: COMMANDLINE for k, v in options.items() if v not in (None, False, "", ())}
    ctx = RunContext(command=command, options=dict(options), sources=sources)
    ctx.container_id = "c1"
    return ctx


def good_conf(tmp_path):
    conf = tmp_path / "net.d"
    conf.mkdir()
    (conf / "10-n.conflist").write_text(
        json.dumps({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "true"}]})
    )
    return str(conf)


@pytest.mark.parametrize(
    "command,names",
    [("run", {"cni", "cni_conf_dir", "cni_bin_dir"}), ("create", {"cni"}), ("spec", {"cni"})],
)
def test_options(command, names):
    reg = RecordingRegistrar()
    plugin.runcore_add_options(registrar=reg, command=command)
    by_name = {o.name: o for o in reg.options}
    assert set(by_name) == names
    assert by_name["cni"].is_flag
    if command == "run":
        assert by_name["cni_conf_dir"].envvar == "RUNCORE_CNI_CONF_DIR"
        assert by_name["cni_conf_dir"].default == "/etc/cni/net.d"
        assert by_name["cni_bin_dir"].envvar == "RUNCORE_CNI_BIN_DIR"
        assert by_name["cni_bin_dir"].default == "/opt/cni/bin"


@pytest.mark.parametrize(
    "command,config,expected",
    [("run", False, True), ("create", False, True), ("run", True, False), ("spec", False, False)],
)
def test_record_extension(command, config, expected):
    options = {"cni": True}
    if config:
        options["config"] = "/spec.json"
    ctx = make_ctx(command, **options)
    record = ContainerRecord(id="c1")
    plugin.runcore_container_record(record=record, ctx=ctx)
    if expected:
        assert record.extensions == {
            "ctr.cni-containerd.metadata": (
                "github.com/containerd/containerd/cmd/ctr/commands/NetworkMetaData",
                b'{"EnableCni":true}',
            )
        }
    else:
        assert record.extensions == {}


def test_without_cni_nothing_happens(tmp_path):
    ctx = make_ctx(cni=False, cni_conf_dir=str(tmp_path / "missing"))
    plugin.runcore_configure(ctx=ctx)
    record = ContainerRecord(id="c1")
    plugin.runcore_container_record(record=record, ctx=ctx)
    plugin.runcore_task_created(task=TaskInfo("c1", pid=1), ctx=ctx)
    plugin.runcore_task_deleted(task=TaskInfo("c1", pid=1), ctx=ctx)
    assert record.extensions == {} and len(ctx.stash) == 0


def test_configure_loads_and_checks(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ctx = make_ctx(cni=True, cni_conf_dir=good_conf(tmp_path), cni_bin_dir=f"{bin_dir}:/bin")
    plugin.runcore_configure(ctx=ctx)
    assert ctx.stash[plugin.NETWORK].name == "n"
    assert ctx.stash[plugin.BIN_DIRS] == [str(bin_dir), "/bin"]


def test_configure_errors(tmp_path):
    with pytest.raises(UsageError, match="no network config found in"):
        plugin.runcore_configure(ctx=make_ctx(cni=True, cni_conf_dir=str(tmp_path)))
    conf = good_conf(tmp_path)
    with pytest.raises(UsageError, match=r'failed to find plugin "true" in path \[/nonexistent\]'):
        plugin.runcore_configure(
            ctx=make_ctx(cni=True, cni_conf_dir=conf, cni_bin_dir="/nonexistent")
        )
    with pytest.raises(UsageError, match="--cni cannot be used with --net-host"):
        plugin.runcore_configure(ctx=make_ctx(cni=True, net_host=True, cni_conf_dir=conf))


def test_task_sharing_our_network_namespace_is_refused(tmp_path):
    ctx = make_ctx(cni=True, cni_conf_dir=good_conf(tmp_path), cni_bin_dir="/bin")
    plugin.runcore_configure(ctx=ctx)
    with pytest.raises(CNIError, match="shares runcore's network namespace"):
        plugin.runcore_task_created(task=TaskInfo("c1", pid=os.getpid()), ctx=ctx)


def test_has_extension():
    def record(value, key="ctr.cni-containerd.metadata"):
        return SimpleNamespace(extensions={key: SimpleNamespace(value=value)})

    assert plugin.has_extension(record(b'{"EnableCni":true}'))
    assert not plugin.has_extension(record(b'{"EnableCni":false}'))
    assert not plugin.has_extension(record(b"garbage"))
    assert not plugin.has_extension(record(b'{"EnableCni":true}', key="other"))
    assert not plugin.has_extension(None)


def test_rm_of_a_container_without_network(tmp_path, monkeypatch):
    """No cache entry, no extension, or never run: nothing is called, nothing fails."""
    monkeypatch.setenv("RUNCORE_CNI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RUNCORE_CNI_CONF_DIR", str(tmp_path / "missing"))
    ext = SimpleNamespace(
        extensions={"ctr.cni-containerd.metadata": SimpleNamespace(value=b'{"EnableCni":true}')}
    )
    plugin.remove_stored("ns", TaskInfo("c1", record=SimpleNamespace(extensions={})))
    plugin.remove_stored("ns", TaskInfo("c1", pid=0, record=ext))  # create --cni, no task
    with pytest.raises(CNIError, match="no network config found"):
        plugin.remove_stored("ns", TaskInfo("c1", pid=42, record=ext))


# ------------------------------------------------------------------ through the CLI


def test_cli_no_config_before_connecting(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli([*NOWHERE, "run", "--cni", "--cni-conf-dir", str(empty), "img", "c1"], PLUGINS)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"runcore: no network config found in {empty}: cni plugin not initialized"
    )


def test_cli_environment(tmp_path):
    result = run_cli(
        [*NOWHERE, "run", "--cni", "img", "c1"],
        PLUGINS,
        env={"RUNCORE_CNI_CONF_DIR": good_conf(tmp_path), "RUNCORE_CNI_BIN_DIR": "/nonexistent"},
    )
    assert result.exit_code == 1
    assert 'failed to find plugin "true" in path [/nonexistent]' in result.stderr


def test_cli_without_plugin_refuses_flag():
    result = run_cli([*NOWHERE, "run", "--cni", "img", "c1"], {})
    assert result.exit_code != 0
    assert "--cni is not available" in result.stderr


def test_cli_spec_accepts_cni():
    result = run_cli(["spec", "--rootfs", "--cni", "/", "c1", "true"], PLUGINS)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["process"]["args"] == ["true"]


def test_cli_config_command(tmp_path):
    conf = good_conf(tmp_path)
    result = run_cli(["cni", "config", "--cni-conf-dir", conf, "--cni-bin-dir", "/bin"], PLUGINS)
    assert result.exit_code == 0, result.stderr
    assert "network:    n" in result.stdout and "/bin/true" in result.stdout
    result = run_cli(["cni", "config", "--json"], PLUGINS, env={"RUNCORE_CNI_CONF_DIR": conf})
    assert json.loads(result.stdout)["name"] == "n"
    result = run_cli(
        ["cni", "config", "--cni-conf-dir", conf, "--cni-bin-dir", "/nonexistent"], PLUGINS
    )
    assert result.exit_code == 1 and "MISSING" in result.stdout


def test_cli_check_without_cache(tmp_path):
    result = run_cli(
        [*NOWHERE, "cni", "check", "c1"], PLUGINS, env={"RUNCORE_CNI_CACHE_DIR": str(tmp_path)}
    )
    assert result.exit_code == 1
    assert "has no CNI network set up by runcore" in result.stderr
