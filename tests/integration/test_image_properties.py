"""Property tests: whatever an image archive holds, ``runcore images import`` either imports
it (exit 0) or says why on one line (exit 1) – never an internal error (exit 70), never a
traceback, nothing left in containerd (images of a failed import, leases, active
snapshots) or on the host (no file outside the daemon's root) (issue 18, defect 5).

Two suites with a fixed example budget and a derandomized seed, run against one daemon
(containerd 1.7) to keep their cost bounded; archives are built in memory
(:mod:`support.image_docs`):

* documents – any field of the index, manifest, config, ``oci-layout`` or docker
  ``manifest.json`` replaced by any JSON value, removed, re-spelt in another case, or the
  whole document replaced by arbitrary bytes;
* archives – hostile tar members in the archive and in the layer: path traversal,
  absolute paths, hard and symbolic links to outside, device-less special files, huge
  declared sizes, truncation.
"""

from __future__ import annotations

import copy
import os
import subprocess
import tarfile
from typing import Any, Dict, List, Tuple

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.image_docs import ImageDocs, Member, tiny_layer, write_tar

pytestmark = pytest.mark.containerd

DOCUMENT_EXAMPLES = 60
ARCHIVE_EXAMPLES = 45
SETTINGS = dict(
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)

#: A file name no import may ever create on the host (fixed, so every run draws the same cases).
CANARY = "rc-escape-canary"
CANARY_PATHS = [f"/tmp/{CANARY}", f"/{CANARY}", f"/etc/{CANARY}"]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 65), max_value=1 << 65),
    st.sampled_from([0, -1, 1 << 63, (1 << 63) - 1, 1 << 64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "sha256:",
            "sha256:" + "0" * 64,
            "../../etc/passwd",
            "/abs",
            "linux/amd64",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
        ]
    ),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
    """Every key path of a JSON value (objects and arrays), the root excluded."""
    out: List[Tuple[Any, ...]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


def _parent(doc: Any, path: Tuple[Any, ...]) -> Any:
    for k in path[:-1]:
        doc = doc[k]
    return doc


DOC_ATTRS = {
    "oci": ["index", "manifest", "config", "oci_layout"],
    "docker": ["config", "docker_manifest"],
}


@st.composite
def document_archives(draw) -> Tuple[str, bytes]:
    layout = draw(st.sampled_from(["oci", "docker"]))
    docs = ImageDocs(name="docker.io/library/rcfuzz:latest", layout=layout)
    docs.docker_manifest = [{"Config": "", "RepoTags": ["rcfuzz:latest"], "Layers": [""]}]
    attr = draw(st.sampled_from(DOC_ATTRS[layout]))
    doc: Any = copy.deepcopy(getattr(docs, attr))
    action = draw(st.sampled_from(["set", "set", "set", "delete", "recase", "bytes", "json"]))
    paths = _paths(doc)
    what = action
    if action in ("set", "delete", "recase") and paths:
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        key = path[-1]
        if action == "set":
            parent[key] = draw(json_values)
        elif isinstance(parent, dict):
            value = parent.pop(key)
            if action == "recase":
                parent[str(key).upper() if str(key).upper() != key else str(key).lower()] = value
        else:
            parent.pop(key)
        what = f"{action} {attr}{list(path)}"
    elif action == "bytes":
        raw = draw(st.binary(max_size=40))
        key = {
            "index": "index",
            "manifest": "manifest",
            "config": "config",
            "oci_layout": "oci-layout",
            "docker_manifest": "manifest.json",
        }[attr]
        docs.raw[key] = raw
        return f"{attr} = {raw!r}", docs.archive()
    else:
        doc = draw(json_values)
        what = f"{attr} = {doc!r}"
    setattr(docs, attr, doc)
    return what, docs.archive()


NAMES = st.sampled_from(
    [
        "ok.txt",
        "dir/",
        "dir/f",
        "./x",
        "../" * 6 + f"tmp/{CANARY}",
        f"/tmp/{CANARY}",
        f"a/../../../{CANARY}",
        f"/etc/{CANARY}",
        "link/" + CANARY,
        "x" * 150,
        "sp ace",
        "blobs/sha256/" + "0" * 64,
        "manifest.json",
        "index.json",
        "oci-layout",
        "blobs/sha256/../../../" + CANARY,
    ]
)
LINK_TARGETS = st.sampled_from(
    [
        "/etc/passwd",
        "../../../../etc/shadow",
        "/tmp",
        "/",
        "ok.txt",
        "missing",
        "../" * 8 + "tmp",
        f"/tmp/{CANARY}",
        "dir",
    ]
)
TYPES = st.sampled_from(
    [
        tarfile.REGTYPE,
        tarfile.REGTYPE,
        tarfile.DIRTYPE,
        tarfile.SYMTYPE,
        tarfile.LNKTYPE,
        tarfile.FIFOTYPE,
    ]
)


@st.composite
def members(draw, max_size: int = 4) -> List[Member]:
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=max_size))):
        typ = draw(TYPES)
        name = draw(NAMES)
        if typ == tarfile.DIRTYPE:
            name = name.rstrip("/") + "/"
        out.append(
            Member(
                name=name,
                type=typ,
                data=draw(st.binary(max_size=16)),
                linkname=draw(LINK_TARGETS) if typ in (tarfile.SYMTYPE, tarfile.LNKTYPE) else "",
            )
        )
    return out


