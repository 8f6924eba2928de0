"""The CNI protocol without containerd: configuration lookup, ADD/DEL/CHECK, the cache.

Fake plugins (small Python scripts) log what they were given – the CNI_* variables and the
configuration on stdin – and answer as the configuration's ``mode`` asks.
"""

import json
import os
import sys

import pytest

from runcore_cni import cache, config, version
from runcore_cni.invoke import PluginFailure, RuntimeConf, one_line, plugin_env, run_plugin
from runcore_cni.network import Attachment, CNIError, from_cache_entry

FAKE = f"""#!{sys.executable}
import json, os, sys
conf = json.load(sys.stdin)
me = os.path.basename(sys.argv[0])
cmd = os.environ["CNI_COMMAND"]
with open(os.environ["RCTEST_LOG"], "a") as log:
    log.write(json.dumps({{"plugin": me, "cmd": cmd, "conf": conf,
                          "env": {{k: v for k, v in os.environ.items()
                                  if k.startswith("CNI_") or k == "RCTEST_MARK"}}}}) + "\\n")
mode = conf.get("mode", "")
if mode == "fail-" + cmd.lower():
    print(json.dumps({{"cniVersion": conf.get("cniVersion"), "code": 11, "msg": "boom",
                      "details": "line one\\nline two"}}))
    sys.exit(1)
if mode == "crash-" + cmd.lower():
    sys.stderr.write("panic: something\\nstack\\n")
    sys.exit(2)
if mode == "garbage-add" and cmd == "ADD":
    print("not json")
    sys.exit(0)
if cmd == "ADD":
    prev = conf.get("prevResult") or {{"cniVersion": conf.get("cniVersion"), "ips": []}}
    result = dict(prev)
    result["interfaces"] = list(prev.get("interfaces", [])) + [{{"name": me}}]
    print(json.dumps(result))
"""


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("one", "two", "three"):
        path = bin_dir / name
        path.write_text(FAKE)
        path.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("RCTEST_LOG", str(log))
    monkeypatch.setenv("RCTEST_MARK", "inherited")
    monkeypatch.setenv("CNI_ARGS", "LEAKED=1")

    class Fakes:
        dir = str(bin_dir)
        cache_dir = str(tmp_path / "cache")

        @staticmethod
        def calls():
            if not log.exists():
                return []
            lines = log.read_text().splitlines()
            log.write_text("")
            return [json.loads(line) for line in lines]

        @staticmethod
        def attachment(plugins, version="1.0.0", **extra):
            data = {"cniVersion": version, "name": "net1", "plugins": plugins, **extra}
            if version is None:
                del data["cniVersion"]
            network = config.NetworkList.from_json(data, "/x/10-net1.conflist")
            return Attachment(
                network=network,
                bin_dirs=[str(bin_dir)],
                rt=RuntimeConf(container_id="ns-c1", netns="/proc/1/ns/net"),
                cache_dir=str(tmp_path / "cache"),
            )

    return Fakes


# ------------------------------------------------------------------ configuration


def write(folder, name, data):
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_first_file_in_lexical_order(tmp_path):
    write(tmp_path, "20-b.conflist", {"name": "b", "plugins": [{"type": "x"}]})
    write(tmp_path, "10-a.json", {"name": "a", "type": "y", "cniVersion": "0.4.0"})
    write(tmp_path, "05-ignored.txt", "junk")
    write(tmp_path, "07-ignored.conf.bak", "junk")
    (tmp_path / "01-dir.conf").mkdir()
    assert config.conf_files(str(tmp_path)) == [
        str(tmp_path / "10-a.json"),
        str(tmp_path / "20-b.conflist"),
    ]
    network = config.load_default(str(tmp_path))
    assert (network.name, network.cni_version, network.types) == ("a", "0.4.0", ["y"])
    # a single configuration is run as a list of one
    assert network.to_json() == {
        "name": "a",
        "cniVersion": "0.4.0",
        "plugins": [{"name": "a", "type": "y", "cniVersion": "0.4.0"}],
    }


