"""What runcore tells the user when something is wrong: errors (one line each, raised
and rendered by the CLI) and warnings (one line each, printed and carried on)."""

from __future__ import annotations

import sys


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


class PluginFailed(PluginError):
    """A plugin's hook raised something other than a :class:`RuncoreError`: a bug in the
    plugin. Rendered as ``plugin 'ID' failed in HOOK: Type: message`` (exit status 1);
    ``--debug`` adds the plugin's traceback."""

    def __init__(self, plugin_id: str, hook_name: str, error: BaseException) -> None:
        text = " ".join(str(error).split())
        detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
        super().__init__(f"plugin {plugin_id!r} failed in {hook_name}: {detail}")
        self.plugin_id = plugin_id
        self.hook_name = hook_name
        self.error = error


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


def warn(message: str) -> None:
    """Print one warning line, ``runcore: warning: <message>``, on standard error.

    A closed or broken standard error is not an error: the warning is dropped.
    """
    try:
        sys.stderr.write(f"runcore: warning: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
