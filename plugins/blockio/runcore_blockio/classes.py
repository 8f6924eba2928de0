"""Classes → block IO parameters, as goresctrl v0.3.0's ``SetConfigFromFile(path, false)``.

For every class the items are processed in order with weight -1 (unset) and empty
device lists. Quantities are validated (Weight 10..1000, throttles >= 0); an item without
``Devices`` sets the class weight and may not throttle; an item with ``Devices`` updates
each resolved device's entry (same major:minor overwritten by later items). Any
validation error of a class fails the whole file (``force=false``). Device matching
problems are only logged, as warnings on stderr prefixed ``[ blockio ] WARN: ``.

Deliberate difference: goresctrl walks classes and devices in Go map order (random);
here the order is the file's and the patterns' (documented in docs/ctr-differences.md).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, TextIO, Tuple

from . import _go, config, devices, quantity

LOG_PREFIX = "[ blockio ] "


@dataclass
class Parameters:
    """cgroups.BlockIOParameters of one class (weights and rates keyed by major:minor)."""

    weight: int = -1
    weight_device: List[Tuple[int, int, int]] = field(default_factory=list)
    throttle_read_bps: List[Tuple[int, int, int]] = field(default_factory=list)
    throttle_write_bps: List[Tuple[int, int, int]] = field(default_factory=list)
    throttle_read_iops: List[Tuple[int, int, int]] = field(default_factory=list)
    throttle_write_iops: List[Tuple[int, int, int]] = field(default_factory=list)


def _update(entries: List[Tuple[int, int, int]], major: int, minor: int, value: int) -> None:
    for i, (ma, mi, _v) in enumerate(entries):
        if ma == major and mi == minor:
            entries[i] = (major, minor, value)
            return
    entries.append((major, minor, value))


class Logger:
    """goresctrl's default logger: ``log.New(os.Stderr, "[ blockio ] ", 0)``."""

    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = stream

    def _print(self, level: str, text: str) -> None:
        line = f"{LOG_PREFIX}{level}: {text}"
        if not line.endswith("\n"):
            line += "\n"
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(line)
        stream.flush()

    def warn(self, text: str) -> None:
        self._print("WARN", text)

    def error(self, text: str) -> None:
        self._print("ERROR", text)


def parse_and_validate(
    field_name: str, content: str, minimum: int, maximum: int
) -> Tuple[int, Optional[str]]:
    """(value, error) of one quantity field; -1 when empty or wrong."""
    if content == "":
        return -1, None
    try:
        value = quantity.parse(content)
    except quantity.QuantityError:
        return -1, f"syntax error in {_go.quote(field_name)} ({_go.quote(content)})"
    if minimum != -1 and minimum > value:
        return -1, f"value of {_go.quote(field_name)} ({value}) smaller than minimum ({minimum})"
    if maximum != -1 and value > maximum:
        return -1, f"value of {_go.quote(field_name)} ({value}) bigger than maximum ({maximum})"
    return value, None


DeviceResolver = Callable[[List[str]], Tuple[List[devices.BlockDevice], List[str]]]


