"""Classes → linux.resources.blockIO over a matrix of configurations.

Devices are made with mknod in a temporary directory (block 8:0, 8:16, a "partition"
8:1, a char device, a FIFO, a regular file, symlinks), so the expected major:minor
numbers are known; a fake /sys/block gives the I/O schedulers.
"""

import io
import os
import stat

import pytest

from runcore_blockio import classes, devices

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root")


@pytest.fixture
def dev(tmp_path):
    d = tmp_path / "dev"
    d.mkdir()
    for name, major, minor in (("sda", 8, 0), ("sdb", 8, 16), ("sda1", 8, 1), ("vdz", 254, 32)):
        os.mknod(d / name, 0o600 | stat.S_IFBLK, os.makedev(major, minor))
    os.mknod(d / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mkfifo(d / "fifo")
    (d / "file").write_text("x")
    (d / "by-id").mkdir()
    os.symlink("../sda", d / "by-id" / "disk-SSD-1")
    os.symlink("../sdb", d / "by-id" / "disk-HDD-2")
    os.symlink(str(d / "missing"), d / "dangling")
    (d / ".hidden").symlink_to("sdb")
    return d


@pytest.fixture
def sysfs(tmp_path, dev):
    base = tmp_path / "sys-block"
    for name, text in (
        ("sda", "mq-deadline kyber [bfq] none\n"),
        ("sdb", "[mq-deadline] bfq\n"),
        ("weird", "none bfq\n"),
    ):
        (base / name / "queue").mkdir(parents=True)
        (base / name / "queue" / "scheduler").write_text(text)
    return base


def load(tmp_path, text, sysfs_dir=None):
    cfg = tmp_path / "blockio.yaml"
    cfg.write_text(text)
    log = io.StringIO()
    sysfs_dir = sysfs_dir or (tmp_path / "no-sysfs")

    def resolve(patterns):  # the real resolver; scheduler keys use /dev/<name>
        found, problems = devices.configurable_block_devices(patterns)
        for d in found:
            d.dev_node = "/dev/" + os.path.basename(d.dev_node)
        return found, problems

    params = classes.set_config_from_file(str(cfg), classes.Logger(log), resolve, str(sysfs_dir))
    return params, log.getvalue()


def block_io(params, name):
    return classes.oci_block_io(params, name)


def test_weight_only_class(tmp_path):
    params, log = load(tmp_path, "Classes:\n  gold:\n    - Weight: 400\n")
    assert block_io(params, "gold") == {"weight": 400}
    assert log == ""


def test_units_on_one_device(tmp_path, dev):
    params, log = load(
        tmp_path,
        f"""
Classes:
  c:
    - Devices: [{dev}/sda]
      ThrottleReadBps: 50M
      ThrottleWriteBps: 1Mi
      ThrottleReadIOPS: 10k
      ThrottleWriteIOPS: 1500m
      Weight: "50"
""",
    )
    assert block_io(params, "c") == {
        "weightDevice": [{"major": 8, "minor": 0, "weight": 50}],
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 50_000_000}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 1 << 20}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 10_000}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 2}],
    }
    assert log == ""


def test_globs_symlinks_partitions_char_and_non_devices(tmp_path, dev):
    params, log = load(
        tmp_path,
        f"""
Classes:
  c:
    - Devices: ["{dev}/sd*", "{dev}/by-id/*SSD*", "{dev}/null", "{dev}/file", "{dev}/fifo",
                "{dev}/dangling", "{dev}/nothing*"]
      ThrottleReadBps: 1M
""",
    )
    assert block_io(params, "c") == {
        "throttleReadBpsDevice": [
            {"major": 8, "minor": 0, "rate": 1_000_000},
            {"major": 8, "minor": 16, "rate": 1_000_000},
        ]
    }
    w = f'"{dev}/sd*"'
    assert log == (
        "[ blockio ] WARN: 6 errors occurred:\n"
        f'\t* device wildcard "{dev}/nothing*" does not match any device nodes\n'
        f'\t* cannot filepath.EvalSymlinks("{dev}/dangling"): lstat {dev}/missing: no such file or directory\n'
        f'\t* skipping "{dev}/sda1": cannot weight/throttle partitions (origin: from wildcard {w})\n'
        f'\t* file "{dev}/null" is a character device\n'
        f'\t* file "{dev}/file" is not a device\n'
        f'\t* file "{dev}/fifo" is not a device\n'
        "\n"
    )


