"""Registry hosts as containerd configures them: ``hosts.toml`` and the default endpoint.

Lookup (containerd's ``config.ConfigureHosts`` with nerdctl's defaults): for reference host
``h:p`` the first existing of ``<root>/h_p_``, ``<root>/h:p``, ``<root>/_default`` is used,
for each root in turn (``--hosts-dir`` given: only those; otherwise
``$RUNCORE_HOSTS_DIR`` (colon-separated), else ``/etc/containerd/certs.d`` then
``/etc/docker/certs.d``; the first root with a match wins). Inside it ``hosts.toml`` lists mirrors (``[host."<url>"]``, in file order) and the
top-level ``server``; without ``hosts.toml`` the Docker cert-directory layout is read
(``*.crt`` CAs, ``*.cert`` + ``*.key`` client pairs).

Scheme of the default entry: ``https``, or ``http`` with ``--plain-http`` or when the
host is loopback (``localhost``, ``127.0.0.0/8``, ``::1``), as nerdctl does.
``docker.io`` is served by ``registry-1.docker.io``.
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

from runcore.api import UsageError

DEFAULT_HOSTS_DIRS = ("/etc/containerd/certs.d", "/etc/docker/certs.d")
#: Environment variable naming the hosts directories when --hosts-dir is not given.
HOSTS_DIR_ENV = "RUNCORE_HOSTS_DIR"
CAPABILITIES = ("pull", "resolve", "push")

ClientCert = Tuple[str, str]  # (certificate file, key file; "" = same file)


@dataclass
class Endpoint:
    """One host to try: scheme, host[:port], API root path, and its TLS settings."""

    scheme: str
    host: str
    path: str = "/v2"
    capabilities: Tuple[str, ...] = CAPABILITIES
    ca: List[str] = field(default_factory=list)
    client: List[ClientCert] = field(default_factory=list)
    skip_verify: Optional[bool] = None
    headers: Dict[str, List[str]] = field(default_factory=dict)
    mirror: bool = False  # serves another host's names: requests carry ?ns=<ref host>

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}"

    def can(self, *caps: str) -> bool:
        return all(c in self.capabilities for c in caps)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP, with or without a port."""
    name = host
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_dir_names(host: str) -> List[str]:
    names = []
    if ":" in host and not host.endswith("]"):
        h, _, port = host.rpartition(":")
        names.append(f"{h}_{port}_")
    names.append(host)
    return names


def default_roots() -> List[str]:
    """``$RUNCORE_HOSTS_DIR`` (colon-separated) if set, else containerd's then docker's."""
    env = os.environ.get(HOSTS_DIR_ENV, "")
    if env:
        return [d for d in env.split(":") if d]
    return list(DEFAULT_HOSTS_DIRS)


def find_host_dir(host: str, roots: Sequence[str]) -> Optional[str]:
    """The configuration directory for ``host`` (None when there is none)."""
    lookup = "docker.io" if host == "index.docker.io" else host
    for root in roots:
        for name in _host_dir_names(lookup) + ["_default"]:
            d = os.path.join(root, name)
            if os.path.isdir(d):
                return d
    return None


