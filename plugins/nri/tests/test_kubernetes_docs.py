"""docs/kubernetes.md: its containerd snippet, systemd unit, manifests and example keys are valid."""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "kubernetes.md"


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def toml_loads(text):
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads(text)


def test_containerd_snippet_enables_nri_with_the_default_socket():
    (snippet,) = [b for b in blocks("toml") if "io.containerd.nri.v1.nri" in b]
    config = toml_loads(snippet)
    assert config["version"] == 2
    nri = config["plugins"]["io.containerd.nri.v1.nri"]
    assert nri["disable"] is False and nri["disable_connections"] is False
    assert nri["socket_path"] == "/var/run/nri/nri.sock"
    for key in ("plugin_registration_timeout", "plugin_request_timeout"):
        assert re.fullmatch(r"\d+s", nri[key])


def test_systemd_unit():
    (unit,) = blocks("ini")
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string(unit)
    assert set(parser.sections()) == {"Unit", "Service", "Install"}
    service = parser["Service"]
    assert re.match(r"/\S+/runcore nri serve( |$)", service["ExecStart"])
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "always"
    assert "containerd.service" in parser["Unit"]["After"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def manifests():
    yaml = pytest.importorskip("yaml")
    docs = []
    for block in blocks("yaml"):
        docs.extend(d for d in yaml.safe_load_all(block) if d is not None)
    return {d["kind"]: d for d in docs}


def test_daemonset_manifest_has_the_required_fields():
    found = manifests()
    ds = found["DaemonSet"]
    assert ds["apiVersion"] == "apps/v1"
    assert ds["metadata"]["name"] and ds["metadata"]["namespace"] == "kube-system"
    template = ds["spec"]["template"]
    assert ds["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
    (container,) = template["spec"]["containers"]
    assert container["name"] and container["image"]
    assert container["command"][:3] == ["runcore", "nri", "serve"]
    socket = container["command"][container["command"].index("--socket") + 1]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert set(mounts) == set(volumes)
    nri_mount = next(m for m in mounts.values() if socket.startswith(m["mountPath"] + "/"))
    assert (
        volumes[nri_mount["name"]]["hostPath"]["path"] == nri_mount["mountPath"] == "/var/run/nri"
    )
    assert container["securityContext"]["runAsUser"] == 0  # the socket is root's
    config_mount = next(m for m in mounts.values() if m["mountPath"] == "/etc/runcore")
    config_map = volumes[config_mount["name"]]["configMap"]["name"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["RUNCORE_CONFIG"] == "/etc/runcore/config.toml"
    assert found["ConfigMap"]["metadata"]["name"] == config_map


def test_configmap_is_a_valid_runcore_config(tmp_path):
    from runcore.api import load_config

    from runcore_nri.serve import read_best_effort

    text = manifests()["ConfigMap"]["data"]["config.toml"]
    path = tmp_path / "config.toml"
    path.write_text(text)
    config = load_config({"RUNCORE_CONFIG": str(path)})
    assert config.locked == {"memory_limit": str(path)}
    assert config.defaults["memory_limit"] == 1073741824
    assert read_best_effort([path]) == ["apparmor"]


def test_example_pod_annotations_name_real_options(tmp_path):
    from runcore.cli.plugin_set import init_plugin_set, reset_plugin_set

    from runcore_nri.options import AnnotationOptions

    pod = manifests()["Pod"]
    config = tmp_path / "config.toml"
    config.write_text("")
    try:
        options = AnnotationOptions(init_plugin_set([], {"RUNCORE_CONFIG": str(config)}))
        annotations = pod["metadata"]["annotations"]
        sidecar = options.given(annotations, "sidecar")
        assert sidecar["cpu_shares"].raw == "128"
        app = options.given(annotations, "app")
        assert app["cpu_shares"].raw == "512"
        assert app["device"].raw.splitlines() == ["vendor.com/gpu=0", "/dev/fuse"]
        assert {c["name"] for c in pod["spec"]["containers"]} == {"app", "sidecar"}
    finally:
        reset_plugin_set()
