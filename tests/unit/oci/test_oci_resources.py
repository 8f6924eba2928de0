"""CPU, memory, cgroup, RDT options; labels and annotations."""

import json

import pytest

from runcore.oci import (
    ValidationError,
    apply_cpu_flags,
    check_cpu_flags,
    parse_annotations,
    parse_key_values,
    parse_labels,
    to_go_json,
    with_annotations,
    with_block_io,
    with_cgroup,
    with_memory_limit,
    with_rdt,
)
from runcore.oci.resources import cpus_to_quota


def resources(spec):
    return json.loads(to_go_json(spec))["linux"]["resources"]


def test_run_default_cpu_shares(spec):
    apply_cpu_flags(spec)
    assert resources(spec)["cpu"] == {"shares": 1024}


def test_cpus(spec):
    apply_cpu_flags(spec, cpus=1.5)
    assert resources(spec)["cpu"] == {"shares": 1024, "quota": 150000, "period": 100000}
    assert b'"cpu":{"shares":1024,"quota":150000,"period":100000}' in to_go_json(spec)


@pytest.mark.parametrize(
    "cpus, quota", [(0.333333, 33333), (0.000001, 0), (2.0, 200000), (1e-9, 0)]
)
def test_cpus_truncates(cpus, quota):
    assert cpus_to_quota(cpus) == quota


def test_cpus_huge_value_like_go():
    assert cpus_to_quota(float("inf")) == -(1 << 63)


def test_cpu_period_alone(spec):
    apply_cpu_flags(spec, shares=0, period=50000)
    assert resources(spec)["cpu"] == {"quota": -1, "period": 50000}


def test_cpu_quota_zero_kept(spec):
    apply_cpu_flags(spec, shares=0, quota=0)
    assert resources(spec)["cpu"] == {"quota": 0, "period": 0}


def test_no_shares(spec):
    apply_cpu_flags(spec, shares=0)
    apply_cpu_flags(spec, shares=-5)
    assert "cpu" not in resources(spec)


@pytest.mark.parametrize("quota, period", [(5000, 0), (-1, 10000), (0, 0)])
def test_cpus_conflict(spec, quota, period):
    with pytest.raises(ValidationError) as exc:
        apply_cpu_flags(spec, cpus=1.0, quota=quota, period=period)
    assert str(exc.value) == "cpus and quota/period should be used separately"
    assert "cpu" not in spec["linux"]["resources"]
    with pytest.raises(ValidationError):
        check_cpu_flags(1.0, quota, period)


def test_memory_limit(spec):
    with_memory_limit(spec, 123456)
    assert resources(spec)["memory"] == {"limit": 123456}
    with_memory_limit(spec, 1 << 63)
    assert resources(spec)["memory"] == {"limit": -(1 << 63)}


def test_memory_limit_without_linux_is_noop():
    s = {}
    with_memory_limit(s, 5)
    assert s == {}


def test_cgroup_empty_disappears(spec):
    with_cgroup(spec, "")
    assert b"cgroupsPath" not in to_go_json(spec)
    with_cgroup(spec, "machine.slice:foo:bar")
    assert b'"cgroupsPath":"machine.slice:foo:bar"' in to_go_json(spec)


def test_rdt(spec):
    with_rdt(spec, "gold")
    raw = to_go_json(spec)
    assert raw.endswith(
        b'"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"],"intelRdt":{"closID":"gold"}}}'
    )


def test_block_io_order(spec):
    with_block_io(
        spec,
        {
            "throttleWriteIOPSDevice": [{"major": 254, "minor": 0, "rate": 10000}],
            "weightDevice": [{"major": 254, "minor": 0, "weight": 50}],
            "weight": 80,
        },
    )
    assert (
        b'"blockIO":{"weight":80,"weightDevice":[{"major":254,"minor":0,"weight":50}],'
        b'"throttleWriteIOPSDevice":[{"major":254,"minor":0,"rate":10000}]}'
    ) in to_go_json(spec)
    with_block_io(spec, {})
    assert b'"blockIO":{}' in to_go_json(spec)


def test_labels():
    assert parse_labels(["a=b", "flag", "x=y=z", "a=c", "=v"]) == {
        "a": "c",
        "flag": "true",
        "x": "y=z",
        "": "v",
    }
    assert parse_key_values(["k"], default="") == {"k": ""}


def test_annotations():
    assert parse_annotations(["k=v", "a=b=c", "e="]) == {"k": "v", "a": "b=c", "e": ""}
    with pytest.raises(ValidationError) as exc:
        parse_annotations(["k=v", "novalue"])
    assert str(exc.value) == "invalid key=value format annotation: novalue"


def test_labels_override_annotations(spec):
    with_annotations(spec, parse_annotations(["z=0", "a=b=c"]))
    with_annotations(spec, parse_labels(["z=1", "l2"]))
    assert b'"annotations":{"a":"b=c","l2":"true","z":"1"},"linux"' in to_go_json(spec)


def test_empty_annotations_omitted(spec):
    with_annotations(spec, {})
    assert spec["annotations"] == {}
    assert b"annotations" not in to_go_json(spec)
