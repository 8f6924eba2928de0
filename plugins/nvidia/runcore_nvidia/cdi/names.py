"""Qualified CDI device names: ``<vendor>/<class>=<name>`` and their syntax checks."""

from __future__ import annotations

from typing import Tuple


class NameError_(ValueError):
    pass


def _letter(c: str) -> bool:
    return ("A" <= c <= "Z") or ("a" <= c <= "z")


def _alnum(c: str) -> bool:
    return _letter(c) or ("0" <= c <= "9")


def parse_qualifier(kind: str) -> Tuple[str, str]:
    """``vendor.com/class`` → (vendor, class); ("", kind) when it is not one."""
    vendor, sep, cls = kind.partition("/")
    if not sep or not vendor or not cls:
        return "", kind
    return vendor, cls


def parse_device(device: str) -> Tuple[str, str, str]:
    """Split a device name; ("", "", device) when it is not qualified."""
    if device == "" or device[0] == "/":
        return "", "", device
    qualifier, sep, name = device.partition("=")
    if not sep or not qualifier or not name:
        return "", "", device
    vendor, cls = parse_qualifier(qualifier)
    if vendor == "":
        return "", "", device
    return vendor, cls, name


def _vendor_or_class(name: str) -> None:
    if name == "":
        raise NameError_("empty name")
    if not _letter(name[0]):
        raise NameError_(f'"{name}", should start with letter')
    if len(name) == 1:
        return
    for c in name[1:-1]:
        if not (_alnum(c) or c in "_-."):
            raise NameError_(f"invalid character '{c}' in name \"{name}\"")
    if not _alnum(name[-1]):
        raise NameError_(f'"{name}", should end with a letter or digit')


def validate_vendor(vendor: str) -> None:
    try:
        _vendor_or_class(vendor)
    except NameError_ as exc:
        raise NameError_(f"invalid vendor. {exc}") from None


def validate_class(cls: str) -> None:
    try:
        _vendor_or_class(cls)
    except NameError_ as exc:
        raise NameError_(f"invalid class. {exc}") from None


def validate_device_name(name: str) -> None:
    if name == "":
        raise NameError_("invalid (empty) device name")
    if not _alnum(name[0]):
        raise NameError_(f'invalid name "{name}", should start with a letter or digit')
    if len(name) == 1:
        return
    for c in name[1:-1]:
        if not (_alnum(c) or c in "_-.:"):
            raise NameError_(f"invalid character '{c}' in device name \"{name}\"")
    if not _alnum(name[-1]):
        raise NameError_(f'invalid name "{name}", should end with a letter or digit')


def parse_qualified(device: str) -> Tuple[str, str, str]:
    """(vendor, class, name) of a valid qualified name; :class:`NameError_` otherwise."""
    vendor, cls, name = parse_device(device)
    if vendor == "":
        raise NameError_(f'unqualified device "{device}", missing vendor')
    for check, value in (
        (validate_vendor, vendor),
        (validate_class, cls),
        (validate_device_name, name),
    ):
        try:
            check(value)
        except NameError_ as exc:
            raise NameError_(f'invalid device "{device}": {exc}') from None
    return vendor, cls, name


def is_qualified(device: str) -> bool:
    try:
        parse_qualified(device)
    except NameError_:
        return False
    return True


def qualified(vendor: str, cls: str, name: str) -> str:
    return f"{vendor}/{cls}={name}"
