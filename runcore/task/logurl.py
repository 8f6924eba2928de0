"""``--log-uri`` parsing: Go's ``url.Parse`` and ``URL.String()`` as ctr applies them.

ctr passes ``--log-uri`` through ``url.Parse`` and sends ``URL.String()`` to the shim as
the task's stdout/stderr; the port of Go's algorithm lives in :mod:`runcore.gocompat.url`.
"""

from __future__ import annotations

from runcore.errors import UsageError
from runcore.gocompat import go_quote
from runcore.gocompat.url import GoURL, URLParseError, parse_url


def parse_log_uri(value: str) -> GoURL:
    """The ``--log-uri`` value parsed as ctr does; :class:`UsageError` with Go's text."""
    try:
        return parse_url(value)
    except URLParseError as exc:
        raise UsageError(str(exc)) from None


__all__ = ["GoURL", "URLParseError", "go_quote", "parse_log_uri", "parse_url"]
