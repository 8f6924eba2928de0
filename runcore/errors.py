"""Errors a user can cause, each rendered as one line by the CLI."""
from __future__ import annotations


class RuncoreError(Exception):
    """Base class: the CLI prints ``runcore: <message>`` and exits with :attr:`exit_code`."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(RuncoreError):
    """A bad flag value, a conflicting pair of flags, a missing file named on the command line."""


class PluginError(RuncoreError):
    """A plugin could not be loaded, or two plugins disagree (same flag, same spec field)."""


class SpecConflict(PluginError):
    """Two plugins wrote the same scalar field of the OCI spec."""


class ContainerdError(RuncoreError):
    """containerd answered with an error (wrapped gRPC status)."""


class NotFound(ContainerdError):
    pass


class AlreadyExists(ContainerdError):
    pass


class FailedPrecondition(ContainerdError):
    pass


class Unavailable(ContainerdError):
    """containerd is not reachable at the address tried."""


class ImageError(RuncoreError):
    """An image archive is corrupt, truncated or inconsistent."""


class ExitStatus(Exception):
    """Not an error: the container exited with ``code`` and runcore exits the same way."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
