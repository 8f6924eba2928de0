"""Untrusted input never gives a traceback: registry documents, challenges, token answers,
references, hosts.toml and docker config files (Hypothesis, fixed budgets)."""

import hashlib
import http.server
import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runcore.api import RuncoreError

from pull_support import active_ingests, runcore

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4)
    ),
    max_leaves=20,
)
DIGESTS = st.one_of(
    st.just("sha256:" + "a" * 64),
    st.text(max_size=80),
    st.builds(lambda b: "sha256:" + hashlib.sha256(b).hexdigest(), st.binary(max_size=8)),
)
MEDIA = st.sampled_from(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "text/plain",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.config.v1+json",
        "",
        "application/json",
    ]
)
DESCRIPTOR = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": MEDIA | st.integers(),
        "digest": DIGESTS | st.integers(),
        "size": st.integers(-5, 1 << 60) | st.text(max_size=3) | st.booleans(),
        "annotations": st.dictionaries(
            st.text(max_size=5), st.text(max_size=5) | st.integers(), max_size=2
        )
        | JSON,
        "platform": st.fixed_dictionaries(
            {},
            optional={
                "os": st.sampled_from(["linux", "windows", ""]) | st.integers(),
                "architecture": st.sampled_from(["amd64", "arm64"]) | JSON,
                "variant": st.text(max_size=3),
                "os.features": JSON,
            },
        )
        | JSON,
    },
)
DOCUMENT = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"schemaVersion": st.sampled_from([1, 2, "2"])},
        optional={
            "mediaType": MEDIA,
            "config": DESCRIPTOR | JSON,
            "layers": st.lists(DESCRIPTOR, max_size=3) | JSON,
            "manifests": st.lists(DESCRIPTOR, max_size=3) | JSON,
            "fsLayers": JSON,
        },
    ),
)

PROPS = settings(max_examples=150, derandomize=True, deadline=None)


@PROPS
@given(doc=DOCUMENT, media=MEDIA)
def test_documents_give_children_or_one_error(doc, media):
    from runcore_pull.pull import children_of

    data = json.dumps(doc).encode()
    desc = {
        "mediaType": media,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    try:
        kids = children_of(data, desc)
    except RuncoreError as exc:
        assert "\n" not in str(exc)
        return
    for kid in kids:
        assert kid["digest"].startswith("sha256:") and isinstance(kid["size"], int)


@PROPS
@given(raw=st.binary(max_size=200))
def test_garbage_documents(raw):
    from runcore_pull.pull import children_of

    try:
        children_of(
            raw,
            {
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": "sha256:" + "0" * 64,
                "size": len(raw),
            },
        )
    except RuncoreError:
        pass


@PROPS
@given(
    header=st.text(max_size=120)
    | st.builds(
        lambda s, kv: f"{s} " + ",".join(f'{k}="{v}"' for k, v in kv),
        st.sampled_from(["Bearer", "Basic", "bearer", "Digest", "X"]),
        st.lists(
            st.tuples(
                st.sampled_from(["realm", "service", "scope", "error", "x"]), st.text(max_size=20)
            ),
            max_size=4,
        ),
    )
)
def test_challenges_parse(header):
    from runcore_pull.auth import parse_challenges

    for ch in parse_challenges(header):
        assert ch.scheme in ("bearer", "basic")


@PROPS
@given(text=st.text(max_size=80) | st.from_regex(r"[a-zA-Z0-9.:/@_-]{1,60}", fullmatch=True))
def test_references_parse_or_one_error(text):
    from runcore_pull import names

    try:
        ref = names.parse(text)
    except RuncoreError as exc:
        assert "\n" not in str(exc)
        return
    assert ref.host and ref.repository and ref.object


@PROPS
@given(
    text=st.text(max_size=200)
    | st.builds(
        lambda d: "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items()),
        st.dictionaries(
            st.sampled_from(
                ["server", "ca", "skip_verify", "capabilities", "client", "override_path", "header"]
            ),
            JSON,
            max_size=4,
        ),
    )
)
def test_hosts_toml_or_one_error(text, tmp_path_factory):
    from runcore_pull import hosts

    root = tmp_path_factory.mktemp("h")
    (root / "example.com").mkdir()
    (root / "example.com" / "hosts.toml").write_text(text + '\n[host."https://mirror.example"]\n')
    try:
        eps = hosts.endpoints("example.com", hosts_dirs=[str(root)])
    except RuncoreError as exc:
        assert "\n" not in str(exc)
        return
    assert eps and all(e.scheme in ("http", "https") for e in eps)


@PROPS
@given(
    cfg=JSON
    | st.fixed_dictionaries(
        {},
        optional={
            "auths": st.dictionaries(
                st.sampled_from(["example.com", "https://example.com/v1/", "other"]),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "auth": st.text(max_size=20) | st.integers(),
                        "identitytoken": JSON,
                        "username": JSON,
                        "password": JSON,
                    },
                )
                | JSON,
                max_size=3,
            )
        },
    )
)
def test_docker_config_or_one_error(cfg, tmp_path_factory):
    from runcore_pull import credentials

    path = tmp_path_factory.mktemp("d") / "config.json"
    path.write_text(json.dumps(cfg))
    try:
        credentials.lookup("example.com", str(path))
    except RuncoreError as exc:
        assert "\n" not in str(exc)


