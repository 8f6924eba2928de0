"""hosts.toml lookup, docker config credentials and reference names (no daemon needed)."""

import base64
import json

import pytest

from runcore.api import RuncoreError
from runcore_pull import credentials, hosts, names


@pytest.mark.parametrize(
    "text,name,host,repo,obj",
    [
        ("busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest"),
        ("user/app:1", "docker.io/user/app:1", "docker.io", "user/app", "1"),
        (
            "index.docker.io/library/alpine:3",
            "index.docker.io/library/alpine:3",
            "docker.io",
            "library/alpine",
            "3",
        ),
        ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000", "a/b", "t"),
        ("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest", "127.0.0.1:5000", "a/b", "latest"),
        ("localhost/x:y", "localhost/x:y", "localhost", "x", "y"),
        (
            "h.example/r:t@sha256:" + "a" * 64,
            "h.example/r:t@sha256:" + "a" * 64,
            "h.example",
            "r",
            "sha256:" + "a" * 64,
        ),
    ],
)
def test_names(text, name, host, repo, obj):
    ref = names.parse(text)
    assert (ref.name, ref.host, ref.repository, ref.object) == (name, host, repo, obj)


def test_source_label_drops_the_port():
    assert (
        names.parse("127.0.0.1:5000/a:b").source_label
        == "containerd.io/distribution.source.127.0.0.1"
    )
    assert names.parse("busybox").source_label == "containerd.io/distribution.source.docker.io"


@pytest.mark.parametrize("text", ["", "http://h/x:1", "library/UPPER", "h/a@sha256:abc", "a" * 64])
def test_bad_names(text):
    with pytest.raises(RuncoreError):
        names.parse(text)


def test_default_endpoints():
    assert [e.base for e in hosts.endpoints("docker.io", hosts_dirs=["/nonexistent"])] == [
        "https://registry-1.docker.io/v2"
    ]
    assert [e.base for e in hosts.endpoints("127.0.0.1:5000", hosts_dirs=["/nonexistent"])] == [
        "http://127.0.0.1:5000/v2"
    ]
    assert [e.base for e in hosts.endpoints("localhost", hosts_dirs=["/nonexistent"])] == [
        "http://localhost/v2"
    ]
    assert [
        e.base for e in hosts.endpoints("r.example", hosts_dirs=["/nonexistent"], plain_http=True)
    ] == ["http://r.example/v2"]
    assert [e.base for e in hosts.endpoints("r.example", hosts_dirs=["/nonexistent"])] == [
        "https://r.example/v2"
    ]


def test_hosts_toml(tmp_path):
    d = tmp_path / "r.example_5000_"
    d.mkdir()
    (d / "hosts.toml").write_text("""
server = "https://r.example:5000"
ca = "top.crt"
[host."http://mirror.local:81/prefix"]
  capabilities = ["pull"]
  skip_verify = true
  [host."http://mirror.local:81/prefix".header]
    x-a = "1"
[host."https://m2.local"]
  capabilities = ["pull", "resolve"]
  ca = ["/abs/ca.pem"]
  client = [["c.pem", "k.pem"]]
""")
    eps = hosts.endpoints("r.example:5000", hosts_dirs=[str(tmp_path)], skip_verify=True)
    assert [e.base for e in eps] == [
        "http://mirror.local:81/prefix/v2",
        "https://m2.local/v2",
        "https://r.example:5000/v2",
    ]
    assert [e.mirror for e in eps] == [True, True, False]
    assert eps[0].capabilities == ("pull",) and eps[0].headers == {"x-a": ["1"]}
    assert eps[1].ca == ["/abs/ca.pem"] and eps[1].client == [(str(d / "c.pem"), str(d / "k.pem"))]
    assert eps[2].ca == [str(d / "top.crt")]
    # --skip-verify reaches only entries without TLS settings of their own
    assert [e.skip_verify for e in eps] == [True, None, None]


def test_hosts_lookup_order_and_default(tmp_path):
    (tmp_path / "a" / "_default").mkdir(parents=True)
    (tmp_path / "a" / "_default" / "hosts.toml").write_text('[host."http://any.local"]\n')
    (tmp_path / "b" / "x.example").mkdir(parents=True)
    (tmp_path / "b" / "x.example" / "hosts.toml").write_text('[host."http://b.local"]\n')
    roots = [str(tmp_path / "b"), str(tmp_path / "a")]
    assert hosts.endpoints("x.example", hosts_dirs=roots)[0].host == "b.local"
    assert hosts.endpoints("y.example", hosts_dirs=roots)[0].host == "any.local"


def test_cert_dir_layout(tmp_path):
    d = tmp_path / "r.example"
    d.mkdir()
    for n in ("ca.crt", "client.cert", "client.key"):
        (d / n).write_text("x")
    [ep] = hosts.endpoints("r.example", hosts_dirs=[str(tmp_path)])
    assert ep.ca == [str(d / "ca.crt")] and ep.client == [
        (str(d / "client.cert"), str(d / "client.key"))
    ]


def test_bad_hosts_toml_is_one_error(tmp_path):
    d = tmp_path / "r.example"
    d.mkdir()
    (d / "hosts.toml").write_text('[host."https://m"]\ncapabilities = ["fly"]\n')
    with pytest.raises(RuncoreError, match="capabilities"):
        hosts.endpoints("r.example", hosts_dirs=[str(tmp_path)])


def _write(tmp_path, cfg):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    return str(p)


def test_auths(tmp_path):
    auth = base64.b64encode(b"u:p:with:colons\0").decode()
    path = _write(
        tmp_path,
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": auth},
                "https://r.example:5000/v1/": {"auth": base64.b64encode(b"a:b").decode()},
                "t.example": {"identitytoken": "refresh"},
            }
        },
    )
    assert credentials.lookup("docker.io", path) == credentials.Credentials("u", "p:with:colons")
    assert credentials.lookup("r.example:5000", path) == credentials.Credentials("a", "b")
    assert credentials.lookup("t.example", path) == credentials.Credentials("", "refresh")
    assert credentials.lookup("other", path) is None


def test_store_and_erase(tmp_path):
    path = str(tmp_path / "d" / "config.json")
    credentials.store("docker.io", credentials.Credentials("u", "p"), path)
    cfg = json.loads(open(path).read())
    assert list(cfg["auths"]) == ["https://index.docker.io/v1/"]
    assert credentials.erase("docker.io", path) and json.loads(open(path).read())["auths"] == {}
    assert not credentials.erase("docker.io", path)


def test_missing_helper_is_one_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    path = _write(tmp_path, {"credsStore": "nosuch"})
    with pytest.raises(RuncoreError, match="docker-credential-nosuch not found"):
        credentials.lookup("r.example", path)
