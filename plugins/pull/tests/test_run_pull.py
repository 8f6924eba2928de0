"""``run``/``create --pull``: the image is pulled through the core's supply hook."""

from pull_support import one_line_error, runcore
from support import registry as reg


def _mirror(tmp_path, registry):
    return {
        "RUNCORE_HOSTS_DIR": str(
            reg.hosts_dir_for(tmp_path / "certs.d", "docker.io", f"http://{registry.host}")
        )
    }


def test_run_rm_busybox_pulls_through_docker_io_mirror(
    containerd, namespace, plain_registry, tmp_path
):
    env = _mirror(tmp_path, plain_registry)
    r = runcore(
        containerd, "run", "--rm", "busybox", "c1", "echo", "hi", namespace=namespace, env=env
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hi\n"
    assert (
        "unpacking linux/amd64" in r.stderr
    )  # progress goes to stderr, never to the container's stdout
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == [
        "docker.io/library/busybox:latest"
    ]
    # present now: the short name resolves to it without contacting the registry
    before = len(plain_registry.access_log())
    r = runcore(
        containerd, "run", "--rm", "busybox", "c2", "echo", "again", namespace=namespace, env=env
    )
    assert (r.returncode, r.stdout) == (0, "again\n"), r.stderr
    assert plain_registry.access_log()[before:] == []


def test_pull_always_resolves_again(containerd, namespace, plain_registry, tmp_path):
    env = _mirror(tmp_path, plain_registry)
    ref = f"{plain_registry.host}/test/single:v1"
    assert runcore(containerd, "pull", "-q", ref, namespace=namespace).returncode == 0
    before = len(plain_registry.access_log())
    r = runcore(containerd, "create", "--pull", "always", ref, "c1", namespace=namespace, env=env)
    assert r.returncode == 0, r.stderr
    assert plain_registry.access_log()[before:] == ["HEAD /v2/test/single/manifests/v1"]
    assert runcore(containerd, "rm", "c1", namespace=namespace).returncode == 0


def test_pull_never_with_missing_image(containerd, namespace, plain_registry, tmp_path):
    env = _mirror(tmp_path, plain_registry)
    before = len(plain_registry.access_log())
    r = runcore(
        containerd,
        "run",
        "--rm",
        "--pull",
        "never",
        "busybox",
        "c1",
        "echo",
        "hi",
        namespace=namespace,
        env=env,
    )
    line = one_line_error(r)
    assert "not found" in line
    assert plain_registry.access_log()[before:] == []
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []


def test_distro_default_never(containerd, namespace, plain_registry, tmp_path):
    env = _mirror(tmp_path, plain_registry)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[defaults]\npull = "never"\n')
    env["RUNCORE_CONFIG"] = str(cfg)
    r = runcore(
        containerd, "run", "--rm", "busybox", "c1", "echo", "hi", namespace=namespace, env=env
    )
    assert "not found" in one_line_error(r)
    r = runcore(
        containerd,
        "run",
        "--rm",
        "--pull",
        "missing",
        "busybox",
        "c1",
        "echo",
        "hi",
        namespace=namespace,
        env=env,
    )
    assert (r.returncode, r.stdout) == (0, "hi\n"), r.stderr


def test_missing_everywhere_creates_nothing(containerd, namespace, plain_registry):
    ref = f"{plain_registry.host}/test/nope:v1"
    r = runcore(containerd, "create", ref, "c1", namespace=namespace)
    assert "not found" in one_line_error(r)
    assert containerd.lines("containers", "ls", "-q", namespace=namespace) == []
    assert containerd.lines("images", "ls", "-q", namespace=namespace) == []


def test_create_platform_pulls_that_platform(containerd, namespace, plain_registry):
    ref = f"{plain_registry.host}/test/multi:v1"
    r = runcore(containerd, "create", "--platform", "linux/arm64", ref, "c1", namespace=namespace)
    try:
        assert r.returncode == 0, r.stderr
        assert "unpacking linux/arm64 " in r.stderr
        assert ref in containerd.ctr("containers", "info", "c1", namespace=namespace).stdout
    finally:
        runcore(containerd, "rm", "c1", namespace=namespace)
