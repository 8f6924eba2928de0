"""Protocol details the Debian registry never shows: blob redirects to another host, 403,
429 with Retry-After, schema 1 (a small purpose-built server; the pull itself is real)."""

import base64
import http.server
import tarfile
import threading

import pytest

from pull_support import active_ingests, one_line_error, runcore
from support import registry as reg


class _Server:
    def __init__(self, handler_cls, **attrs):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.daemon_threads = True
        for k, v in attrs.items():
            setattr(self.httpd, k, v)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers=None, body=b"", head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _CDN(_Base):
    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        digest = self.path.rsplit("/", 1)[-1]
        self.reply(200, {"Content-Type": "application/octet-stream"}, self.server.blobs[digest])


class _Registry(_Base):
    """Serves one image (``/v2/img/...``) with Basic auth; blobs redirect to the CDN."""

    def _serve(self, head):
        s = self.server
        s.seen.append((self.command, self.path, self.headers.get("Authorization")))
        if s.force:
            status, headers = s.force
            return self.reply(
                status,
                headers,
                b'{"errors":[{"code":"DENIED","message":"go away"}]}' if status == 403 else b"",
                head,
            )
        if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"u:p").decode():
            return self.reply(401, {"WWW-Authenticate": 'Basic realm="r"'}, b"", head)
        path = self.path.split("?", 1)[0]
        if path.startswith("/v2/img/manifests/"):
            ref = path.rsplit("/", 1)[-1]
            digest = s.manifest if ref == "v1" else ref
            if digest not in s.blobs:
                return self.reply(404, {}, b"", head)
            media = (
                s.media if digest == s.manifest else "application/vnd.oci.image.manifest.v1+json"
            )
            return self.reply(
                200, {"Content-Type": media, "Docker-Content-Digest": digest}, s.blobs[digest], head
            )
        if path.startswith("/v2/img/blobs/"):
            digest = path.rsplit("/", 1)[-1]
            return self.reply(307, {"Location": f"http://{s.cdn}/data/{digest}"}, b"", head)
        self.reply(404, {}, b"", head)

    def do_HEAD(self):
        self._serve(True)

    def do_GET(self):
        self._serve(False)


@pytest.fixture
def redirecting(archives, tmp_path):
    blobs = {}
    with tarfile.open(archives["single"]) as tar:
        for m in tar.getmembers():
            if m.name.startswith("blobs/sha256/") and m.isfile():
                blobs["sha256:" + m.name.rsplit("/", 1)[-1]] = tar.extractfile(m).read()
    manifest = reg.image_blobs(archives["single"])["manifest"][0]
    cdn = _Server(_CDN, blobs=blobs, seen=[])
    server = _Server(
        _Registry,
        blobs=blobs,
        manifest=manifest,
        seen=[],
        cdn=cdn.host,
        force=None,
        media="application/vnd.oci.image.manifest.v1+json",
    )
    yield server, cdn
    server.stop()
    cdn.stop()


def test_blob_redirect_to_another_host_drops_authorization(containerd, namespace, redirecting):
    server, cdn = redirecting
    r = runcore(
        containerd, "pull", "-q", "--user", "u:p", f"{server.host}/img:v1", namespace=namespace
    )
    assert r.returncode == 0, r.stderr
    assert len(cdn.httpd.seen) == 2  # config and layer came from the CDN...
    assert all(auth is None for _, auth in cdn.httpd.seen)  # ...without the registry's credentials
    methods = [(m, p.split("/")[3]) for m, p, _ in server.httpd.seen]
    assert methods[:2] == [("HEAD", "manifests"), ("HEAD", "manifests")]  # 401, then with Basic
    assert "GET /v2/" not in [f"{m} {p}" for m, p, _ in server.httpd.seen]


@pytest.mark.parametrize(
    "status,headers,expect",
    [
        (403, {}, "denied: go away"),
        (429, {"Retry-After": "7"}, "toomanyrequests: 429 Too Many Requests (retry after 7s)"),
    ],
)
def test_http_errors_are_one_line(containerd, namespace, redirecting, status, headers, expect):
    server, _ = redirecting
    server.httpd.force = (status, headers)
    line = one_line_error(
        runcore(containerd, "pull", "--user", "u:p", f"{server.host}/img:v1", namespace=namespace)
    )
    assert expect in line
    assert active_ingests(containerd, namespace) == []


def test_schema1_is_refused_clearly(containerd, namespace, redirecting):
    server, _ = redirecting
    server.httpd.media = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    line = one_line_error(
        runcore(containerd, "pull", "--user", "u:p", f"{server.host}/img:v1", namespace=namespace)
    )
    assert "schema 1" in line and "not supported" in line
