"""Real containers in a user namespace: ``runcore run --uidmap ... --gidmap ...``.

What the container sees is compared with what ``ctr run`` shows for the same command,
and checked against the expected values: root inside, the mappings in /proc, image files
owned by root inside and by the host ids outside, the setuid bit, stdio, exit codes,
``--rm`` keeping the shared remapped parent, and the IO owner task options (read back
from the ``options.json`` the runc shim keeps in the bundle; runc itself also hands the
stdio pipes to the container's root, so what the container sees does not prove them).
"""

import json
import os
import pathlib
import shutil
import tempfile

import pytest

from userns_support import MAPS, remapped, remove_remapped, snapshot_tree

pytestmark = pytest.mark.containerd

PROBE = (
    "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; "
    "stat -c '%n %u:%g %a' /etc/passwd /bin/suidfile /home/alice /; "
    "stat -L -c 'fd%n %u:%g' /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 | sed s,/proc/self/fd/,,; "
    "touch /made-inside && stat -c '%n %u:%g' /made-inside"
)

EXPECTED = """0
0
         0     100000      65536
         0     100000      65536
/etc/passwd 0:0 644
/bin/suidfile 0:0 4755
/home/alice 1000:1001 755
/ 0:0 755
fd0 0:0
fd1 0:0
fd2 0:0
/made-inside 0:0
"""


@pytest.fixture
def cleanup_remapped(containerd, namespace):
    yield
    remove_remapped(containerd, namespace)


def _run(containerd, namespace, tool, *args, input=""):
    call = containerd.runcore if tool == "runcore" else containerd.ctr
    return call("run", "--rm", *args, namespace=namespace, check=False, input=input, timeout=120)


def test_root_inside_mapped_outside(containerd, namespace, image, cleanup_remapped):
    # a container holding the remapped copy, so that the garbage collector keeps it
    # between the --rm runs below
    containerd.runcore("create", *MAPS, image, "holder", namespace=namespace)
    try:
        rc = _run(containerd, namespace, "runcore", *MAPS, image, "probe-rc", "sh", "-c", PROBE)
        assert rc.returncode == 0, rc.stderr
        assert rc.stdout == EXPECTED
        assert rc.stderr == ""
        # ctr, reusing the remapped copy runcore made, sees the same
        ctr = _run(containerd, namespace, "ctr", *MAPS, image, "probe-ctr", "sh", "-c", PROBE)
        assert ctr.returncode == 0, ctr.stderr
        assert ctr.stdout == rc.stdout
        # outside: the remapped copy belongs to the host ids; the image's snapshot is untouched
        ((name, parent),) = remapped(containerd, namespace).items()
        outside = snapshot_tree(containerd, namespace, name)
        original = snapshot_tree(containerd, namespace, parent)
    finally:
        containerd.runcore("rm", "holder", namespace=namespace, check=False)
    assert outside["/etc/passwd"][:2] == (100000, 100000)
    assert outside["/home/alice"][:2] == (101000, 101001)
    assert outside["/bin/suidfile"][2] & 0o7777 == 0o4755
    assert original["/etc/passwd"][:2] == (0, 0)
    assert original["/bin/suidfile"][2] & 0o7777 == 0o4755


def test_without_maps_root_is_real_root(containerd, namespace, image):
    rc = _run(
        containerd,
        namespace,
        "runcore",
        "--uidmap",
        "0:100000:65536",
        image,
        "one-map",
        "cat",
        "/proc/self/uid_map",
    )
    assert rc.returncode == 0, rc.stderr
    assert rc.stdout.split() == ["0", "0", "4294967295"]
    assert "--uidmap is ignored without --gidmap" in rc.stderr
    assert remapped(containerd, namespace) == {}


@pytest.mark.parametrize("code", [0, 3, 42])
def test_exit_codes_pass_through(containerd, namespace, image, cleanup_remapped, code):
    rc = _run(
        containerd, namespace, "runcore", *MAPS, image, f"exit-{code}", "sh", "-c", f"exit {code}"
    )
    assert rc.returncode == code, rc.stderr


def test_stdin_reaches_the_container(containerd, namespace, image, cleanup_remapped):
    rc = _run(
        containerd,
        namespace,
        "runcore",
        *MAPS,
        image,
        "stdin",
        "sh",
        "-c",
        "cat; echo err >&2",
        input="hello from the host\n",
    )
    assert rc.returncode == 0, rc.stderr
    assert rc.stdout == "hello from the host\n"
    assert rc.stderr == "err\n"


def test_rm_keeps_the_shared_remapped_parent(containerd, namespace, image, cleanup_remapped):
    containerd.runcore("create", *MAPS, image, "holder", namespace=namespace)
    try:
        ((name, _),) = remapped(containerd, namespace).items()
        rc = _run(containerd, namespace, "runcore", *MAPS, image, "gone", "true")
        assert rc.returncode == 0, rc.stderr
        keys = {k for k, _, _ in containerd.snapshots(namespace)}
        assert "gone" not in keys
        assert name in keys
        assert containerd.lines("containers", "ls", "-q", namespace=namespace) == ["holder"]
    finally:
        containerd.runcore("rm", "holder", namespace=namespace, check=False)


