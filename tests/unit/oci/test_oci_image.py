"""WithImageConfig (§7.2) and the small process/root options."""

import json

import pytest

from runcore.oci import (
    DEFAULT_UNIX_ENV,
    SpecError,
    apply_image_config,
    check_config_media_type,
    to_go_json,
    with_env,
    with_new_privileges,
    with_process_args,
    with_process_cwd,
    with_rootfs_path,
    with_rootfs_propagation,
    with_rootfs_readonly,
    with_hostname,
)
from runcore.oci.image import image_config_section


def test_args_env_cwd(spec, rootfs):
    apply_image_config(
        spec,
        {
            "Env": ["PATH=/bin", "FOO=img"],
            "Entrypoint": ["/entry", "-x"],
            "Cmd": ["run"],
            "WorkingDir": "/work",
        },
        rootfs,
    )
    p = spec["process"]
    assert p["args"] == ["/entry", "-x", "run"]
    assert p["env"] == ["PATH=/bin", "FOO=img"]
    assert p["cwd"] == "/work"


def test_defaults_when_config_empty(spec, rootfs):
    apply_image_config(spec, {}, rootfs)
    p = spec["process"]
    assert p["env"] == DEFAULT_UNIX_ENV
    assert p["cwd"] == "/"
    assert "args" not in p
    assert b'"args"' not in to_go_json(spec)
    apply_image_config(spec, None, rootfs)
    assert spec["process"]["env"] == DEFAULT_UNIX_ENV


def test_env_overrides_default_from_spec(spec, rootfs):
    with_env(spec, ["A=1", "PATH=/mine"])
    apply_image_config(spec, {"Env": None}, rootfs)
    assert spec["process"]["env"] == ["PATH=/mine", "A=1"]


def test_env_overrides_parameter(spec, rootfs):
    with_env(spec, ["IGNORED=1"])
    apply_image_config(spec, {"Env": ["X=1"]}, rootfs, env_overrides=["Y=2"])
    assert spec["process"]["env"] == ["X=1", "Y=2"]


def test_case_insensitive_config_keys(spec, rootfs):
    apply_image_config(
        spec, {"cmd": ["a"], "CMD": ["b"], "workingdir": "/w", "user": "bob"}, rootfs
    )
    assert spec["process"]["args"] == ["b"]
    assert spec["process"]["cwd"] == "/w"
    assert spec["process"]["user"]["uid"] == 1002


def test_command_replaces_entrypoint_and_cmd(spec, rootfs):
    spec["process"]["commandLine"] = "x"
    apply_image_config(spec, {"Entrypoint": ["/e"], "Cmd": ["c"]}, rootfs)
    with_process_args(spec, ["echo", "hi"])
    assert spec["process"]["args"] == ["echo", "hi"]
    assert "commandLine" not in spec["process"]


def test_image_config_section():
    assert image_config_section({"architecture": "amd64", "config": {"Cmd": ["sh"]}}) == {
        "Cmd": ["sh"]
    }
    assert image_config_section({}) == {}


def test_bad_config_types(spec, rootfs):
    with pytest.raises(SpecError):
        apply_image_config(spec, {"Cmd": "sh"}, rootfs)


def test_media_types():
    check_config_media_type("application/vnd.oci.image.config.v1+json")
    check_config_media_type("application/vnd.docker.container.image.v1+json")
    with pytest.raises(SpecError) as exc:
        check_config_media_type("application/json")
    assert str(exc.value) == "unknown image config media type application/json"


def test_process_and_root_options(spec):
    with_rootfs_path(spec, "/abs/rootfs")
    with_rootfs_readonly(spec)
    with_process_cwd(spec, "/w")
    with_new_privileges(spec)
    with_hostname(spec, "box")
    with_rootfs_propagation(spec, "rshared")
    doc = json.loads(to_go_json(spec))
    assert doc["root"] == {"path": "/abs/rootfs", "readonly": True}
    assert doc["process"]["cwd"] == "/w"
    assert "noNewPrivileges" not in doc["process"]
    assert doc["hostname"] == "box"
    assert doc["linux"]["rootfsPropagation"] == "rshared"
    s = {}
    with_rootfs_propagation(s, "private")
    assert s == {"linux": {"rootfsPropagation": "private"}}


def test_with_hostname_empty_omitted(spec):
    with_hostname(spec, "")
    assert b"hostname" not in to_go_json(spec)
