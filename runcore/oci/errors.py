"""Exceptions raised by :mod:`runcore.oci`; each message is ctr's text without the ``ctr: `` prefix."""

from __future__ import annotations

from runcore.errors import UsageError


class SpecError(UsageError):
    """A spec option failed; ``str(exc)`` is the error text ctr 1.7.24 prints."""


class ValidationError(SpecError):
    """A flag value ctr rejects before any spec option runs (§4.2 step 10)."""


class EnvFileError(SpecError):
    """``--env-file`` could not be opened or scanned."""


class MountSpecError(SpecError):
    """A ``--mount`` value is not a valid CSV ``key=val`` record."""


class DeviceError(SpecError):
    """A ``--device`` path (or a host device) could not be turned into a device entry."""


class NotADeviceError(DeviceError):
    """The path is not a block, character or FIFO device (``not a device node``)."""

    def __init__(self, message: str = "not a device node") -> None:
        super().__init__(message)


class UserLookupError(SpecError):
    """A user/group lookup in the container rootfs failed.

    ctr wraps these as ``mount callback failed on <tmpdir>: <message>`` when the
    rootfs came from a temporary snapshot mount; the caller adds that prefix.
    """


class NoUsersFound(UserLookupError):
    """``no users found`` (oci.ErrNoUsersFound)."""

    def __init__(self) -> None:
        super().__init__("no users found")


class NoGroupsFound(UserLookupError):
    """``no groups found`` (oci.ErrNoGroupsFound)."""

    def __init__(self) -> None:
        super().__init__("no groups found")


class RootFSReadError(UserLookupError):
    """A file inside the rootfs exists but could not be read (Go's open/read error text)."""
