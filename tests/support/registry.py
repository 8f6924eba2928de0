"""Real registries for the pull tests: Debian's ``docker-registry`` on loopback.

Three set-ups (see ../shared/reference/pull-reference.md §6):

* ``plain``: HTTP, no auth;
* ``tls``: HTTPS with a CA made here by ``openssl``, plus htpasswd Basic auth (bcrypt hashes
  from ``htpasswd -nbB``, Debian's apache2-utils);
* ``token``: HTTP with token auth; :class:`TokenIssuer` (below) signs RS256 JWTs with a key
  whose self-signed certificate is the registry's ``rootcertbundle``, so the registry really
  verifies every token.

Test images go in with Debian's ``skopeo`` from OCI archives: the busybox archive of
:mod:`support.busybox_image`, a multi-platform index (:func:`build_multiplatform_archive`)
and a large image (:func:`build_big_archive`). Every process started here is stopped by
:meth:`Registry.stop` / :meth:`TokenIssuer.stop` (the fixtures call them).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .busybox_image import (
    MT_OCI_CONFIG,
    MT_OCI_INDEX,
    MT_OCI_LAYER_GZIP,
    MT_OCI_MANIFEST,
    _canonical_json,
    _gzip,
    _sha256,
    _tarinfo,
    build_layer,
)

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"
SKOPEO_BIN = shutil.which("skopeo") or "/usr/bin/skopeo"
HTPASSWD_BIN = shutil.which("htpasswd") or "/usr/bin/htpasswd"
OPENSSL_BIN = shutil.which("openssl") or "/usr/bin/openssl"

USER, PASSWORD = "alice", "s3cret"
SERVICE, ISSUER = "test-registry", "test-issuer"
ANN_REF_NAME = "org.opencontainers.image.ref.name"


def missing_tools() -> Optional[str]:
    """Why the registry tests cannot run here (None when they can)."""
    for path in (REGISTRY_BIN, SKOPEO_BIN, HTPASSWD_BIN, OPENSSL_BIN):
        if not os.access(path, os.X_OK):
            return f"{path} not found (scripts/bootstrap.sh installs it)"
    return None


# --------------------------------------------------------------------------- OCI archives


@dataclass
class Layout:
    """An OCI layout being assembled: blobs plus the top-level ``index.json`` entries."""

    blobs: Dict[str, bytes] = field(default_factory=dict)
    entries: List[dict] = field(default_factory=list)

    def add(self, data: bytes, media_type: str, **extra) -> dict:
        digest = _sha256(data)
        self.blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data), **extra}

    def add_json(self, obj: dict, media_type: str, **extra) -> dict:
        return self.add(_canonical_json(obj), media_type, **extra)

    def image(
        self,
        layers: List[bytes],
        arch: str = "amd64",
        *,
        compress: bool = True,
        layer_type: str = MT_OCI_LAYER_GZIP,
        config_extra: Optional[dict] = None,
    ) -> dict:
        """Add an image of uncompressed layer tars; returns its manifest descriptor."""
        descs, diff_ids = [], []
        for tar in layers:
            diff_ids.append(_sha256(tar))
            blob = _gzip_fast(tar) if compress else tar
            descs.append(
                self.add(blob, layer_type if compress else "application/vnd.oci.image.layer.v1.tar")
            )
        config = {
            "architecture": arch,
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/sh"],
            },
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            **(config_extra or {}),
        }
        cfg = self.add_json(config, MT_OCI_CONFIG)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": cfg,
            "layers": descs,
        }
        return self.add_json(manifest, MT_OCI_MANIFEST)

    def write(self, path: Path) -> Path:
        files = [
            ("oci-layout", _canonical_json({"imageLayoutVersion": "1.0.0"})),
            (
                "index.json",
                _canonical_json(
                    {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": self.entries}
                ),
            ),
        ]
        files += [(f"blobs/sha256/{d.split(':', 1)[1]}", b) for d, b in sorted(self.blobs.items())]
        tmp = Path(str(path) + ".tmp")
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            for d in ("blobs", "blobs/sha256"):
                tar.addfile(_tarinfo(d, type_=tarfile.DIRTYPE, mode=0o755))
            for name, data in files:
                tar.addfile(
                    _tarinfo(name, type_=tarfile.REGTYPE, mode=0o644, size=len(data)),
                    io.BytesIO(data),
                )
        os.replace(tmp, path)
        return path


def _gzip_fast(data: bytes) -> bytes:
    """gzip with a fixed header (mtime 0) at level 1: big layers stay cheap to build."""
    if len(data) < (8 << 20):
        return _gzip(data)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=1) as gz:
        gz.write(data)
    return buf.getvalue()


def file_layer(files: Dict[str, bytes]) -> bytes:
    """A layer tar holding ``files`` (path -> bytes), deterministic."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({os.path.dirname(p) for p in files if os.path.dirname(p)})
        for d in dirs:
            tar.addfile(_tarinfo(d, type_=tarfile.DIRTYPE, mode=0o755))
        for p in sorted(files):
            tar.addfile(
                _tarinfo(p, type_=tarfile.REGTYPE, mode=0o644, size=len(files[p])),
                io.BytesIO(files[p]),
            )
    return buf.getvalue()