# --------------------------------------------------------------------------- over HTTP


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers what the current example drew (``server.script``)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, body_allowed: bool) -> None:
        script = self.server.script
        path = self.path.split("?", 1)[0]
        if path.startswith("/token"):
            status, headers, body = script["token"]
        elif "/manifests/" in path and not path.split("/manifests/", 1)[1].startswith("sha256:"):
            status, headers, body = script["resolve"]
        elif "/manifests/" in path:
            status, headers, body = script.get("manifest", script["resolve"])
        else:
            status, headers, body = script["blob"]
        if (
            self.headers.get("Authorization") is None
            and script.get("challenge")
            and not path.startswith("/token")
        ):
            status, headers, body = 401, {"WWW-Authenticate": script["challenge"]}, b""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body_allowed:
            self.wfile.write(body)

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)

    def do_POST(self):
        self._answer(True)


@pytest.fixture(scope="module")
def scripted_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.daemon_threads = True
    server.script = {}
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def _response(body_strategy):
    return st.tuples(
        st.sampled_from([200, 200, 200, 206, 301, 400, 401, 403, 404, 429, 500]),
        st.fixed_dictionaries(
            {},
            optional={
                "Content-Type": MEDIA,
                "Docker-Content-Digest": DIGESTS,
                "Retry-After": st.sampled_from(["5", "soon"]),
                "Location": st.sampled_from(
                    ["/v2/x/blobs/sha256:" + "b" * 64, "http://127.0.0.1:1/x"]
                ),
                "Content-Range": st.sampled_from(["bytes 0-1/2", "junk"]),
            },
        ),
        body_strategy,
    )


ANSWERS = st.fixed_dictionaries(
    {
        "resolve": _response(st.builds(lambda d: json.dumps(d).encode(), DOCUMENT)),
        "blob": _response(
            st.binary(max_size=64) | st.builds(lambda d: json.dumps(d).encode(), DOCUMENT)
        ),
        "token": _response(
            st.builds(
                lambda d: json.dumps(d).encode(),
                JSON
                | st.fixed_dictionaries(
                    {},
                    optional={
                        "token": st.text(max_size=10) | st.integers(),
                        "access_token": JSON,
                        "expires_in": JSON,
                        "issued_at": st.text(max_size=10),
                    },
                ),
            )
            | st.binary(max_size=20)
        ),
    },
    optional={
        "manifest": _response(st.builds(lambda d: json.dumps(d).encode(), DOCUMENT)),
        "challenge": st.sampled_from(
            [
                'Bearer realm="http://{host}/token",service="s",scope="repository:x:pull"',
                'Basic realm="r"',
                'Bearer service="s"',
                'Bearer realm="::bad"',
                "Negotiate",
                'Bearer realm="http://{host}/token",error="invalid_token"',
            ]
        ),
    },
)


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answers=ANSWERS)
def test_registry_answers_never_trace(containerd, namespace, scripted_server, answers):
    host = f"127.0.0.1:{scripted_server.server_address[1]}"
    script = dict(answers)
    if "challenge" in script:
        script["challenge"] = script["challenge"].replace("{host}", host)
    # a correct digest header half of the time, so the walk goes past the resolve
    status, headers, body = script["resolve"]
    if headers.get("Docker-Content-Digest") == "sha256:" + "a" * 64:
        headers = dict(
            headers, **{"Docker-Content-Digest": "sha256:" + hashlib.sha256(body).hexdigest()}
        )
        script["resolve"] = (status, headers, body)
    scripted_server.script = script
    r = runcore(
        containerd, "pull", "-q", "--user", "u:p", f"{host}/x:t", namespace=namespace, timeout=120
    )
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    if r.returncode:
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and lines[0].startswith("runcore: "), r.stderr
    assert containerd.lines("leases", "ls", "-q", namespace=namespace) == []
    assert active_ingests(containerd, namespace) == []
    for image in containerd.lines("images", "ls", "-q", namespace=namespace):
        containerd.ctr("images", "rm", image, namespace=namespace)