def _load_toml(path: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from None


def _strings(value: object, key: str, path: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UsageError(f"{path}: {key} must be a string or a list of strings")


def _clients(value: object, path: str) -> List[ClientCert]:
    if value is None:
        return []
    if isinstance(value, str):
        return [(value, "")]
    out: List[ClientCert] = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                out.append((item, ""))
            elif (
                isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
            ):
                out.append((item[0], item[1]))
            else:
                raise UsageError(
                    f"{path}: client must be a path, a list of paths or [cert, key] pairs"
                )
        return out
    raise UsageError(f"{path}: client must be a path, a list of paths or [cert, key] pairs")


def _endpoint_url(url: str, override_path: bool, path: str) -> Tuple[str, str, str]:
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{path}: invalid host URL {url!r}")
    api = parts.path
    if api:
        api = posixpath.normpath(api)
        if api == "/":
            api = ""
        if not override_path and not api.endswith("/v2"):
            api = api.rstrip("/") + "/v2"
    elif not override_path:
        api = "/v2"
    return parts.scheme, parts.netloc, api


def _settings(table: dict, base_dir: str, path: str) -> dict:
    caps = table.get("capabilities")
    out: dict = {}
    if caps is not None:
        if not isinstance(caps, list) or any(c not in CAPABILITIES for c in caps):
            raise UsageError(f"{path}: capabilities must be a list of {', '.join(CAPABILITIES)}")
        out["capabilities"] = tuple(caps)

    def rel(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(base_dir, p)

    out["ca"] = [rel(p) for p in _strings(table.get("ca"), "ca", path)]
    out["client"] = [(rel(c), rel(k) if k else "") for c, k in _clients(table.get("client"), path)]
    sv = table.get("skip_verify")
    if sv is not None and not isinstance(sv, bool):
        raise UsageError(f"{path}: skip_verify must be true or false")
    out["skip_verify"] = sv
    headers = table.get("header") or {}
    if not isinstance(headers, dict):
        raise UsageError(f"{path}: header must be a table")
    out["headers"] = {k: _strings(v, f"header.{k}", path) for k, v in headers.items()}
    op = table.get("override_path", False)
    if not isinstance(op, bool):
        raise UsageError(f"{path}: override_path must be true or false")
    out["override_path"] = op
    return out


def _cert_dir(d: str) -> dict:
    """The Docker cert-directory layout: ``*.crt`` CAs, ``*.cert``/``*.key`` client pairs."""
    ca, client = [], []
    try:
        names = sorted(os.listdir(d))
    except OSError:
        names = []
    for n in names:
        p = os.path.join(d, n)
        if n.endswith(".crt"):
            ca.append(p)
        elif n.endswith(".cert"):
            key = p[:-5] + ".key"
            client.append((p, key if os.path.exists(key) else ""))
    return {"ca": ca, "client": client}


def endpoints(
    host: str,
    *,
    hosts_dirs: Optional[Sequence[str]] = None,
    plain_http: bool = False,
    skip_verify: bool = False,
) -> List[Endpoint]:
    """The hosts to try for reference host ``host``: mirrors first, the server last."""
    roots = list(hosts_dirs) if hosts_dirs else default_roots()
    d = find_host_dir(host, roots)
    default_scheme = "http" if plain_http or is_loopback(host) else "https"
    server_host = "registry-1.docker.io" if host in ("docker.io", "index.docker.io") else host
    default = Endpoint(scheme=default_scheme, host=server_host)
    result = _configured(host, d, default, server_host)
    if skip_verify:  # ctr's --skip-verify: for every entry without TLS settings of its own
        for ep in result:
            if not ep.ca and not ep.client and ep.skip_verify is None:
                ep.skip_verify = True
    return result


def _configured(host: str, d: Optional[str], default: Endpoint, server_host: str) -> List[Endpoint]:
    result: List[Endpoint] = []
    if d is None:
        return [default]
    toml_path = os.path.join(d, "hosts.toml")
    doc = _load_toml(toml_path) if os.path.isfile(toml_path) else {}
    if not doc:
        cd = _cert_dir(d)
        default.ca, default.client = cd["ca"], cd["client"]
        return [default]
    tables = doc.get("host") or {}
    if not isinstance(tables, dict):
        raise UsageError(f'{toml_path}: host must be a table of [host."<url>"] tables')
    for url, table in tables.items():
        if not isinstance(table, dict):
            raise UsageError(f"{toml_path}: host.{url} must be a table")
        s = _settings(table, d, toml_path)
        scheme, netloc, api = _endpoint_url(url, s["override_path"], toml_path)
        ep = Endpoint(
            scheme=scheme,
            host=netloc,
            path=api,
            ca=s["ca"],
            client=s["client"],
            skip_verify=s["skip_verify"],
            headers=s["headers"],
            mirror=netloc != server_host,
        )
        if "capabilities" in s:
            ep.capabilities = s["capabilities"]
        result.append(ep)
    top = _settings(doc, d, toml_path)
    server = doc.get("server")
    if server is not None:
        if not isinstance(server, str):
            raise UsageError(f"{toml_path}: server must be a string")
        scheme, netloc, api = _endpoint_url(server, top["override_path"], toml_path)
        default = Endpoint(scheme=scheme, host=netloc, path=api, mirror=netloc != server_host)
    default.ca, default.client, default.headers = top["ca"], top["client"], top["headers"]
    if top["skip_verify"] is not None:
        default.skip_verify = top["skip_verify"]
    if "capabilities" in top:
        default.capabilities = top["capabilities"]
    result.append(default)
    return result


def tls_material(ep: Endpoint) -> Tuple[Union[bool, List[str]], List[ClientCert]]:
    """(verify: False | list of extra CA files, client certificates) for ``ep``."""
    if ep.skip_verify:
        return False, ep.client
    return list(ep.ca), ep.client