def build_single_archive(path: Path, ref_name: str = "single") -> Tuple[Path, dict]:
    """The busybox image (one gzip layer) as an OCI archive; (path, manifest descriptor)."""
    layout = Layout()
    desc = layout.image([build_layer()])
    layout.entries.append({**desc, "annotations": {ANN_REF_NAME: ref_name}})
    return layout.write(path), desc


def build_multiplatform_archive(
    path: Path, ref_name: str = "multi", attestation: bool = True
) -> Tuple[Path, dict]:
    """An OCI index: linux/amd64 (busybox), linux/arm64 (a small file layer) and (with
    ``attestation``) an attestation manifest (``unknown/unknown``, in-toto layer);
    (path, index descriptor). skopeo's ``--format v2s2`` needs ``attestation=False``."""
    layout = Layout()
    amd = layout.image([build_layer(), file_layer({"etc/flavour": b"amd64 second layer\n"})])
    arm = layout.image(
        [file_layer({"etc/flavour": b"arm64\n"})], arch="arm64", config_extra={"variant": "v8"}
    )
    att_layer = layout.add(
        b'{"_type":"https://in-toto.io/Statement/v0.1"}', "application/vnd.in-toto+json"
    )
    att_cfg = layout.add_json(
        {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [att_layer["digest"]]},
        },
        MT_OCI_CONFIG,
    )
    att = layout.add_json(
        {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": att_cfg,
            "layers": [att_layer],
        },
        MT_OCI_MANIFEST,
    )
    index = {
        "schemaVersion": 2,
        "mediaType": MT_OCI_INDEX,
        "manifests": [
            {**amd, "platform": {"architecture": "amd64", "os": "linux"}},
            {**arm, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        ],
    }
    if attestation:
        index["manifests"].append(
            {
                **att,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    "vnd.docker.reference.digest": amd["digest"],
                    "vnd.docker.reference.type": "attestation-manifest",
                },
            }
        )
    else:
        for d in (att, att_cfg, att_layer):
            layout.blobs.pop(d["digest"], None)
    idx = layout.add_json(index, MT_OCI_INDEX)
    layout.entries.append({**idx, "annotations": {ANN_REF_NAME: ref_name}})
    return layout.write(path), idx


def build_big_archive(
    path: Path, total_mb: int = 210, layers: int = 6, ref_name: str = "big"
) -> Tuple[Path, dict]:
    """An image of ``total_mb`` MiB of incompressible data in ``layers`` gzip layers (plus
    busybox), cheap to make: random bytes from one seeded stream, gzip level 1."""
    import random

    rnd = random.Random(20240101)
    per = (total_mb << 20) // layers
    tars = [build_layer()]
    for i in range(layers):
        tars.append(file_layer({f"data/blob{i}.bin": rnd.randbytes(per)}))
    layout = Layout()
    desc = layout.image(tars)
    layout.entries.append({**desc, "annotations": {ANN_REF_NAME: ref_name}})
    return layout.write(path), desc


