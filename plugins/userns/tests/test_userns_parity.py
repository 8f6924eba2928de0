"""Parity with ctr 1.7.24 for --uidmap/--gidmap/--remap-labels: record, spec, snapshot.

Each case creates one container with ``ctr run -d --null-io FLAGS`` and one with
``runcore create FLAGS`` in one namespace (``support.parity.compare``) and diffs the
stored records (spec included) and the container snapshots (parent and labels). ctr runs
first, so runcore finds ctr's remapped snapshot and must name and reuse it exactly; the
``remapped copy`` tests make runcore go first and compare the files of both copies.
The remapped snapshots are committed snapshots that outlive the containers (as ctr's);
each test removes them at the end.
"""

import json

import pytest

from userns_support import MAPS, differences, remapped, remove_remapped, snapshot_tree

from runcore.testing import parity  # noqa: E402

pytestmark = pytest.mark.containerd

CASES = [
    ("maps", MAPS),
    ("other-ids", ["--uidmap", "0:200000:1000", "--gidmap", "0:300000:500"]),
    ("container-ids", ["--uidmap", "1:100000:65536", "--gidmap", "2:100000:65536"]),
    (
        "go-number-syntax",
        ["--uidmap", "0x0:0x186a0:0o200000", "--gidmap", "00:1_00000:0b1_0000000000000000"],
    ),
    ("remap-labels", [*MAPS, "--remap-labels"]),
    (
        "remap-labels-sizes",
        ["--uidmap", "0:200000:1000", "--gidmap", "0:300000:500", "--remap-labels"],
    ),
    (
        "snapshotter-label-ignored",
        [*MAPS, "--snapshotter-label", "a=b", "--snapshotter-label", "flag"],
    ),
    ("remap-labels-snapshotter-label", [*MAPS, "--remap-labels", "--snapshotter-label", "a=b"]),
    ("native", [*MAPS, "--snapshotter", "native"]),
    ("native-remap-labels", [*MAPS, "--snapshotter", "native", "--remap-labels"]),
    ("net-host", [*MAPS, "--net-host"]),
    ("with-ns", [*MAPS, "--with-ns", "ipc:/proc/1/ns/ipc"]),
    ("with-ns-user", [*MAPS, "--with-ns", "user:/proc/1/ns/user"]),
    ("privileged", [*MAPS, "--privileged"]),
    ("user", [*MAPS, "--user", "1000"]),
    ("read-only", [*MAPS, "--read-only"]),
    ("cap-add", [*MAPS, "--cap-add", "CAP_SYS_ADMIN"]),
    ("platform", [*MAPS, "--platform", "linux/amd64"]),
    ("only-uidmap", ["--uidmap", "0:100000:65536"]),
    ("only-gidmap", ["--gidmap", "0:100000:65536"]),
    ("only-gidmap-bad", ["--gidmap", "not-a-map"]),
    ("remap-labels-alone", ["--remap-labels"]),
]

FORMAT = "user namespace mappings require the format `container-id:host-id:size`"

ERROR_CASES = [
    ("two-parts", ["--uidmap", "0:100000", "--gidmap", "0:1:1"], FORMAT),
    ("four-parts", ["--uidmap", "0:1:1", "--gidmap", "0:1:1:1"], FORMAT),
    (
        "container-id",
        ["--uidmap", "x:1:1", "--gidmap", "0:1:1"],
        'invalid container id for user namespace remapping: strconv.ParseUint: parsing "x": invalid syntax',
    ),
    (
        "host-id-negative",
        ["--uidmap", "0:-1:1", "--gidmap", "0:1:1"],
        'invalid host id for user namespace remapping: strconv.ParseUint: parsing "-1": invalid syntax',
    ),
    (
        "size-range",
        ["--uidmap", "0:1:1", "--gidmap", "0:1:4294967296"],
        'invalid size for user namespace remapping: strconv.ParseUint: parsing "4294967296": value out of range',
    ),
    (
        "octal-digit",
        ["--uidmap", "0:08:1", "--gidmap", "0:1:1"],
        'invalid host id for user namespace remapping: strconv.ParseUint: parsing "08": invalid syntax',
    ),
    ("uid-first", ["--uidmap", "0:1", "--gidmap", "x:1:1"], FORMAT),
]


@pytest.fixture
def cleanup_remapped(containerd, namespace):
    yield
    for snapshotter in ("overlayfs", "native"):
        remove_remapped(containerd, namespace, snapshotter)


