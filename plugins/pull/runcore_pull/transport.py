"""HTTP for the pull: urllib3, imported when a pull starts.

urllib3 directly, not ``requests`` on top of it: the registry protocol needs requests,
streamed bodies, redirects and TLS settings per host, all of which urllib3 has, and
``requests`` added about 15 ms of imports to every pull (``charset_normalizer``, ``idna``,
cookies) for none of them. As containerd's Go client does: a redirect is followed with the
TLS settings of the host that was asked (``Authorization`` is dropped when the host
changes), ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` are honoured, the system's CAs verify
hosts without their own ``ca``.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
from typing import Any, Dict, Iterator, Optional, Tuple
from urllib.parse import urlsplit

import urllib3

#: What a failed request raises (connection, TLS, timeout, broken body).
Error = (urllib3.exceptions.HTTPError, OSError)
MAX_REDIRECTS = 10


class TooManyRedirects(Exception):
    """More than :data:`MAX_REDIRECTS` redirects."""


class Response:
    """One answer: status, headers, the final URL and the body (streamed or read)."""

    def __init__(self, raw: Any, method: str, url: str) -> None:
        self.raw = raw
        self.method = method
        self.status_code: int = raw.status
        self.reason: str = raw.reason or ""
        self.headers: Any = raw.headers
        # urllib3 2 has .url (the last URL of a redirect chain); 1.26 has only .geturl()
        final = getattr(raw, "url", None) if hasattr(type(raw), "url") else raw.geturl()
        self.url: str = final or url
        self._body: Optional[bytes] = None

    def iter_content(self, size: int) -> Iterator[bytes]:
        """The body in blocks of up to ``size`` bytes."""
        return self.raw.stream(size)  # type: ignore[no-any-return]

    def read(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of the (rest of the) body."""
        if self.method == "HEAD":
            return b""
        return self.raw.read(limit)  # type: ignore[no-any-return]

    def json(self) -> Any:
        """The body (its first 4 MiB) as JSON; ValueError when it is not JSON."""
        if self._body is None:
            self._body = self.read(1 << 22)
        return json.loads(self._body)

    def close(self) -> None:
        """Give the connection back (closed, unless the body was read to its end)."""
        try:
            if not self.raw.isclosed():
                self.raw.close()
            self.raw.release_conn()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


class Http:
    """Connection pools: one per host with TLS settings of its own, one for the rest."""

    def __init__(self, timeout: Tuple[float, float], maxsize: int = 64) -> None:
        self.timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        self._maxsize = maxsize
        self._default = urllib3.PoolManager(num_pools=8, maxsize=maxsize)
        self._tls: Dict[str, ssl.SSLContext] = {}
        self._managers: Dict[Tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def mount_tls(self, host: str, context: ssl.SSLContext) -> None:
        """Use ``context`` for ``https://host/…`` and the redirects that start there."""
        self._tls[host] = context

    def _manager(self, scheme: str, host: str) -> Any:
        context = self._tls.get(host) if scheme == "https" else None
        proxy = _proxy_for(scheme, host)
        if context is None and not proxy:
            return self._default
        key = (host if context is not None else "", proxy)
        with self._lock:
            manager = self._managers.get(key)
            if manager is None:
                kw: Dict[str, Any] = {"num_pools": 8, "maxsize": self._maxsize}
                if context is not None:
                    kw["ssl_context"] = context
                    if context.verify_mode == ssl.CERT_NONE:
                        kw["cert_reqs"] = "CERT_NONE"
                        kw["assert_hostname"] = False
                manager = urllib3.ProxyManager(proxy, **kw) if proxy else urllib3.PoolManager(**kw)
                self._managers[key] = manager
        return manager

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Dict[str, str],
        stream: bool = False,
        body: Optional[str] = None,
    ) -> Response:
        """Send one request, following redirects; the response whatever its status."""
        parts = urlsplit(url)
        manager = self._manager(parts.scheme, parts.netloc)
        retries = urllib3.Retry(
            total=None,
            connect=0,
            read=0,
            status=0,
            other=0,
            redirect=MAX_REDIRECTS,
            raise_on_redirect=True,
            raise_on_status=False,
        )
        try:
            raw = manager.request(
                method,
                url,
                headers=headers,
                body=body,
                preload_content=False,
                decode_content=True,
                redirect=True,
                retries=retries,
                timeout=self.timeout,
            )
        except urllib3.exceptions.MaxRetryError as exc:
            if isinstance(exc.reason, urllib3.exceptions.ResponseError) and "redirect" in str(
                exc.reason
            ):
                raise TooManyRedirects(str(exc.reason)) from None
            raise
        response = Response(raw, method, url)
        if not stream and method != "HEAD":
            try:
                raw.read(cache_content=True)
            finally:
                raw.release_conn()
            response.raw = _Read(raw.data or b"")
        return response

    def close(self) -> None:
        """Close every pooled connection."""
        self._default.clear()
        for manager in self._managers.values():
            manager.clear()


class _Read:
    """A body read to its end (the read and close calls of a response)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, limit: int) -> bytes:
        data, self._data = self._data[:limit], self._data[limit:]
        return data

    def stream(self, size: int) -> Iterator[bytes]:
        while self._data:
            yield self.read(size)

    def isclosed(self) -> bool:
        return True

    def release_conn(self) -> None:
        pass


def _proxy_for(scheme: str, host: str) -> str:
    """The proxy URL the environment names for ``scheme://host`` ('' for none)."""
    if not any(k.lower() in ("http_proxy", "https_proxy", "all_proxy") for k in os.environ):
        return ""
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(scheme) or proxies.get("all") or ""
    if proxy and urllib.request.proxy_bypass(host.rsplit(":", 1)[0]):
        return ""
    return proxy