# --------------------------------------------------------------------------- TLS material


@dataclass
class CA:
    """A CA and a server certificate for 127.0.0.1/localhost, made with openssl."""

    dir: Path
    ca_crt: Path
    server_crt: Path
    server_key: Path


def _openssl(*args: str) -> None:
    subprocess.run([OPENSSL_BIN, *args], check=True, capture_output=True)


def _signed_cert(
    directory: Path, name: str, subject: str, extensions: str, crt_suffix: str = ".crt"
) -> Tuple[Path, Path]:
    """``NAME.crt`` (or ``crt_suffix``) and ``NAME.key``: ``subject`` with the X.509
    ``extensions``, signed by the CA in ``directory`` (``ca.crt``, ``ca.key``), two days."""
    key, csr, ext = directory / f"{name}.key", directory / f"{name}.csr", directory / f"{name}.ext"
    crt = directory / f"{name}{crt_suffix}"
    ext.write_text(extensions)
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        subject,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(directory / "ca.crt"),
        "-CAkey",
        str(directory / "ca.key"),
        "-CAcreateserial",
        "-out",
        str(crt),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return crt, key


def make_ca(directory: Path) -> CA:
    """A CA (``ca.crt``) and a server certificate for 127.0.0.1 and localhost."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_crt = directory / "ca.crt"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(directory / "ca.key"),
        "-out",
        str(ca_crt),
        "-days",
        "2",
        "-subj",
        "/CN=runcore test CA",
    )
    crt, key = _signed_cert(
        directory,
        "server",
        "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n",
    )
    return CA(directory, ca_crt, crt, key)


def make_client_cert(ca: CA) -> Tuple[Path, Path]:
    """A client certificate signed by ``ca`` (for registries with ``http.tls.clientcas``)."""
    return _signed_cert(
        ca.dir,
        "client",
        "/CN=runcore-client",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
        crt_suffix=".cert",
    )


# --------------------------------------------------------------------------- token issuer


def libtrust_key_id(public_der: bytes) -> str:
    """The key id docker-registry derives from a public key (reference §6.4)."""
    b32 = base64.b32encode(hashlib.sha256(public_der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, 48, 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class TokenIssuer:
    """A small token server: ``GET /token?service=&scope=`` (optional Basic auth) answers an
    RS256 JWT the registry verifies against :attr:`bundle`.

    ``users`` maps user -> password; anonymous callers get pull when ``anonymous`` is set.
    ``refuse`` makes every token request fail with 401 (the "token refused" case). Every
    request is recorded in :attr:`requests` as (method, path, authorization header).
    """

    def __init__(
        self, directory: Path, users: Optional[Dict[str, str]] = None, anonymous: bool = False
    ) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        import datetime

        directory.mkdir(parents=True, exist_ok=True)
        self.users = dict(users if users is not None else {USER: PASSWORD})
        self.anonymous = anonymous
        self.refuse = False
        self.requests: List[Tuple[str, str, str]] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pub_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = libtrust_key_id(pub_der)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "runcore token issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .sign(self._key, hashes.SHA256())
        )
        self.bundle = directory / "bundle.pem"
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # ctr's OAuth POST: 404 sends it back to GET
                issuer.requests.append(("POST", self.path, self.headers.get("Authorization", "")))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                issuer.requests.append(("GET", self.path, self.headers.get("Authorization", "")))
                status, body = issuer.answer(self.path, self.headers.get("Authorization", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, path: str, authorization: str) -> Tuple[int, dict]:
        url = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/token" or self.refuse:
            return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "token refused"}]}
        user = ""
        if authorization.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return 400, {"errors": [{"code": "UNAUTHORIZED", "message": "bad basic auth"}]}
            if self.users.get(user) != password:
                return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}
        elif not self.anonymous:
            return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "credentials required"}]}
        access = []
        for scope in query.get("scope", []):
            for item in scope.split(" "):
                parts = item.split(":")
                if len(parts) >= 3 and parts[0] == "repository":
                    name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
                    allowed = [a for a in actions if a == "pull" or (user and a in ("push", "*"))]
                    access.append({"type": "repository", "name": name, "actions": allowed})
        token = self.sign(user, access)
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return 200, {"token": token, "access_token": token, "expires_in": 300, "issued_at": issued}

    def sign(self, subject: str, access: List[dict], lifetime: int = 300) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + lifetime,
            "nbf": now - 10,
            "iat": now,
            "jti": os.urandom(8).hex(),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        sig = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(sig)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------------- the registry

_LISTENING = re.compile(r"listening on (?:\[[^\]]*\]|[0-9.]+):(\d+)")


class Registry:
    """One ``docker-registry serve`` process on 127.0.0.1 with a temporary config.

    ``mode`` is ``plain``, ``tls`` or ``token``. :attr:`host` is ``127.0.0.1:<port>``.
    """

    def __init__(
        self, mode: str = "plain", root: Optional[Path] = None, client_certs: bool = False
    ) -> None:
        if mode not in ("plain", "tls", "token"):
            raise ValueError(mode)
        self.mode = mode
        self.dir = Path(tempfile.mkdtemp(prefix=f"rcreg-{mode}-", dir=str(root) if root else None))
        self.storage = self.dir / "reg"
        self.ca: Optional[CA] = None
        self.issuer: Optional[TokenIssuer] = None
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.log = self.dir / "registry.log"
        cfg = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  accesslog:",
            "    disabled: false",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.storage}",
            "  delete:",
            "    enabled: true",
            "http:",
            "  addr: 127.0.0.1:0",
        ]
        if mode == "tls":
            self.ca = make_ca(self.dir / "tls")
            cfg += [
                "  tls:",
                f"    certificate: {self.ca.server_crt}",
                f"    key: {self.ca.server_key}",
            ]
            if client_certs:  # the registry demands a client certificate signed by the CA
                self.client_cert = make_client_cert(self.ca)
                cfg += ["    clientcas:", f"      - {self.ca.ca_crt}"]
            htpasswd = self.dir / "htpasswd"
            out = subprocess.run(
                [HTPASSWD_BIN, "-nbB", USER, PASSWORD], check=True, capture_output=True, text=True
            ).stdout.strip()
            htpasswd.write_text(out + "\n")
            cfg += ["auth:", "  htpasswd:", "    realm: test-realm", f"    path: {htpasswd}"]
        elif mode == "token":
            self.issuer = TokenIssuer(self.dir / "token")
            cfg += [
                "auth:",
                "  token:",
                f"    realm: {self.issuer.realm}",
                f"    service: {SERVICE}",
                f"    issuer: {ISSUER}",
                f"    rootcertbundle: {self.issuer.bundle}",
            ]
        self.config = self.dir / "config.yml"
        self.config.write_text("\n".join(cfg) + "\n")

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.mode == "tls" else "http"

    def start(self, timeout: float = 30.0) -> "Registry":
        logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [REGISTRY_BIN, "serve", str(self.config)],
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = _LISTENING.search(self.log.read_text(errors="replace"))
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"docker-registry did not start ({self.mode}):\n{tail}")

    def stop(self) -> None:
        """Stop the registry (and the token issuer); remove the directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if self.issuer is not None:
            self.issuer.stop()
            self.issuer = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def pause(self) -> None:
        """Stop serving (registry down) but keep the storage; :meth:`start` again to resume."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    # ----------------------------------------------------------------- content

    def push(
        self,
        archive: Path,
        ref_name: str,
        repo: str,
        *,
        all_images: bool = False,
        docker_format: bool = False,
    ) -> str:
        """``skopeo copy oci-archive:ARCHIVE:REF docker://HOST/REPO``; returns the reference."""
        dest = f"{self.host}/{repo}"
        argv = [SKOPEO_BIN, "copy", "-q", "--dest-tls-verify=false"]
        if self.mode == "tls":
            argv += ["--dest-creds", f"{USER}:{PASSWORD}"]
            if getattr(self, "client_cert", None):
                certs = self.dir / "skopeo-certs"
                certs.mkdir(exist_ok=True)
                shutil.copy(self.ca.ca_crt, certs / "ca.crt")
                shutil.copy(self.client_cert[0], certs / "client.cert")
                shutil.copy(self.client_cert[1], certs / "client.key")
                argv += ["--dest-cert-dir", str(certs)]
        elif self.mode == "token":
            argv += ["--dest-creds", f"{USER}:{PASSWORD}"]
        if all_images:
            argv += ["--all"]
        if docker_format:
            argv += ["--format", "v2s2"]
        argv += [f"oci-archive:{archive}:{ref_name}", f"docker://{dest}"]
        env = dict(os.environ, HOME=str(self.dir))  # no user policy/auth files involved
        policy = self.dir / "policy.json"
        policy.write_text('{"default":[{"type":"insecureAcceptAnything"}]}')
        argv[1:1] = ["--policy", str(policy)]
        subprocess.run(argv, check=True, capture_output=True, env=env, timeout=600)
        return dest

    def blob_path(self, digest: str) -> Path:
        hexd = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data"

    def access_log(self) -> List[str]:
        """Request lines ("METHOD path") the registry logged, in order."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            m = _ACCESS.search(line)
            if m:
                out.append(f"{m.group(1)} {m.group(2)}")
        return out


def hosts_dir_for(
    directory: Path,
    host: str,
    server: str,
    *,
    ca: Optional[Path] = None,
    skip_verify: Optional[bool] = None,
    extra: str = "",
) -> Path:
    """Write ``<directory>/<host dir>/hosts.toml`` with one ``[host]`` table for ``server``.

    ``host`` is the reference host (``docker.io``, ``127.0.0.1:5000``)."""
    name = host
    if ":" in host:
        h, _, p = host.rpartition(":")
        name = f"{h}_{p}_"
    d = directory / name
    d.mkdir(parents=True, exist_ok=True)
    lines = [f'[host."{server}"]', '  capabilities = ["pull", "resolve"]']
    if ca is not None:
        lines.append(f'  ca = "{ca}"')
    if skip_verify is not None:
        lines.append(f"  skip_verify = {'true' if skip_verify else 'false'}")
    (d / "hosts.toml").write_text("\n".join(lines) + "\n" + extra)
    return directory


def build_unique_archive(
    path: Path, ref_name: str = "unique", mib: int = 2, layers: int = 2
) -> Tuple[Path, dict]:
    """An image whose layers (``mib`` MiB of random bytes each) no other test has: its blobs
    are never already in a daemon's shared content store."""
    tars = [file_layer({f"data/{i}.bin": os.urandom(mib << 20)}) for i in range(layers)]
    layout = Layout()
    desc = layout.image(tars)
    layout.entries.append({**desc, "annotations": {ANN_REF_NAME: ref_name}})
    return layout.write(path), desc


