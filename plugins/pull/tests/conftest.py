"""Fixtures of the runcore-pull tests: real registries on loopback, images pushed with skopeo.

Registries (``docker-registry``) are started once per session per set-up (plain HTTP, TLS +
htpasswd, token auth) and stopped at the end; tests that damage registry storage get a
registry of their own (``fresh_registry``). Every test runs with its own ``DOCKER_CONFIG``
and ``RUNCORE_HOSTS_DIR`` so nothing of the machine's configuration is read.
"""

import pathlib
import sys
from typing import Dict

import pytest

_TESTS = str(pathlib.Path(__file__).resolve().parents[3] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from support.fixtures import *  # noqa: E402,F401,F403
from support.daemon import assert_no_leaks, cleanup_namespace  # noqa: E402
from support import registry as reg  # noqa: E402


def _need_tools() -> None:
    why = reg.missing_tools()
    if why:
        pytest.skip(why)


@pytest.fixture(autouse=True)
def hermetic_config(tmp_path, monkeypatch):
    """No docker config or hosts.toml of the machine is read by the commands under test."""
    (tmp_path / "docker-config").mkdir()
    (tmp_path / "no-hosts").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv("RUNCORE_HOSTS_DIR", str(tmp_path / "no-hosts"))
    return tmp_path


@pytest.fixture(scope="session")
def archives(tmp_path_factory) -> Dict[str, pathlib.Path]:
    _need_tools()
    d = tmp_path_factory.mktemp("pull-archives")
    single, _ = reg.build_single_archive(d / "single.tar")
    multi, _ = reg.build_multiplatform_archive(d / "multi.tar")
    plain, _ = reg.build_multiplatform_archive(d / "multi-plain.tar", attestation=False)
    return {"single": single, "multi": multi, "multi-plain": plain}


@pytest.fixture(scope="session")
def big_archive(tmp_path_factory) -> pathlib.Path:
    """The >= 200 MiB image (6 random layers + busybox), built once per session."""
    _need_tools()
    path, _ = reg.build_big_archive(tmp_path_factory.mktemp("pull-big") / "big.tar")
    return path


def _start(mode: str, archives: Dict[str, pathlib.Path]) -> "reg.Registry":
    r = reg.Registry(mode).start()
    try:
        r.push(archives["single"], "single", "test/single:v1")
        if mode == "plain":
            r.push(archives["multi"], "multi", "test/multi:v1", all_images=True)
            r.push(
                archives["multi-plain"],
                "multi",
                "test/docker:v1",
                all_images=True,
                docker_format=True,
            )
            r.push(archives["single"], "single", "test/docker-single:v1", docker_format=True)
            r.push(archives["single"], "single", "library/busybox:latest")
    except BaseException:
        r.stop()
        raise
    return r


@pytest.fixture(scope="session")
def plain_registry(archives):
    r = _start("plain", archives)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def tls_registry(archives):
    r = _start("tls", archives)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def token_registry(archives):
    r = _start("token", archives)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def big_ref(plain_registry, big_archive) -> str:
    """The >= 200 MiB image, pushed once per session to the plain registry."""
    return plain_registry.push(big_archive, "big", "test/big:v1")


@pytest.fixture
def fresh_registry(archives):
    """A plain registry of this test's own (its storage may be damaged)."""
    r = _start("plain", archives)
    yield r
    r.stop()


@pytest.fixture
def ctr_namespace(containerd, namespace):
    """A second namespace (for ``ctr images pull``), leak-checked and removed afterwards."""
    name = namespace + "-ctr"
    yield name
    try:
        assert_no_leaks(containerd, name)
    finally:
        cleanup_namespace(containerd, name)