def test_origin_of_a_device_reached_twice(tmp_path, dev):
    params, log = load(
        tmp_path,
        f"""
Classes:
  c:
    - Devices: ["{dev}/sda1", "{dev}/sd[a-z]1"]
      Weight: 10
""",
    )
    assert block_io(params, "c") == {}
    assert (
        f'skipping "{dev}/sda1": cannot weight/throttle partitions '
        f'(origin: from wildcard "{dev}/sd[a-z]1")'
    ) in log


def test_dot_files_match_star_as_in_go(tmp_path, dev):
    params, _ = load(tmp_path, f"Classes:\n  c:\n    - Devices: ['{dev}/.h*']\n      Weight: 20\n")
    assert block_io(params, "c") == {"weightDevice": [{"major": 8, "minor": 16, "weight": 20}]}


def test_several_groups_and_overlapping_devices(tmp_path, dev):
    params, log = load(
        tmp_path,
        f"""
Classes:
  c:
    - Weight: 80
    - Devices: ["{dev}/sd[ab]"]
      Weight: 50
      ThrottleReadBps: 50M
    - Devices: ["{dev}/by-id/*HDD*", "{dev}/vdz"]
      Weight: 200
      ThrottleWriteIOPS: 10
    - Weight: 90
  other:
    - Devices: ["{dev}/vdz"]
      ThrottleReadIOPS: 7
""",
    )
    assert block_io(params, "c") == {
        "weight": 90,
        "weightDevice": [
            {"major": 8, "minor": 0, "weight": 50},
            {"major": 8, "minor": 16, "weight": 200},
            {"major": 254, "minor": 32, "weight": 200},
        ],
        "throttleReadBpsDevice": [
            {"major": 8, "minor": 0, "rate": 50_000_000},
            {"major": 8, "minor": 16, "rate": 50_000_000},
        ],
        "throttleWriteIOPSDevice": [
            {"major": 8, "minor": 16, "rate": 10},
            {"major": 254, "minor": 32, "rate": 10},
        ],
    }
    assert block_io(params, "other") == {
        "throttleReadIOPSDevice": [{"major": 254, "minor": 32, "rate": 7}]
    }
    assert log == ""


def test_class_with_nothing_usable_is_an_empty_object(tmp_path, dev):
    params, log = load(
        tmp_path,
        f"Classes:\n  c:\n    - Devices: ['{dev}/null']\n      Weight: 100\n  e: []\n  nul: ~\n  n: []\n",
    )
    assert block_io(params, "c") == {}
    assert block_io(params, "e") == {}
    assert block_io(params, "nul") == {}
    assert block_io(params, "false") == {}  # go-yaml v2: a plain n is the boolean false
    assert log.endswith(
        f"[ blockio ] WARN: no matches on any of Devices: [{dev}/null], parameters ignored\n"
    )


def test_empty_devices_list(tmp_path):
    params, log = load(tmp_path, "Classes:\n  c:\n    - Devices: []\n      Weight: 100\n")
    assert block_io(params, "c") == {}
    assert log == "[ blockio ] WARN: no matches on any of Devices: [], parameters ignored\n"


def test_bad_glob_is_a_warning(tmp_path, dev):
    params, log = load(
        tmp_path, f"Classes:\n  c:\n    - Devices: ['{dev}/sd[']\n      Weight: 100\n"
    )
    assert block_io(params, "c") == {}
    assert f'bad device wildcard "{dev}/sd[": syntax error in pattern' in log