@pytest.mark.parametrize("case_id,flags", CASES, ids=[c[0] for c in CASES])
def test_userns_parity(containerd, namespace, image, cleanup_remapped, case_id, flags):
    ctr, rc = parity.compare(containerd, namespace, flags, image, ["sleep", "1000"])
    assert ctr.record is not None, f"ctr created nothing: {ctr.stderr}"
    assert rc.ok, f"runcore failed: {rc.stderr}"
    problems = parity.diff(ctr.record, rc.record) + parity.diff(
        ctr.snapshot, rc.snapshot, "snapshot"
    )
    assert not problems, "\n".join(problems)
    linux = rc.record["Spec"]["linux"]
    if "--uidmap" in flags and "--gidmap" in flags:
        assert {"type": "user"} in linux["namespaces"] or any(
            ns["type"] == "user" for ns in linux["namespaces"]
        )
        assert (
            rc.snapshot["Parent"].endswith("-100000-100000")
            or "-200000-300000" in rc.snapshot["Parent"]
        )
    else:
        assert "uidMappings" not in linux
        assert all(ns["type"] != "user" for ns in linux["namespaces"])
        assert "warning" in rc.stderr


@pytest.mark.parametrize("case_id,flags,message", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_userns_errors(containerd, namespace, image, case_id, flags, message):
    ctr, rc = parity.compare(containerd, namespace, flags, image, ["true"])
    assert not ctr.ok and ctr.record is None, f"ctr accepted {flags}"
    assert ctr.stderr == f"ctr: {message}"
    assert not rc.ok and rc.record is None, f"runcore accepted {flags}"
    assert rc.stderr == f"runcore: {message}"
    assert remapped(containerd, namespace) == {}


def test_ignored_with_rootfs_like_ctr(containerd, namespace, tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    ctr, rc = parity.compare(
        containerd,
        namespace,
        ["--rootfs", "--uidmap", "bad", "--gidmap", "0:1:1"],
        str(root),
        ["/bin/true"],
    )
    assert rc.ok, rc.stderr
    assert not parity.diff(ctr.record, rc.record), "\n".join(parity.diff(ctr.record, rc.record))
    assert "ignored with --rootfs" in rc.stderr


@pytest.mark.parametrize("snapshotter", ["overlayfs", "native"])
def test_remapped_copy_matches_ctrs(containerd, namespace, image, cleanup_remapped, snapshotter):
    """runcore makes the copy first; ctr's own copy (made after runcore's is removed) has
    the same owners and modes - except the setuid bit that ctr's lchown drops."""
    flags = [*MAPS, "--snapshotter", snapshotter]
    containerd.runcore("create", *flags, image, "rc-first", namespace=namespace)
    try:
        ours = remapped(containerd, namespace, snapshotter)
        assert len(ours) == 1, ours
        ((name, parent),) = ours.items()
        assert name == f"{parent}-100000-100000"
        rc_tree = snapshot_tree(containerd, namespace, name, snapshotter)
    finally:
        containerd.runcore("rm", "rc-first", namespace=namespace, check=False)
    remove_remapped(containerd, namespace, snapshotter)
    assert remapped(containerd, namespace, snapshotter) == {}
    ctr = containerd.ctr(
        "run",
        "-d",
        "--null-io",
        *flags,
        image,
        "ctr-after",
        "sleep",
        "1000",
        namespace=namespace,
        check=False,
    )
    try:
        assert ctr.returncode == 0, ctr.stderr
        ctr_tree = snapshot_tree(containerd, namespace, name, snapshotter)
    finally:
        parity.remove_ctr_container(containerd, namespace, "ctr-after")
    image_tree = snapshot_tree(containerd, namespace, parent, snapshotter)

    assert rc_tree["/"][:2] == (100000, 100000)
    assert rc_tree["/home/alice"][:2] == (101000, 101001)
    for path, (uid, gid, mode, xattrs) in image_tree.items():
        assert rc_tree[path] == ((uid + 100000), (gid + 100000), mode, xattrs), path
    assert rc_tree["/bin/suidfile"][2] & 0o7777 == 0o4755
    # ctr 1.7 drops the setuid bit (docs/ctr-differences.md); everything else is the same
    assert ctr_tree["/bin/suidfile"][2] & 0o7777 == 0o755
    problems = differences(
        {p: v for p, v in rc_tree.items() if p != "/bin/suidfile"},
        {p: v for p, v in ctr_tree.items() if p != "/bin/suidfile"},
    )
    assert not problems, "\n".join(problems[:20])


def _created(containerd, namespace, name):
    info = containerd.ctr("snapshots", "info", name, namespace=namespace).stdout
    return json.loads(info)["Created"]


def test_each_reuses_the_others_copy(containerd, namespace, image, cleanup_remapped):
    containerd.runcore("create", *MAPS, image, "rc-1", namespace=namespace)
    try:
        ((name, _),) = remapped(containerd, namespace).items()
        made = _created(containerd, namespace, name)
        ctr = containerd.ctr(
            "run",
            "-d",
            "--null-io",
            *MAPS,
            image,
            "ctr-1",
            "sleep",
            "1000",
            namespace=namespace,
            check=False,
        )
        try:
            assert ctr.returncode == 0, ctr.stderr
            containerd.runcore(
                "create", *MAPS, "--remap-labels", image, "rc-2", namespace=namespace
            )
            assert remapped(containerd, namespace) == {name: name.rsplit("-", 2)[0]}
            assert _created(containerd, namespace, name) == made
            for cid in ("rc-1", "ctr-1", "rc-2"):
                info = json.loads(
                    containerd.ctr("snapshots", "info", cid, namespace=namespace).stdout
                )
                assert info["Parent"] == name
        finally:
            parity.remove_ctr_container(containerd, namespace, "ctr-1")
            containerd.runcore("rm", "rc-2", namespace=namespace, check=False)
    finally:
        containerd.runcore("rm", "rc-1", namespace=namespace, check=False)


def test_spec_command_creates_nothing(containerd, namespace, image):
    out = containerd.runcore("spec", *MAPS, image, "spec-1", namespace=namespace)
    spec = json.loads(out.stdout)
    assert spec["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 65536}]
    assert spec["linux"]["namespaces"][-1] == {"type": "user"}
    assert remapped(containerd, namespace) == {}
    containerd.runcore("create", *MAPS, image, "spec-1", namespace=namespace)
    try:
        stored = json.loads(
            containerd.ctr("containers", "info", "spec-1", namespace=namespace).stdout
        )
        assert stored["Spec"] == spec
    finally:
        containerd.runcore("rm", "spec-1", namespace=namespace, check=False)
        remove_remapped(containerd, namespace)


@pytest.fixture
def special_image(containerd, namespace, tmp_path):
    """An image with file capabilities, xattrs, hard links, setuid/setgid files, unpacked
    for both snapshotters."""
    from userns_support import build_special_image

    path = tmp_path / "special.tar"
    name, chain = build_special_image(path)
    for snapshotter in ("overlayfs", "native"):
        containerd.ctr(
            "images", "import", "--snapshotter", snapshotter, str(path), namespace=namespace
        )
    yield name, chain
    containerd.ctr("images", "rm", "--sync", name, namespace=namespace, check=False)


@pytest.mark.parametrize("snapshotter", ["overlayfs", "native"])
def test_remapped_copy_keeps_what_ctr_drops(
    containerd, namespace, special_image, cleanup_remapped, snapshotter
):
    """runcore's copy keeps setuid/setgid bits, file capabilities and xattrs and shifts a
    hard-linked file once; ctr 1.7's copy (checked too, so docs/ctr-differences.md stays
    true) loses the bits and the capability, and on ``native`` shifts hard links twice."""
    from userns_support import CAP_NET_RAW_EP

    name, chain = special_image
    flags = [
        "--snapshotter",
        snapshotter,
        "--uidmap",
        "0:100000:65536",
        "--gidmap",
        "0:200000:65536",
    ]
    remap_name = f"{chain}-100000-200000"
    containerd.runcore("create", *flags, name, "rc-special", namespace=namespace)
    try:
        ours = snapshot_tree(containerd, namespace, remap_name, snapshotter)
    finally:
        containerd.runcore("rm", "rc-special", namespace=namespace)
    remove_remapped(containerd, namespace, snapshotter)
    assert remapped(containerd, namespace, snapshotter) == {}  # ctr makes its own copy
    containerd.ctr(
        "run",
        "-d",
        "--null-io",
        *flags,
        name,
        "ctr-special",
        "/bin/ping",
        namespace=namespace,
        check=False,
    )
    try:
        theirs = snapshot_tree(containerd, namespace, remap_name, snapshotter)
    finally:
        parity.remove_ctr_container(containerd, namespace, "ctr-special")
    original = snapshot_tree(containerd, namespace, chain, snapshotter)

    ping_xattrs = dict(original["/bin/ping"][3])
    assert ping_xattrs["security.capability"] == CAP_NET_RAW_EP
    for path, (uid, gid, mode, xattrs) in original.items():
        assert ours[path] == (uid + 100000, gid + 200000, mode, xattrs), path
    assert ours["/data/a"][:2] == ours["/data/b"][:2] == (100005, 200005)
    assert ours["/bin/suid"][2] & 0o7777 == 0o4755 and ours["/bin/sgid"][2] & 0o7777 == 0o2755

    assert theirs["/bin/suid"][2] & 0o7777 == 0o755 and theirs["/bin/sgid"][2] & 0o7777 == 0o755
    assert "security.capability" not in dict(theirs["/bin/ping"][3])
    twice = snapshotter == "native"
    assert theirs["/data/a"][:2] == ((200005, 400005) if twice else (100005, 200005))
    same = {
        p
        for p in original
        if p not in ("/bin/suid", "/bin/sgid", "/bin/ping", "/data/a", "/data/b")
    }
    assert {p: ours[p] for p in same} == {p: theirs[p] for p in same}