def image_blobs(archive: Path) -> Dict[str, List[str]]:
    """``{"manifest": [d], "config": [d], "layers": [d, ...]}`` of a single-image OCI archive."""
    with tarfile.open(archive) as tar:

        def read(name: str) -> dict:
            f = tar.extractfile(name)
            assert f is not None
            return json.loads(f.read())

        index = read("index.json")
        mdesc = index["manifests"][0]
        manifest = read("blobs/sha256/" + mdesc["digest"].split(":", 1)[1])
    return {
        "manifest": [mdesc["digest"]],
        "config": [manifest["config"]["digest"]],
        "layers": [l["digest"] for l in manifest["layers"]],
    }


_ACCESS = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) ([^ ]+) HTTP/[0-9.]+" (\d{3}) (\d+|-)')


def served_bytes(registry: "Registry", since: int = 0) -> int:
    """Body bytes the registry sent for blob GETs (access log), from log line ``since`` on."""
    total = 0
    lines = [l for l in registry.log.read_text(errors="replace").splitlines() if _ACCESS.search(l)]
    for line in lines[since:]:
        m = _ACCESS.search(line)
        if m and m.group(1) == "GET" and "/blobs/" in m.group(2):
            total += int(m.group(4)) if m.group(4).isdigit() else 0
    return total