def test_upper_case_sorts_first(tmp_path):
    write(tmp_path, "a.conf", {"name": "lower", "type": "x"})
    write(tmp_path, "B.conf", {"name": "upper", "type": "x"})
    assert config.load_default(str(tmp_path)).name == "upper"


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_no_config(tmp_path, folder):
    if folder == "empty":
        (tmp_path / folder).mkdir()
    path = str(tmp_path / folder)
    with pytest.raises(config.ConfigError) as err:
        config.load_default(path)
    assert str(err.value) == f"no network config found in {path}: cni plugin not initialized"


BAD = [
    ("10.conflist", '{"name": ', "invalid JSON"),
    ("10.conflist", [], "not a JSON object"),
    ("10.conflist", {"plugins": [{"type": "x"}]}, "the network has no name"),
    ("10.conflist", {"name": "-x", "plugins": [{"type": "x"}]}, "invalid network name '-x'"),
    ("10.conflist", {"name": "n"}, "no 'plugins' list"),
    ("10.conflist", {"name": "n", "plugins": []}, "'plugins' must be a non-empty list"),
    ("10.conflist", {"name": "n", "plugins": [{"bridge": "x"}]}, "plugin 1 has no type"),
    ("10.conflist", {"name": "n", "plugins": [{"type": "../x"}]}, "invalid type '../x'"),
    (
        "10.conflist",
        {"name": "n", "cniVersion": "1.1.0", "plugins": [{"type": "x"}]},
        "cniVersion '1.1.0' is not supported",
    ),
    (
        "10.conflist",
        {"name": "n", "cniVersion": 1, "plugins": [{"type": "x"}]},
        "cniVersion must be a string",
    ),
    (
        "10.conflist",
        {"name": "n", "disableCheck": "maybe", "plugins": [{"type": "x"}]},
        "disableCheck must be true or false",
    ),
    (
        "10.conf",
        {"name": "n", "plugins": [{"type": "x"}]},
        "network type not found (a configuration list belongs in a .conflist file)",
    ),
    ("10.json", {"name": "n"}, "network type not found"),
]


@pytest.mark.parametrize("name,data,message", BAD, ids=[b[2][:30] for b in BAD])
def test_bad_configurations(tmp_path, name, data, message):
    write(tmp_path, name, data)
    write(tmp_path, "99-good.conflist", {"name": "good", "plugins": [{"type": "x"}]})
    with pytest.raises(config.ConfigError) as err:
        config.load_default(str(tmp_path))  # the first file only: no fallback
    assert message in str(err.value)
    assert str(tmp_path / name) in str(err.value)


def test_disable_check_as_string(tmp_path):
    write(tmp_path, "1.conflist", {"name": "n", "disableCheck": "true", "plugins": [{"type": "x"}]})
    assert config.load_default(str(tmp_path)).disable_check is True


