"""Smoke tests of the test harness itself: daemons, oracle ctr, runc, images, leak check."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

from runcore.testing.daemon import (
    LeakError,
    assert_no_leaks,
    check_leaks,
    cleanup_namespace,
    take_baseline,
)

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_daemon_is_private(containerd):
    assert containerd.address.startswith(containerd.tmpdir + "/")
    assert len(containerd.address) < 100
    assert containerd.root.startswith(containerd.tmpdir) and containerd.state.startswith(
        containerd.tmpdir
    )
    out = containerd.ctr("version").stdout
    assert "Version:  1.7.24" in out.split("Server:")[0]  # the oracle client
    assert f"Version:  {containerd.full_version}" in out.split("Server:")[1]
    own = containerd.ctr_own("version").stdout
    assert own.count(containerd.full_version) >= 2
    # the CRI plugin is disabled
    plugins = containerd.ctr("plugins", "ls").stdout
    assert "io.containerd.grpc.v1" in plugins
    assert not any(l.split()[:2] == ["io.containerd.grpc.v1", "cri"] for l in plugins.splitlines())


def test_shim_is_the_daemons_own(containerd, namespace, image):
    """containerd finds its shim via $PATH: the harness must put the daemon's own first."""
    containerd.ctr("run", "-d", "--null-io", image, "shim", "sleep", "30", namespace=namespace)
    try:
        shims = [p for p in os.listdir("/proc") if p.isdigit()]
        exes = set()
        for pid in shims:
            try:
                argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if (
                argv
                and argv[0].endswith(b"containerd-shim-runc-v2")
                and containerd.address.encode() in b" ".join(argv)
            ):
                exes.add(os.readlink(f"/proc/{pid}/exe"))
        want = os.path.join(os.path.dirname(containerd.containerd_path), "containerd-shim-runc-v2")
        assert exes == {os.path.realpath(want)}
    finally:
        containerd.ctr("tasks", "kill", "-s", "SIGKILL", "shim", namespace=namespace)
        for _ in range(100):
            if (
                containerd.ctr("tasks", "rm", "shim", namespace=namespace, check=False).returncode
                == 0
            ):
                break
        containerd.ctr("containers", "rm", "shim", namespace=namespace)


def test_ctr_run_null_io(containerd, namespace, image, fifo_dir):
    r = containerd.ctr(
        "run", "--rm", "--null-io", "--fifo-dir", fifo_dir, image, "id", "true", namespace=namespace
    )
    assert r.returncode == 0 and r.stdout == ""


def test_ctr_run_output(containerd, namespace, image, fifo_dir):
    r = containerd.ctr(
        "run", "--rm", "--fifo-dir", fifo_dir, image, "id2", "echo", "hi", namespace=namespace
    )
    assert r.stdout == "hi\n"


def test_ctr_run_image_config(containerd, namespace, image_alice):
    r = containerd.ctr(
        "run",
        "--rm",
        image_alice,
        "cfg",
        "sh",
        "-c",
        "id; pwd; echo $FOO; ls -ld /tmp",
        namespace=namespace,
    )
    lines = r.stdout.splitlines()
    assert (
        lines[0] == "uid=1000(alice) gid=1001(alicegrp) groups=10(wheel),50(staff),1001(alicegrp)"
    )
    assert lines[1:3] == ["/work", "img"]
    assert lines[3].startswith("drwxrwxrwt")


def test_ctr_run_exit_code(containerd, namespace, image):
    r = containerd.ctr(
        "run", "--rm", image, "ex", "sh", "-c", "exit 7", namespace=namespace, check=False
    )
    assert r.returncode == 7


def test_docker_archive_import(containerd, namespace, import_image, busybox_archives):
    name = import_image(busybox_archives(layout="docker", name="docker.io/library/rcbox:docker"))
    assert name == "docker.io/library/rcbox:docker"
    r = containerd.ctr("run", "--rm", name, "dk", "echo", "docker", namespace=namespace)
    assert r.stdout == "docker\n"


@pytest.mark.parametrize("containerd", ["1.7"], indirect=True)
def test_indirect_version_override(containerd, namespace):
    """One test can be limited to one daemon by indirect parametrization."""
    assert containerd.version == "1.7"


