"""Image name normalisation, platform matching and chain ids (containerd semantics)."""

from __future__ import annotations

import hashlib

import pytest

from runcore import errors
from runcore.images.identity import chain_id, chain_ids
from runcore.images.platforms import ALL, Platform, format_platform, only, only_strict, parse
from runcore.images.reference import (
    add_ref_prefix,
    filter_ref_prefix,
    image_name,
    normalize_docker_ref,
    oci_reference_name,
)


@pytest.mark.parametrize(
    "ref, normalized",
    [
        ("alpine", "docker.io/library/alpine:latest"),
        ("alpine:3.19", "docker.io/library/alpine:3.19"),
        ("library/alpine", "docker.io/library/alpine:latest"),
        ("user/app:v1", "docker.io/user/app:v1"),
        ("index.docker.io/user/app", "docker.io/user/app:latest"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/a/b:1", "localhost:5000/a/b:1"),
        ("quay.io/org/img:tag", "quay.io/org/img:tag"),
        ("a:b@sha256:" + "b" * 64, "docker.io/library/a@sha256:" + "b" * 64),
    ],
)
def test_normalize_docker_ref(ref, normalized):
    assert normalize_docker_ref(ref) == normalized


@pytest.mark.parametrize("ref", ["UPPER", "a" * 64, "bad//name", "x:", "x@"])
def test_normalize_docker_ref_rejects(ref):
    with pytest.raises(errors.ImageError, match="normalize image ref"):
        normalize_docker_ref(ref)


def test_oci_reference_name():
    assert oci_reference_name("docker.io/library/alpine:latest") == "latest"
    assert oci_reference_name("localhost:5000/a/b:1") == "1"
    assert oci_reference_name("quay.io/x/y@sha256:" + "a" * 64) == "@sha256:" + "a" * 64


def test_ref_translators():
    add, filt = add_ref_prefix("foo/bar"), filter_ref_prefix("foo/bar")
    assert add("latest") == filt("latest") == "foo/bar:latest"
    assert add("other/img:1") == "other/img:1"
    assert filt("other/img:1") == ""
    assert filt("foo/bar:2") == "foo/bar:2"
    assert filt("foo/barbaz:2") == ""  # partial path component does not count
    assert filt("foo/bar/sub:2") == "foo/bar/sub:2"
    assert add_ref_prefix("")("latest") == ""
    assert (
        image_name({"io.containerd.image.name": "n", "org.opencontainers.image.ref.name": "t"}, add)
        == "n"
    )
    assert image_name({"org.opencontainers.image.ref.name": "t"}, add) == "foo/bar:t"
    assert image_name({}, add) == ""


def test_parse_platforms():
    assert parse("linux/amd64") == Platform("linux", "amd64")
    assert parse("linux/x86_64") == Platform("linux", "amd64")
    assert parse("linux/arm64/v8") == Platform("linux", "arm64", "v8")  # as containerd
    assert parse("linux/arm/v6") == Platform("linux", "arm", "v6")
    assert parse("linux/arm") == Platform("linux", "arm", "")
    assert parse("arm64") == Platform("linux", "arm64")
    assert parse("windows(10.0.17763)/amd64").os_version == "10.0.17763"
    for bad in ("linux/*", "nonsense", "linux/am d64", "a/b/c/d"):
        with pytest.raises(errors.UsageError):
            parse(bad)
    assert format_platform(Platform("linux", "arm", "v7")) == "linux/arm/v7"
    assert format_platform(Platform("", "amd64")) == "unknown"


def test_matchers():
    host = only(Platform("linux", "amd64"))
    assert host.match(Platform("linux", "amd64")) and host.match(Platform("linux", "386"))
    assert host.match(Platform("linux", "x86_64"))
    assert not host.match(Platform("linux", "arm64"))
    assert host.less(Platform("linux", "amd64"), Platform("linux", "386"))
    assert not host.less(Platform("linux", "386"), Platform("linux", "amd64"))
    strict = only_strict(Platform("linux", "amd64"))
    assert not strict.match(Platform("linux", "386"))
    arm64 = only(Platform("linux", "arm64"))
    assert arm64.match(Platform("linux", "arm", "v7")) and not arm64.match(
        Platform("linux", "amd64")
    )
    assert ALL.match(Platform("plan9", "mips")) and not ALL.less(
        Platform("a", "b"), Platform("c", "d")
    )


def test_chain_id():
    a, b, c = ("sha256:" + x * 64 for x in "abc")
    ab = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    abc = "sha256:" + hashlib.sha256(f"{ab} {c}".encode()).hexdigest()
    assert chain_id([]) == ""
    assert chain_id([a]) == a
    assert chain_id([a, b, c]) == abc
    assert chain_ids([a, b, c]) == [a, ab, abc]