def _layer(ms: List[Member]) -> bytes:
    return write_tar([Member("ok.txt", b"ok\n")] + ms)


def _huge(archive: bytes, size: int) -> bytes:
    """``archive`` with one more member that declares ``size`` bytes and ends right away."""
    head = tarfile.TarInfo("blobs/sha256/" + "f" * 64)
    head.size, head.mtime = size, 0
    body = archive.rstrip(b"\0")
    body += b"\0" * (-len(body) % 512)
    return body + head.tobuf(format=tarfile.GNU_FORMAT)


@st.composite
def hostile_archives(draw) -> Tuple[str, bytes]:
    layout = draw(st.sampled_from(["oci", "docker"]))
    where = draw(st.sampled_from(["layer", "layer", "archive", "huge"]))
    if where == "layer":
        ms = draw(members())
        docs = ImageDocs(name="docker.io/library/rcfuzz:latest", layout=layout, layer=_layer(ms))
        return f"{layout} layer {[(m.name, m.type, m.linkname) for m in ms]}", docs.archive()
    docs = ImageDocs(name="docker.io/library/rcfuzz:latest", layout=layout, layer=tiny_layer())
    if where == "archive":
        ms = draw(members(3))
        front = draw(st.booleans())
        base = docs.archive()
        extra = write_tar(ms).rstrip(b"\0")
        extra += b"\0" * (-len(extra) % 512)
        base_body = base.rstrip(b"\0")
        base_body += b"\0" * (-len(base_body) % 512)
        data = (extra + base_body if front else base_body + extra) + b"\0" * 1024
        return (
            f"{layout} archive {'+' if front else ''}{[(m.name, m.type, m.linkname) for m in ms]}",
            data,
        )
    size = draw(st.sampled_from([1 << 33, 1 << 40, (1 << 63) - 1, 10**12]))
    return f"{layout} huge member {size}", _huge(docs.archive(), size)


# ----------------------------------------------------------------------------- the property


class Checker:
    """Imports one archive and checks the property; counts what happened."""

    def __init__(self, containerd, namespace: str, tmp_path) -> None:
        self.containerd, self.namespace, self.tmp = containerd, namespace, tmp_path
        self.counts: Dict[str, int] = {
            "cases": 0,
            "imported": 0,
            "refused": 0,
            "internal errors": 0,
        }

    def __call__(self, what: str, archive: bytes) -> None:
        d, ns = self.containerd, self.namespace
        self.counts["cases"] += 1
        r = subprocess.run(
            d.runcore_argv("images", "import", "-", namespace=ns),
            input=archive,
            capture_output=True,
            timeout=120,
        )
        err = r.stderr.decode("utf-8", "replace")
        if r.returncode == 70 or "Traceback" in err or "internal error" in err:
            self.counts["internal errors"] += 1
        images = d.lines("images", "ls", "-q", namespace=ns)
        try:
            assert r.returncode in (0, 1), f"{what}: exit {r.returncode}: {err}"
            assert "Traceback" not in err and "internal error" not in err, f"{what}: {err}"
            if r.returncode == 0:
                self.counts["imported"] += 1
            else:
                self.counts["refused"] += 1
                assert err.count("\n") == 1 and err.startswith("runcore: "), f"{what}: {err!r}"
                assert images == [], f"{what}: a failed import left images {images}"
            assert d.lines("leases", "ls", "-q", namespace=ns) == [], f"{what}: lease left"
            active = [s for s in d.snapshots(ns) if s[2].lower() == "active"]
            assert not active, f"{what}: active snapshots left: {active}"
            escaped = [p for p in CANARY_PATHS if os.path.lexists(p)]
            assert not escaped, f"{what}: wrote outside the daemon: {escaped}"
        finally:
            for name in images:
                d.ctr("images", "rm", "--sync", name, namespace=ns, check=False)
            for p in CANARY_PATHS:
                if os.path.lexists(p) and not os.path.isdir(p):
                    os.unlink(p)

    def report(self, suite: str, capsys) -> None:
        with capsys.disabled():
            print(
                f"\n[hypothesis {suite}] " + ", ".join(f"{k}: {v}" for k, v in self.counts.items())
            )


@pytest.fixture
def checker(containerd, namespace, tmp_path):
    if containerd.version != "1.7":
        pytest.skip("the property suites run against one daemon (1.7) to keep CI time bounded")
    return Checker(containerd, namespace, tmp_path)


def test_any_document_imports_or_fails_cleanly(checker, capsys):
    @settings(max_examples=DOCUMENT_EXAMPLES, **SETTINGS)
    @given(document_archives())
    def prop(case: Tuple[str, bytes]) -> None:
        checker(*case)

    prop()
    checker.report("documents", capsys)
    assert checker.counts["cases"] >= DOCUMENT_EXAMPLES // 2
    assert checker.counts["imported"] and checker.counts["refused"], checker.counts


def test_any_archive_imports_or_fails_cleanly(checker, capsys):
    @settings(max_examples=ARCHIVE_EXAMPLES, **SETTINGS)
    @given(hostile_archives())
    def prop(case: Tuple[str, bytes]) -> None:
        checker(*case)

    prop()
    checker.report("archives", capsys)
    assert checker.counts["cases"] >= ARCHIVE_EXAMPLES // 2
    assert checker.counts["imported"] and checker.counts["refused"], checker.counts