# --------------------------------------------------------------------------- leak check


@pytest.fixture
def scratch_namespace(containerd, namespace_name, busybox_archive):
    """A namespace WITHOUT the automatic leak check (the leak tests call it themselves)."""
    ns = namespace_name + "-scratch"
    containerd.ctr("images", "import", str(busybox_archive.path), namespace=ns)
    yield ns
    cleanup_namespace(containerd, ns)
    assert ns not in containerd.namespaces()


def test_leak_check_catches_container(containerd, scratch_namespace, busybox_archive, tmp_path):
    ns = scratch_namespace
    baseline = take_baseline(containerd)
    assert check_leaks(containerd, ns, baseline) == []
    containerd.ctr("containers", "create", busybox_archive.name, "leaky", namespace=ns)
    leaks = check_leaks(containerd, ns, baseline, settle=0)
    assert "container 'leaky'" in leaks
    assert any("active overlayfs snapshot 'leaky'" in l for l in leaks)
    with pytest.raises(LeakError, match="leaky"):
        assert_no_leaks(containerd, ns, baseline, settle=0)


def test_leak_check_catches_task_mount_lease_fifo(
    containerd, scratch_namespace, busybox_archive, tmp_path
):
    ns = scratch_namespace
    baseline = take_baseline(containerd)
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    containerd.ctr(
        "run",
        "-d",
        "--fifo-dir",
        str(fifo),
        busybox_archive.name,
        "running",
        "sleep",
        "60",
        namespace=ns,
    )
    lease = containerd.ctr("leases", "create", namespace=ns).stdout.strip()
    leaks = check_leaks(containerd, ns, baseline, fifo_dirs=[str(fifo)], settle=0)
    text = "\n".join(leaks)
    assert "container 'running'" in text and "task 'running'" in text
    assert f"lease '{lease}'" in text
    assert "FIFO dir" in text
    assert "rootfs" in text  # the task's rootfs mount under the daemon's state dir
    cleanup_namespace(containerd, ns)  # kills the task, removes everything and the namespace
    shutil.rmtree(fifo)  # `ctr run -d` never removes its FIFO dir
    fifo.mkdir()
    assert check_leaks(containerd, ns, baseline, fifo_dirs=[str(fifo)], settle=0) == []