def test_remap_labels_run(containerd, namespace, image, cleanup_remapped):
    rc = _run(
        containerd,
        namespace,
        "runcore",
        *MAPS,
        "--remap-labels",
        image,
        "labels",
        "sh",
        "-c",
        "stat -c '%u:%g' /etc/passwd; cat /proc/self/uid_map",
    )
    assert rc.returncode == 0, rc.stderr
    assert rc.stdout.split() == ["0:0", "0", "100000", "65536"]


def _task_options(containerd, namespace, cid):
    """The task options the runc shim stored in the bundle (``options.json``)."""
    path = os.path.join(
        containerd.state, "io.containerd.runtime.v2.task", namespace, cid, "options.json"
    )
    with open(path) as fh:
        return json.load(fh)


def _detached_options(containerd, namespace, tool, cid, *args):
    call = containerd.runcore if tool == "runcore" else containerd.ctr
    r = call("run", "-d", "--null-io", *args, namespace=namespace, check=False)
    try:
        assert r.returncode == 0, r.stderr
        return _task_options(containerd, namespace, cid)
    finally:
        if tool == "runcore":
            containerd.runcore("rm", "-f", cid, namespace=namespace, check=False)
        else:
            from runcore.testing.parity import remove_ctr_container

            remove_ctr_container(containerd, namespace, cid)


def test_io_owner_task_options(containerd, namespace, image, cleanup_remapped):
    maps = ["--uidmap", "0:100000:65536", "--gidmap", "0:200000:65536"]
    got = [
        _detached_options(
            containerd, namespace, tool, cid, *extra, *maps, image, cid, "sleep", "100"
        )
        for tool, cid, extra in (
            ("ctr", "opt-ctr", []),
            ("runcore", "opt-rc", []),
            ("ctr", "opt-ctr-np", ["--no-pivot"]),
            ("runcore", "opt-rc-np", ["--no-pivot"]),
        )
    ]
    assert got[0] == got[1] == {"io_uid": 100000, "io_gid": 200000}
    assert got[2] == got[3] == {"no_pivot_root": True, "io_uid": 100000, "io_gid": 200000}


@pytest.fixture
def open_dir():
    """A directory the container's (unprivileged on the host) root can traverse."""
    path = tempfile.mkdtemp(prefix="rc-userns-")
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def test_io_owner_from_a_config_spec(containerd, namespace, open_dir):
    """ctr 1.7 takes the IO owner from the stored spec: a --config file with mappings too."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(busybox):
        pytest.skip("no busybox")
    root = open_dir / "root"
    (root / "bin").mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    for d in ("proc", "dev", "sys", "run", "tmp"):
        (root / d).mkdir()
    spec = json.loads(
        containerd.runcore(
            "spec",
            "--rootfs",
            str(root),
            "cfg",
            "/bin/busybox",
            "sh",
            "-c",
            "/bin/busybox stat -L -c %u:%g /proc/self/fd/1; sleep 100",
            namespace=namespace,
        ).stdout
    )
    spec["linux"]["namespaces"].append({"type": "user"})
    spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 65536}]
    path = open_dir / "config.json"
    path.write_text(json.dumps(spec))
    got = [
        _detached_options(containerd, namespace, tool, cid, "--config", str(path), cid)
        for tool, cid in (("runcore", "cfg-rc"), ("ctr", "cfg-ctr"))
    ]
    assert got == [{"io_uid": 100000, "io_gid": 300000}] * 2


def test_start_of_a_created_container_gives_the_fifos_to_the_mapped_root(
    containerd, namespace, image, cleanup_remapped, fifo_dir
):
    """``runcore start`` computes the IO owner from the stored record alone (as ``run``),
    for the task's FIFOs and for an exec's."""
    maps = ["--uidmap", "0:100000:65536", "--gidmap", "0:200000:65536"]
    containerd.runcore("create", *maps, image, "st1", "sleep", "100", namespace=namespace)
    try:
        containerd.runcore("start", "-d", "--fifo-dir", fifo_dir, "st1", namespace=namespace)
        assert _task_options(containerd, namespace, "st1") == {"io_uid": 100000, "io_gid": 200000}
        stdout = containerd.runcore(
            "inspect", "-f", ".task.stdout", "st1", namespace=namespace
        ).stdout.strip()
        assert stdout.startswith(fifo_dir)
        st = os.stat(stdout)
        assert (st.st_uid, st.st_gid) == (100000, 200000)
        r = containerd.runcore(
            "exec",
            "--fifo-dir",
            fifo_dir,
            "st1",
            "sh",
            "-c",
            "stat -L -c '%u:%g' /proc/self/fd/1; id -u",
            namespace=namespace,
            check=False,
        )
        assert (r.returncode, r.stdout) == (0, "0:0\n0\n"), r.stderr
    finally:
        containerd.runcore("rm", "-f", "st1", namespace=namespace, check=False)
