"""Credentials as docker keeps them: ``config.json`` and ``docker-credential-*`` helpers.

Read: ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json`` (a missing file is no
error). ``credHelpers[<key>]`` wins over ``credsStore``; both run
``docker-credential-<name> get`` with the server key on stdin. Otherwise ``auths[<key>]``
(``auth`` = base64 ``user:password``; ``identitytoken`` = a refresh token, sent with an
empty user name). Docker Hub's key is ``https://index.docker.io/v1/``. When no key
matches exactly, keys are compared by host name (scheme and path dropped).

Write (``runcore login``/``logout``): the helper's ``store``/``erase`` when one is
configured for the host, else the ``auths`` entry (file written atomically, mode 0600).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from runcore.api import UsageError

HUB_KEY = "https://index.docker.io/v1/"
NOT_FOUND_TEXT = "credentials not found in native keychain"


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str  # password, or a refresh token when username == ""


def config_path() -> str:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def server_key(host: str) -> str:
    """The config key for a registry host (Docker Hub's is its v1 URL)."""
    return HUB_KEY if host in ("docker.io", "index.docker.io", "registry-1.docker.io") else host


def _hostname(key: str) -> str:
    k = key
    if "://" in k:
        k = k.split("://", 1)[1]
    return k.split("/", 1)[0]


def load_config(path: Optional[str] = None) -> Dict[str, Any]:
    path = path or config_path()
    try:
        with open(path, "rb") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: not a JSON object")
    return data


def _helper(name: str, action: str, stdin: str) -> Tuple[int, str]:
    program = f"docker-credential-{name}"
    try:
        r = subprocess.run(
            [program, action], input=stdin, capture_output=True, text=True, timeout=60
        )
    except FileNotFoundError:
        raise UsageError(f"credential helper {program} not found in PATH") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"credential helper {program} {action}: no answer within 60s") from None
    return r.returncode, (r.stdout or r.stderr).strip()


def _from_helper(name: str, key: str) -> Optional[Credentials]:
    rc, out = _helper(name, "get", key)
    if rc != 0:
        if out == NOT_FOUND_TEXT:
            return None
        raise UsageError(f"error getting credentials - err: exit status {rc}, out: `{out}`")
    try:
        doc = json.loads(out)
        user, secret = str(doc.get("Username") or ""), str(doc.get("Secret") or "")
    except (ValueError, AttributeError):
        raise UsageError(f"credential helper docker-credential-{name}: invalid answer") from None
    if not secret:
        return None
    return Credentials("" if user == "<token>" else user, secret)


def _from_entry(entry: Any, path: str) -> Optional[Credentials]:
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credentials("", token)
    user, password = entry.get("username") or "", entry.get("password") or ""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth).decode()
        except (ValueError, UnicodeDecodeError):
            raise UsageError(f"{path}: invalid auth configuration file") from None
        user, sep, password = decoded.partition(":")
        if not sep or not user:
            raise UsageError(f"{path}: invalid auth configuration file")
        password = password.rstrip("\x00")
    if user and password:
        return Credentials(str(user), str(password))
    return None


def lookup(host: str, path: Optional[str] = None) -> Optional[Credentials]:
    """Credentials for ``host`` from the docker config (None when there are none)."""
    path = path or config_path()
    cfg = load_config(path)
    key = server_key(host)
    helpers = cfg.get("credHelpers") or {}
    helper = None
    if isinstance(helpers, dict):
        helper = helpers.get(key) or helpers.get(host)
    helper = helper or cfg.get("credsStore")
    if isinstance(helper, str) and helper:
        found = _from_helper(helper, key)
        if found is not None:
            return found
    auths = cfg.get("auths") or {}
    if not isinstance(auths, dict):
        return None
    candidates = [key, host] + ([] if key != HUB_KEY else ["docker.io", "index.docker.io"])
    for k in candidates:
        if k in auths:
            return _from_entry(auths[k], path)
    want = _hostname(key)
    for k, entry in auths.items():
        if _hostname(k) == want:
            return _from_entry(entry, path)
    return None


def _write(cfg: Dict[str, Any], path: str) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(cfg, fh, indent="\t")
        fh.write("\n")
    os.replace(tmp, path)


def store(host: str, creds: Credentials, path: Optional[str] = None) -> str:
    """Save ``creds`` for ``host``; returns where (the file or the helper's name)."""
    path = path or config_path()
    cfg = load_config(path)
    key = server_key(host)
    helper = (cfg.get("credHelpers") or {}).get(key) or cfg.get("credsStore")
    if isinstance(helper, str) and helper:
        doc = json.dumps({"ServerURL": key, "Username": creds.username, "Secret": creds.secret})
        rc, out = _helper(helper, "store", doc)
        if rc != 0:
            raise UsageError(f"credential helper docker-credential-{helper} store: {out}")
        auths = cfg.setdefault("auths", {})
        auths[key] = {}
        _write(cfg, path)
        return f"docker-credential-{helper}"
    auths = cfg.setdefault("auths", {})
    auth = base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode()
    auths[key] = {"auth": auth}
    _write(cfg, path)
    return path


def erase(host: str, path: Optional[str] = None) -> bool:
    """Remove the credentials for ``host``; False when there were none."""
    path = path or config_path()
    cfg = load_config(path)
    key = server_key(host)
    found = False
    helper = (cfg.get("credHelpers") or {}).get(key) or cfg.get("credsStore")
    if isinstance(helper, str) and helper:
        rc, out = _helper(helper, "erase", key)
        found = rc == 0
    auths = cfg.get("auths") or {}
    for k in list(auths):
        if k == key or _hostname(k) == _hostname(key):
            del auths[k]
            found = True
    if found:
        _write(cfg, path)
    return found