@pytest.mark.containerd
def test_leak_is_a_test_error(tmp_path):
    """A leaking test using the `namespace` fixture really ends in an ERROR."""
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {TESTS_DIR!r})
        from runcore.testing.containerd import *  # noqa
    """)
    )
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent("""
        import pytest

        @pytest.mark.parametrize("containerd", ["1.7"], indirect=True)
        def test_leaks(containerd, namespace, image):
            containerd.ctr("containers", "create", image, "leaked", namespace=namespace)

        @pytest.mark.parametrize("containerd", ["1.7"], indirect=True)
        def test_clean(containerd, namespace, image):
            containerd.ctr("containers", "create", image, "fine", namespace=namespace)
            containerd.ctr("containers", "rm", "fine", namespace=namespace)
    """)
    )
    env = dict(os.environ, RUNCORE_REQUIRE_CONTAINERD="1")
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rE", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "2 passed, 1 error" in out, out
    assert "ERROR at teardown of test_leaks" in out, out
    assert "container 'leaked'" in out, out


@pytest.mark.parametrize("snapshotter", ["overlayfs", "native"])
def test_leak_check_catches_client_mount(
    containerd, scratch_namespace, busybox_archive, tmp_path, snapshotter
):
    """A snapshot mounted by the client somewhere outside the daemon dir (bind or overlay)."""
    ns = scratch_namespace
    if snapshotter == "native":
        containerd.ctr(
            "images", "import", "--snapshotter", "native", str(busybox_archive.path), namespace=ns
        )
    baseline = take_baseline(containerd)
    target = tmp_path / "mnt"
    target.mkdir()
    sn = ["snapshots", "--snapshotter", snapshotter]
    containerd.ctr(*sn, "prepare", "clientmount", busybox_archive.chain_id, namespace=ns)
    cmd = containerd.ctr(*sn, "mounts", str(target), "clientmount", namespace=ns).stdout.split()
    subprocess.run(cmd, check=True)
    try:
        assert (target / "bin" / "busybox").exists()
        text = "\n".join(check_leaks(containerd, ns, baseline, settle=0))
        assert f"on {target} " in text, text
        assert "active %s snapshot 'clientmount'" % snapshotter in text
    finally:
        subprocess.run(["umount", str(target)], check=True)
    containerd.ctr(*sn, "rm", "clientmount", namespace=ns)
    assert check_leaks(containerd, ns, baseline, settle=0) == []


def test_leak_check_default_fifo_root(containerd, scratch_namespace, busybox_archive):
    """A FIFO dir left in /run/containerd/fifo counts when it serves one of the test's own
    containers and nobody holds it open; another client's dir never counts."""
    ns = scratch_namespace
    baseline = take_baseline(containerd)
    try:
        containerd.ctr("containers", "create", busybox_archive.name, "own", namespace=ns)
        containerd.ctr("containers", "rm", "own", namespace=ns)
        os.makedirs("/run/containerd/fifo", exist_ok=True)
        left = tempfile.mkdtemp(dir="/run/containerd/fifo")
        os.mkfifo(os.path.join(left, "own-stdout"))
        busy = tempfile.mkdtemp(dir="/run/containerd/fifo")
        os.mkfifo(os.path.join(busy, "own-stderr"))
        foreign = tempfile.mkdtemp(dir="/run/containerd/fifo")
        os.mkfifo(os.path.join(foreign, "someone-else-stdout"))
        holder = os.open(os.path.join(busy, "own-stderr"), os.O_RDONLY | os.O_NONBLOCK)
        try:
            text = "\n".join(check_leaks(containerd, ns, baseline, settle=0))
            assert os.path.basename(left) in text
            assert os.path.basename(busy) not in text
            assert os.path.basename(foreign) not in text
        finally:
            os.close(holder)
            for d in (left, busy, foreign):
                shutil.rmtree(d)
        assert check_leaks(containerd, ns, baseline, settle=0) == []
    finally:
        baseline.close()


@pytest.mark.containerd
def test_conftests_share_daemons(tmp_path):
    """Every conftest re-exporting support.fixtures (tests/, plugins/*/tests/) uses the
    same daemon per version, and the daemons are gone when the session ends."""
    for sub in ("a", "b"):
        d = tmp_path / sub
        d.mkdir()
        (d / "conftest.py").write_text(
            textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {TESTS_DIR!r})
            from runcore.testing.containerd import *  # noqa
        """)
        )
        (d / f"test_{sub}.py").write_text(
            textwrap.dedent(f"""
            import pytest

            @pytest.mark.parametrize("containerd", ["1.7"], indirect=True)
            def test_{sub}(containerd):
                with open({str(tmp_path / "addresses")!r}, "a") as f:
                    f.write(containerd.tmpdir + "\\n")
        """)
        )
    env = dict(os.environ, RUNCORE_REQUIRE_CONTAINERD="1")
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "a", "b"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    dirs = (tmp_path / "addresses").read_text().split()
    assert len(dirs) == 2 and dirs[0] == dirs[1]
    assert not os.path.exists(dirs[0])  # stopped and removed at session end


@pytest.mark.parametrize("containerd", ["1.7"], indirect=True)
def test_deprecation_taints_daemon(containerd, namespace, image):
    """Uses the deprecated runc.v1 runtime; the harness restarts the daemon afterwards
    (see test_deprecations_cleared_after_restart, which runs next)."""
    containerd.ctr(
        "run",
        "--rm",
        "--runtime",
        "io.containerd.runc.v1",
        image,
        "v1",
        "true",
        namespace=namespace,
    )
    assert containerd.deprecations() == ["io.containerd.deprecation/runtime-runc-v1"]
    assert "DEPRECATION" in containerd.ctr("version").stderr


@pytest.mark.parametrize("containerd", ["1.7"], indirect=True)
def test_deprecations_cleared_after_restart(containerd):
    assert containerd.deprecations() == []
    assert containerd.ctr("version").stderr == ""