def class_parameters(
    items: List[config.DevicesParameters],
    schedulers: Dict[str, str],
    log: Logger,
    resolve: DeviceResolver = devices.configurable_block_devices,
) -> Tuple[Parameters, List[str]]:
    """devicesParametersToCgBlockIO: the parameters of one class and its errors."""
    errors: List[str] = []
    params = Parameters()
    for item in items:
        values = {}
        for name, attr, lo, hi in (
            ("Weight", "weight", 10, 1000),
            ("ThrottleReadBps", "throttle_read_bps", 0, -1),
            ("ThrottleWriteBps", "throttle_write_bps", 0, -1),
            ("ThrottleReadIOPS", "throttle_read_iops", 0, -1),
            ("ThrottleWriteIOPS", "throttle_write_iops", 0, -1),
        ):
            value, err = parse_and_validate(name, getattr(item, attr), lo, hi)
            if err:
                errors.append(err)
            values[attr] = value
        weight = values["weight"]
        throttles = [
            values[a]
            for a in (
                "throttle_read_bps",
                "throttle_write_bps",
                "throttle_read_iops",
                "throttle_write_iops",
            )
        ]
        if item.devices is None:
            if weight > -1:
                params.weight = weight
            if any(t > -1 for t in throttles):
                errors.append(
                    "ignoring throttling (rbps={} wbps={} riops={} wiops={}): Devices not listed".format(
                        _go.quote(item.throttle_read_bps),
                        _go.quote(item.throttle_write_bps),
                        _go.quote(item.throttle_read_iops),
                        _go.quote(item.throttle_write_iops),
                    )
                )
            continue
        found, problems = resolve(item.devices)
        if problems:
            log.warn(_go.multierror(problems))
        if not found:
            log.warn(
                f"no matches on any of Devices: {_go.slice_v(item.devices)}, parameters ignored"
            )
        for dev in found:
            if weight != -1:
                current = schedulers.get(dev.dev_node)
                if current is not None and current not in ("bfq", "cfq"):
                    log.warn(
                        f"weight has no effect on device {_go.quote(dev.dev_node)} due to "
                        f"incompatible I/O scheduler {_go.quote(current)} (bfq or cfq required)"
                    )
                _update(params.weight_device, dev.major, dev.minor, weight)
            for attr, value in zip(
                (
                    "throttle_read_bps",
                    "throttle_write_bps",
                    "throttle_read_iops",
                    "throttle_write_iops",
                ),
                throttles,
            ):
                if value != -1:
                    _update(getattr(params, attr), dev.major, dev.minor, value)
    return params, errors


class LoadError(ValueError):
    """SetConfigFromFile failed; the message is goresctrl's."""


def set_config(
    classes: Optional[config.Classes],
    log: Logger,
    resolve: DeviceResolver = devices.configurable_block_devices,
    sysfs_block: str = "/sys/block",
) -> Dict[str, Parameters]:
    """SetConfig(config, force=false): the parameters of every class."""
    if classes is None:
        return {}
    schedulers, sched_errors = devices.current_io_schedulers(sysfs_block)
    for problem in sched_errors:
        log.error(problem + "\n")
    out: Dict[str, Parameters] = {}
    for name, items in classes:
        params, errors = class_parameters(items, schedulers, log, resolve)
        if errors:
            raise LoadError(_go.multierror_line(errors))
        out[name] = params
    return out


def set_config_from_file(
    path: str,
    log: Optional[Logger] = None,
    resolve: DeviceResolver = devices.configurable_block_devices,
    sysfs_block: str = "/sys/block",
) -> Dict[str, Parameters]:
    """SetConfigFromFile(path, false) → class name → parameters; :class:`LoadError`."""
    log = log or Logger()
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise LoadError(
            f"failed to read config file {_go.quote(path)}: {_go.path_error('open', path, exc)}"
        ) from None
    try:
        classes = config.parse(data)
        return set_config(classes, log, resolve, sysfs_block)
    except (config.ConfigError, LoadError) as exc:
        raise LoadError(f"failed to set configuration from file {_go.quote(path)}: {exc}") from None


def oci_block_io(params: Dict[str, Parameters], class_name: str) -> Dict[str, object]:
    """OciLinuxBlockIO(class): the ``linux.resources.blockIO`` object (runtime-spec JSON)."""
    if class_name not in params:
        raise KeyError(f"no OCI BlockIO parameters for class {_go.quote(class_name)}")
    p = params[class_name]
    out: Dict[str, object] = {}
    if p.weight != -1:
        out["weight"] = p.weight & 0xFFFF
    if p.weight_device:
        out["weightDevice"] = [
            {"major": ma, "minor": mi, "weight": w & 0xFFFF} for ma, mi, w in p.weight_device
        ]
    for key, entries in (
        ("throttleReadBpsDevice", p.throttle_read_bps),
        ("throttleWriteBpsDevice", p.throttle_write_bps),
        ("throttleReadIOPSDevice", p.throttle_read_iops),
        ("throttleWriteIOPSDevice", p.throttle_write_iops),
    ):
        if entries:
            out[key] = [
                {"major": ma, "minor": mi, "rate": rate % (1 << 64)} for ma, mi, rate in entries
            ]
    return out