def test_find_plugin(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (second / "p").write_text("#!/bin/sh\n")
    (second / "p").chmod(0o755)
    (first / "q").write_text("")
    (first / "q").chmod(0o644)
    assert config.find_plugin("p", [str(first), str(second)]) == str(second / "p")
    with pytest.raises(config.ConfigError, match="is not executable"):
        config.find_plugin("q", [str(first), str(second)])
    with pytest.raises(config.ConfigError) as err:
        config.find_plugin("r", [str(first), str(second)])
    assert str(err.value) == f'failed to find plugin "r" in path [{first} {second}]'


def test_check_plugins_includes_ipam(tmp_path):
    (tmp_path / "br").write_text("")
    (tmp_path / "br").chmod(0o755)
    data = {"name": "n", "plugins": [{"type": "br", "ipam": {"type": "nope"}}]}
    network = config.NetworkList.from_json(data, "f")
    with pytest.raises(config.ConfigError, match='failed to find plugin "nope"'):
        config.check_plugins(network, [str(tmp_path)])


def test_versions():
    assert version.supported("") and version.supported("0.3.1") and version.supported("1.0.0")
    assert not version.supported("1.1.0") and not version.supported("0.5.0")
    assert not version.has_chaining("0.2.0") and version.has_chaining("0.3.0")
    assert not version.has_check("0.3.1") and version.has_check("0.4.0")
    assert not version.passes_prev_result_on_del("") and version.passes_prev_result_on_del("1.0.0")
    with pytest.raises(ValueError):
        version.parse("1.0")


# ------------------------------------------------------------------ invocation


def test_environment_replaces_inherited_cni_variables():
    env = plugin_env(
        "DEL",
        RuntimeConf("ns-c", "", "eth0"),
        ["/a", "/b"],
        base={"PATH": "/bin", "CNI_ARGS": "X=1", "CNI_OTHER": "y"},
    )
    assert env == {
        "PATH": "/bin",
        "CNI_COMMAND": "DEL",
        "CNI_CONTAINERID": "ns-c",
        "CNI_NETNS": "",
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": "",
        "CNI_PATH": "/a:/b",
    }


def test_one_line():
    assert one_line(" a\n  b\tc \n") == "a b c"
    assert len(one_line("x" * 5000)) == 600


def test_add_chains_and_caches(fakes):
    att = fakes.attachment(
        [{"type": "one", "k": 1}, {"type": "two", "name": "ignored", "cniVersion": "0.1.0"}]
    )
    result = att.add()
    assert [i["name"] for i in result["interfaces"]] == ["one", "two"]
    first, second = fakes.calls()
    for call in (first, second):
        assert call["cmd"] == "ADD"
        assert call["env"] == {
            "CNI_COMMAND": "ADD",
            "CNI_CONTAINERID": "ns-c1",
            "CNI_NETNS": "/proc/1/ns/net",
            "CNI_IFNAME": "eth0",
            "CNI_ARGS": "",
            "CNI_PATH": fakes.dir,
            "RCTEST_MARK": "inherited",
        }
        assert call["conf"]["name"] == "net1" and call["conf"]["cniVersion"] == "1.0.0"
    assert "prevResult" not in first["conf"] and first["conf"]["k"] == 1
    assert [i["name"] for i in second["conf"]["prevResult"]["interfaces"]] == ["one"]
    entry = cache.read(att.cache_path)
    assert att.cache_path == os.path.join(fakes.cache_dir, "results", "net1-ns-c1-eth0")
    assert entry["result"] == result and entry["containerId"] == "ns-c1"
    assert entry["binDirs"] == [fakes.dir] and entry["confFile"] == "/x/10-net1.conflist"
    assert oct(os.stat(att.cache_path).st_mode & 0o777) == "0o600"


def test_del_reverse_with_cached_result(fakes):
    att = fakes.attachment([{"type": "one"}, {"type": "two"}, {"type": "three"}])
    result = att.add()
    fakes.calls()
    [entry] = cache.find(fakes.cache_dir, "ns-c1", "eth0")
    again = from_cache_entry(entry)
    again.cache_dir = fakes.cache_dir
    assert again.rt.netns == "" and again.network.types == ["one", "two", "three"]
    again.delete(entry["result"])
    calls = fakes.calls()
    assert [c["plugin"] for c in calls] == ["three", "two", "one"]
    assert all(c["conf"]["prevResult"] == result for c in calls)
    assert all(c["env"]["CNI_NETNS"] == "" for c in calls)
    assert cache.find(fakes.cache_dir, "ns-c1", "eth0") == []


@pytest.mark.parametrize(
    "ver,chained,del_prev",
    [
        (None, False, False),
        ("0.2.0", False, False),
        ("0.3.1", True, False),
        ("0.4.0", True, True),
        ("1.0.0", True, True),
    ],
)
def test_version_features(fakes, ver, chained, del_prev):
    att = fakes.attachment([{"type": "one"}, {"type": "two"}], version=ver)
    result = att.add()
    _, second = fakes.calls()
    assert ("prevResult" in second["conf"]) == chained
    assert ("cniVersion" in second["conf"]) == (ver is not None)
    att.delete(result)
    assert all(("prevResult" in c["conf"]) == del_prev for c in fakes.calls())


def test_add_error_json_is_one_line(fakes):
    att = fakes.attachment(
        [{"type": "one"}, {"type": "two", "mode": "fail-add"}, {"type": "three"}]
    )
    with pytest.raises(CNIError) as err:
        att.add()
    assert str(err.value) == (
        'cni network "net1" (/x/10-net1.conflist): plugin "two" failed '
        "(add): boom; line one line two (CNI error 11: try again later)"
    )
    assert [c["plugin"] for c in fakes.calls()] == ["one", "two"]
    assert not os.path.exists(att.cache_path)
    # the undo: DEL for every plugin of the list, reverse order, no prevResult
    att.delete(None)
    calls = fakes.calls()
    assert [(c["plugin"], c["cmd"]) for c in calls] == [
        ("three", "DEL"),
        ("two", "DEL"),
        ("one", "DEL"),
    ]
    assert not any("prevResult" in c["conf"] for c in calls)


def test_crash_without_error_json(fakes):
    att = fakes.attachment([{"type": "one", "mode": "crash-add"}])
    with pytest.raises(CNIError) as err:
        att.add()
    assert str(err.value).endswith(
        'plugin "one" failed (add): panic: something stack (exit status 2)'
    )


def test_invalid_result(fakes):
    att = fakes.attachment([{"type": "one", "mode": "garbage-add"}])
    with pytest.raises(CNIError, match=r'plugin "one" failed \(add\): invalid result'):
        att.add()


def test_del_stops_at_first_error_and_keeps_cache(fakes):
    att = fakes.attachment(
        [{"type": "one"}, {"type": "two", "mode": "fail-del"}, {"type": "three"}]
    )
    result = att.add()
    fakes.calls()
    with pytest.raises(CNIError, match=r'plugin "two" failed \(del\): boom'):
        att.delete(result)
    assert [c["plugin"] for c in fakes.calls()] == ["three", "two"]
    assert os.path.exists(att.cache_path)


def test_plugin_removed_after_configure(fakes):
    att = fakes.attachment([{"type": "one"}, {"type": "gone"}])
    with pytest.raises(CNIError) as err:
        att.add()
    assert f'failed to find plugin "gone" in path [{fakes.dir}]' in str(err.value)


def test_check(fakes):
    att = fakes.attachment([{"type": "one"}, {"type": "two"}])
    result = att.add()
    fakes.calls()
    att.check(result)
    calls = fakes.calls()
    assert [(c["plugin"], c["cmd"]) for c in calls] == [("one", "CHECK"), ("two", "CHECK")]
    assert all(c["conf"]["prevResult"] == result for c in calls)


def test_check_not_in_old_versions_or_when_disabled(fakes):
    with pytest.raises(CNIError, match="cniVersion 0.3.1 has no CHECK"):
        fakes.attachment([{"type": "one"}], version="0.3.1").check({})
    with pytest.raises(CNIError, match="disableCheck"):
        fakes.attachment([{"type": "one"}], disableCheck=True).check({})
    assert fakes.calls() == []


def test_run_plugin_timeout(tmp_path):
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    with pytest.raises(PluginFailure, match=r"no answer after 0.5s \(killed\)"):
        run_plugin(
            str(slow), "slow", "ADD", RuntimeConf("c", "/n"), [str(tmp_path)], {}, timeout=0.5
        )


def test_libcni_cache_entry(tmp_path):
    import base64

    folder = tmp_path / "results"
    folder.mkdir()
    conf = {"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}]}
    (folder / "n-ns-c-eth0").write_text(
        json.dumps(
            {
                "kind": "cniCacheV1",
                "containerId": "ns-c",
                "ifName": "eth0",
                "networkName": "n",
                "config": base64.b64encode(json.dumps(conf).encode()).decode(),
                "result": {"cniVersion": "1.0.0"},
            }
        )
    )
    entry = cache.libcni_entry("n", "ns-c", "eth0", directory=str(tmp_path))
    assert entry["networkConfig"] == conf and entry["result"] == {"cniVersion": "1.0.0"}
    assert cache.libcni_entry("n", "ns-other", "eth0", directory=str(tmp_path)) is None
