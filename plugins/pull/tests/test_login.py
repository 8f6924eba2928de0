"""Credentials as docker keeps them: ``runcore login``/``logout``, ``config.json``, helpers."""

import base64
import json
import os
import stat

from pull_support import one_line_error, runcore
from support import registry as reg


def _tls_env(tmp_path, registry):
    hosts = reg.hosts_dir_for(
        tmp_path / "certs.d", registry.host, f"https://{registry.host}", ca=registry.ca.ca_crt
    )
    return {"RUNCORE_HOSTS_DIR": str(hosts)}


def _config(hermetic_config):
    path = hermetic_config / "docker-config" / "config.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_login_pull_logout_basic(containerd, namespace, tls_registry, tmp_path, hermetic_config):
    env = _tls_env(tmp_path, tls_registry)
    ref = f"{tls_registry.host}/test/single:v1"
    r = runcore(
        containerd,
        "login",
        "--username",
        reg.USER,
        "--password-stdin",
        tls_registry.host,
        env=env,
        input=reg.PASSWORD + "\n",
    )
    assert r.returncode == 0, r.stderr
    assert "Login Succeeded" in r.stdout
    entry = _config(hermetic_config)["auths"][tls_registry.host]
    assert base64.b64decode(entry["auth"]).decode() == f"{reg.USER}:{reg.PASSWORD}"
    mode = stat.S_IMODE(os.stat(hermetic_config / "docker-config" / "config.json").st_mode)
    assert mode == 0o600
    r = runcore(containerd, "pull", "-q", ref, namespace=namespace, env=env)
    assert r.returncode == 0, r.stderr
    r = runcore(containerd, "logout", tls_registry.host, env=env)
    assert r.returncode == 0 and "Removing login credentials" in r.stdout
    assert tls_registry.host not in _config(hermetic_config).get("auths", {})
    assert "no basic auth credentials" in one_line_error(
        runcore(containerd, "pull", ref, namespace=namespace, env=env)
    )


def test_login_wrong_password_writes_nothing(containerd, tls_registry, tmp_path, hermetic_config):
    env = _tls_env(tmp_path, tls_registry)
    r = runcore(
        containerd,
        "login",
        "-u",
        reg.USER,
        "--password-stdin",
        tls_registry.host,
        env=env,
        input="nope\n",
    )
    assert "unauthorized" in one_line_error(r)
    assert _config(hermetic_config) == {}


def test_login_token_registry(containerd, namespace, token_registry, hermetic_config):
    r = runcore(
        containerd,
        "login",
        "-u",
        reg.USER,
        "--password-stdin",
        token_registry.host,
        input=reg.PASSWORD,
    )
    assert r.returncode == 0, r.stderr
    r = runcore(
        containerd, "pull", "-q", f"{token_registry.host}/test/single:v1", namespace=namespace
    )
    assert r.returncode == 0, r.stderr


def test_credential_helper(containerd, namespace, tls_registry, tmp_path, hermetic_config):
    env = _tls_env(tmp_path, tls_registry)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "calls"
    helper = bindir / "docker-credential-rctest"
    helper.write_text(f"""#!/bin/sh
read -r server
echo "$1 $server" >> {calls}
if [ "$1" = get ] && [ "$server" = "{tls_registry.host}" ]; then
  printf '{{"ServerURL":"%s","Username":"{reg.USER}","Secret":"{reg.PASSWORD}"}}' "$server"
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
""")
    helper.chmod(0o755)
    (hermetic_config / "docker-config" / "config.json").write_text(
        json.dumps({"credHelpers": {tls_registry.host: "rctest"}, "credsStore": "nosuchhelper"})
    )
    env["PATH"] = f"{bindir}:{os.environ['PATH']}"
    r = runcore(
        containerd,
        "pull",
        "-q",
        f"{tls_registry.host}/test/single:v1",
        namespace=namespace,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert calls.read_text().splitlines() == [f"get {tls_registry.host}"]