def test_scheduler_warnings(tmp_path, dev, sysfs):
    params, log = load(
        tmp_path,
        f"Classes:\n  c:\n    - Devices: ['{dev}/sd?']\n      Weight: 100\n"
        f"    - Devices: ['{dev}/sdb']\n      ThrottleReadBps: 1\n",
        sysfs,
    )
    assert log == (
        f'[ blockio ] ERROR: could not parse current scheduler in "{sysfs}/weird/queue/scheduler"\n'
        '[ blockio ] WARN: weight has no effect on device "/dev/sdb" due to incompatible '
        'I/O scheduler "mq-deadline" (bfq or cfq required)\n'
    )
    assert block_io(params, "c")["weightDevice"] == [
        {"major": 8, "minor": 0, "weight": 100},
        {"major": 8, "minor": 16, "weight": 100},
    ]


def test_scheduler_parsing(sysfs):
    found, errors = devices.current_io_schedulers(str(sysfs))
    assert found == {"/dev/sda": "bfq", "/dev/sdb": "mq-deadline"}
    assert errors == [f'could not parse current scheduler in "{sysfs}/weird/queue/scheduler"']


@pytest.mark.parametrize(
    "item,errors",
    [
        ("Weight: 5", ['value of "Weight" (5) smaller than minimum (10)']),
        ("Weight: 1001", ['value of "Weight" (1001) bigger than maximum (1000)']),
        ("Weight: abc", ['syntax error in "Weight" ("abc")']),
        ("Weight: y", ['syntax error in "Weight" ("true")']),
        ("ThrottleReadBps: -1", ['value of "ThrottleReadBps" (-1) smaller than minimum (0)']),
        ("ThrottleWriteIOPS: 1x", ['syntax error in "ThrottleWriteIOPS" ("1x")']),
        (
            "ThrottleReadBps: 1M",
            ['ignoring throttling (rbps="1M" wbps="" riops="" wiops=""): Devices not listed'],
        ),
        (
            "{Weight: 1, ThrottleReadBps: q, ThrottleWriteIOPS: 5}",
            [
                'value of "Weight" (1) smaller than minimum (10)',
                'syntax error in "ThrottleReadBps" ("q")',
                'ignoring throttling (rbps="q" wbps="" riops="" wiops="5"): Devices not listed',
            ],
        ),
    ],
)
def test_validation_errors_fail_the_file(tmp_path, item, errors):
    text = f"Classes:\n  ok:\n    - Weight: 100\n  bad:\n    - {item}\n"
    with pytest.raises(classes.LoadError) as exc:
        load(tmp_path, text)
    path = tmp_path / "blockio.yaml"
    noun = "error" if len(errors) == 1 else "errors"
    listed = f"{len(errors)} {noun} occurred: " + "; ".join(errors)  # one line, unlike ctr
    assert str(exc.value) == f'failed to set configuration from file "{path}": {listed}'


def test_errors_with_devices_still_validate(tmp_path, dev):
    with pytest.raises(classes.LoadError) as exc:
        load(tmp_path, f"Classes:\n  c:\n    - Devices: ['{dev}/sda']\n      Weight: 1\n")
    assert 'value of "Weight" (1) smaller than minimum (10)' in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(classes.LoadError) as exc:
        classes.set_config_from_file(str(tmp_path / "nope.yaml"))
    assert str(exc.value) == (
        f'failed to read config file "{tmp_path}/nope.yaml": '
        f"open {tmp_path}/nope.yaml: no such file or directory"
    )


def test_unknown_class():
    with pytest.raises(KeyError) as exc:
        classes.oci_block_io({}, 'we"ird')
    assert exc.value.args[0] == 'no OCI BlockIO parameters for class "we\\"ird"'


def test_relative_patterns_resolve_relative(tmp_path, dev, monkeypatch):
    monkeypatch.chdir(dev)
    found, problems = devices.configurable_block_devices(["sd*", "by-id/*SSD*"])
    assert [(d.dev_node, d.major, d.minor) for d in found] == [("sda", 8, 0), ("sdb", 8, 16)]
    assert (
        found[0].origin
        == 'from wildcard "sd*" from symlink "by-id/disk-SSD-1" from wildcard "by-id/*SSD*"'
    )
    assert problems == [
        'skipping "sda1": cannot weight/throttle partitions (origin: from wildcard "sd*")'
    ]
