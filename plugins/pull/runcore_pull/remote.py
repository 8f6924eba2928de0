"""The OCI distribution protocol for pulling, over urllib3 (:mod:`.transport`).

Requests follow ``ctr images pull``: ``HEAD …/manifests/<tag|digest>`` to resolve (a 405
retried as ``GET``), then ``GET …/manifests/<digest>`` for indexes and manifests and
``GET …/blobs/<digest>`` for the rest; no ``/v2/`` ping (authentication starts from the
first 401, see :mod:`.auth`); ``Accept`` headers as containerd sends them; ``?ns=<host>``
on requests to a mirror. Redirects are followed, dropping ``Authorization`` when the host
changes. A body that breaks off is reopened from where it stopped with ``Range``.
HTTP errors become one line (``not found``, ``unauthorized``, ``denied``,
``toomanyrequests`` with the ``Retry-After`` the registry sent).
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote

from runcore.api import ImageError, NotFound, __version__

from . import hosts as hostsmod
from .auth import Authorizer, _short
from .credentials import Credentials
from .names import RemoteRef

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
MT_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
SCHEMA1 = (MT_SCHEMA1, MT_SCHEMA1_SIGNED)
MANIFEST_TYPES = (MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_OCI_INDEX) + SCHEMA1
RESOLVE_ACCEPT = ", ".join(
    [MT_DOCKER_MANIFEST, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_OCI_INDEX, "*/*"]
)
#: containerd's MaxManifestSize (4 * 1048 * 1048 bytes).
MAX_MANIFEST = 4 * 1048 * 1048
CHUNK = 1 << 20
USER_AGENT = f"runcore/{__version__}"
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


class RemoteError(ImageError):
    """A registry answered with an error (one line)."""


def error_text(resp: Any) -> str:
    """``<code>: <message>`` from a registry error body, else the status line."""
    status = f"{resp.status_code} {resp.reason or ''}".strip()
    try:
        body = resp.read(65536)
    except Exception:  # noqa: BLE001 - a broken body only loses the detail
        body = b""
    texts = []
    try:
        doc = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("errors"), list):
        for err in doc["errors"][:5]:
            if isinstance(err, dict):
                code = str(err.get("code") or "UNKNOWN").lower().replace("_", " ")
                msg = err.get("message")
                texts.append(f"{code}: {msg}" if isinstance(msg, str) and msg else code)
    text = "; ".join(t.replace("\n", " ")[:300] for t in texts) or status
    if resp.status_code == 429:
        retry = resp.headers.get("Retry-After", "")
        if "toomanyrequests" not in text:
            text = f"toomanyrequests: {text}"
        if retry:
            text += f" (retry after {retry[:40]}{'s' if retry.isdigit() else ''})"
    elif resp.status_code == 403 and "denied" not in text:
        text = f"denied: {text}"
    elif resp.status_code == 401 and "unauthorized" not in text:
        text = f"unauthorized: {text}"
    return text


class Remote:
    """One repository on a registry: resolve the reference, open blobs."""

    def __init__(
        self,
        ref: RemoteRef,
        endpoints: List[hostsmod.Endpoint],
        credentials: Callable[[str], Optional[Credentials]],
        timeout: Tuple[float, float] = (30.0, 60.0),
    ) -> None:
        from .transport import Http

        self.ref = ref
        self.endpoints = endpoints
        self.http = Http(timeout)
        for ep in endpoints:
            if ep.scheme == "https":
                self._configure_tls(ep)
        self.auth = Authorizer(
            f"repository:{ref.repository}:pull", credentials, self.http, USER_AGENT
        )

    def _configure_tls(self, ep: hostsmod.Endpoint) -> None:
        verify, clients = hostsmod.tls_material(ep)
        if verify is False:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context()
            for ca in verify if isinstance(verify, list) else []:
                try:
                    ctx.load_verify_locations(cafile=ca)
                except (OSError, ssl.SSLError) as exc:
                    raise ImageError(
                        f"ca {ca}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
                    ) from None
        for cert, key in clients:
            try:
                ctx.load_cert_chain(cert, key or None)
            except (OSError, ssl.SSLError) as exc:
                raise ImageError(f"client certificate {cert}: {exc}") from None
        self.http.mount_tls(ep.host, ctx)

    # ----------------------------------------------------------------- requests

    def _url(self, ep: hostsmod.Endpoint, path: str) -> str:
        url = f"{ep.base}/{self.ref.repository}/{path}"
        if ep.mirror:
            url += "?ns=" + quote(self.ref.host, safe="")
        return url

    def request(
        self,
        method: str,
        ep: hostsmod.Endpoint,
        path: str,
        *,
        accept: str,
        offset: int = 0,
        stream: bool = False,
        url: str = "",
    ) -> Any:
        """One request with auth retries (at most 5); the response whatever its status."""
        from .transport import Error, TooManyRedirects

        url = url or self._url(ep, path)
        retried = False
        for _ in range(6):
            headers = {"User-Agent": USER_AGENT, "Accept": accept}
            for k, values in ep.headers.items():
                headers[k] = ", ".join(values)
            if offset:
                headers["Range"] = f"bytes={offset}-"
            auth = self.auth.header(ep.host)
            if auth:
                headers["Authorization"] = auth
            try:
                resp = self.http.request(method, url, headers=headers, stream=stream)
            except TooManyRedirects:
                raise RemoteError(f"{method} {url}: stopped after 10 redirects") from None
            except Error as exc:
                raise _Transport(f"{method} {url}: {_short(exc)}") from None
            if resp.status_code == 401:
                challenge = resp.headers.get("WWW-Authenticate", "")
                if challenge and self.auth.challenge(ep.host, challenge, retried or bool(auth)):
                    resp.close()
                    retried = bool(auth)
                    continue
            return resp
        return resp

    # ----------------------------------------------------------------- resolve

    def resolve(self) -> Dict[str, Any]:
        """The descriptor ``{mediaType, digest, size}`` the reference names."""
        ref = self.ref
        if ref.digest:
            paths = [f"manifests/{ref.digest}", f"blobs/{ref.digest}"]
            eps = [e for e in self.endpoints if e.can("pull")]
        else:
            paths = [f"manifests/{ref.tag}"]
            eps = [e for e in self.endpoints if e.can("pull", "resolve")]
        if not eps:
            raise NotFound(f'failed to resolve reference "{ref.name}": no resolve hosts: not found')
        first_error: Optional[str] = None
        for path in paths:
            for ep in eps:
                try:
                    resp = self.request("HEAD", ep, path, accept=RESOLVE_ACCEPT)
                    if resp.status_code == 405 and path.startswith("manifests/"):
                        resp = self.request("GET", ep, path, accept=RESOLVE_ACCEPT, stream=True)
                except _Transport as exc:
                    first_error = first_error or str(exc)
                    continue
                try:
                    if resp.status_code == 404:
                        continue
                    if resp.status_code >= 400:
                        if resp.method == "HEAD":  # a HEAD has no body: GET the message
                            resp.close()
                            resp = self.request("GET", ep, path, accept=RESOLVE_ACCEPT, stream=True)
                        first_error = (
                            first_error or f"{error_text(resp)} ({resp.method} {resp.url})"
                        )
                        continue
                    if resp.status_code >= 300:
                        raise RemoteError(
                            f'failed to resolve reference "{ref.name}": unexpected '
                            f"redirect status {resp.status_code} from {resp.url}"
                        )
                    return self._descriptor(ep, path, resp)
                finally:
                    resp.close()
        if first_error:
            raise RemoteError(f'failed to resolve reference "{ref.name}": {first_error}')
        raise NotFound(f'failed to resolve reference "{ref.name}": {ref.name}: not found')

    def _descriptor(self, ep: hostsmod.Endpoint, path: str, resp: Any) -> Dict[str, Any]:
        ref = self.ref
        media_type = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if media_type == "text/plain":
            media_type = MT_SCHEMA1
        if media_type in SCHEMA1:
            raise ImageError(
                f'failed to resolve reference "{ref.name}": schema 1 manifests '
                f"({media_type}) are not supported; push the image again with a "
                "current client"
            )
        digest = ref.digest
        header = resp.headers.get("Docker-Content-Digest", "")
        try:
            size = int(resp.headers.get("Content-Length", ""))
        except ValueError:
            size = -1
        if not digest and header and size >= 0:
            if not _DIGEST.match(header):
                raise RemoteError(
                    f'failed to resolve reference "{ref.name}": "{header[:100]}" in '
                    "header not a valid digest"
                )
            digest = header
        if not digest or size < 0:
            get = self.request("GET", ep, path, accept=RESOLVE_ACCEPT, stream=True)
            try:
                if get.status_code >= 400:
                    raise RemoteError(
                        f'failed to resolve reference "{ref.name}": {error_text(get)}'
                    )
                body = b""
                for block in get.iter_content(CHUNK):
                    body += block
                    if len(body) > MAX_MANIFEST:
                        break
            except ImportError:  # pragma: no cover
                raise
            except Exception as exc:  # noqa: BLE001 - urllib3's body errors
                if isinstance(exc, ImageError):
                    raise
                raise RemoteError(
                    f'failed to resolve reference "{ref.name}": {_short(exc)}'
                ) from None
            finally:
                get.close()
            size = len(body)
            if not digest:
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if size > MAX_MANIFEST:
            raise RemoteError(
                f'failed to resolve reference "{ref.name}": rejecting {size} byte '
                f"manifest for {ref.name}: not found"
            )
        if not media_type:
            raise RemoteError(
                f'failed to resolve reference "{ref.name}": the registry gave no '
                "Content-Type for the manifest"
            )
        return {"mediaType": media_type, "digest": digest, "size": size}

    # ----------------------------------------------------------------- fetch

    def open_blob(self, desc: Dict[str, Any], offset: int = 0) -> Iterator[bytes]:
        """The bytes of ``desc`` from ``offset`` on (reopened with Range if a body breaks off)."""
        media_type = desc.get("mediaType", "")
        kind = "manifests" if media_type in MANIFEST_TYPES else "blobs"
        digest = desc["digest"]
        accept = f"{media_type}, */*" if media_type else "*/*"
        path = f"{kind}/{digest}"
        eps = [e for e in self.endpoints if e.can("pull")]
        if not eps:
            raise NotFound(f"{digest}: no pull hosts: not found")
        tries = 0
        position = offset
        while True:
            resp = self._open(eps, path, digest, media_type, accept, position)
            progressed = False
            try:
                for block in resp.iter_content(CHUNK):
                    if block:
                        progressed = True
                        position += len(block)
                        yield block
                return
            except Exception as exc:  # noqa: BLE001 - urllib3 body errors
                from .transport import Error

                if not isinstance(exc, Error):
                    raise
                tries = 0 if progressed else tries + 1
                if tries > 3:
                    raise RemoteError(f"fetching {digest}: {_short(exc)}") from None
            finally:
                resp.close()

    def _open(
        self,
        eps: List[hostsmod.Endpoint],
        path: str,
        digest: str,
        media_type: str,
        accept: str,
        offset: int,
    ) -> Any:
        first_error: Optional[str] = None
        for ep in eps:
            try:
                resp = self.request("GET", ep, path, accept=accept, offset=offset, stream=True)
            except _Transport as exc:
                first_error = first_error or str(exc)
                continue
            if resp.status_code == 404:
                resp.close()
                continue
            if resp.status_code >= 300:
                first_error = first_error or f"{error_text(resp)} (GET {resp.url})"
                resp.close()
                continue
            if offset:
                content_range = resp.headers.get("Content-Range", "")
                if resp.status_code == 206:
                    if not content_range.startswith(f"bytes {offset}-"):
                        resp.close()
                        raise RemoteError(
                            f"fetching {digest}: unhandled content range in response: "
                            f"{content_range[:100]}"
                        )
                else:  # the server ignored Range: skip what we have
                    left = offset
                    it = resp.iter_content(CHUNK)
                    skipped = b""
                    while left > 0:
                        block = next(it, b"")
                        if not block:
                            resp.close()
                            raise RemoteError(
                                f"fetching {digest}: body shorter than {offset} bytes"
                            )
                        if len(block) > left:
                            skipped = block[left:]
                            break
                        left -= len(block)
                    return _Prefixed(resp, skipped, it)
            return resp
        if first_error:
            raise RemoteError(first_error)
        raise NotFound(
            f"could not fetch content descriptor {digest} ({media_type}) from remote: not found"
        )

    def ping(self) -> None:
        """``GET /v2/`` on the registry's own endpoint, authenticating if asked (login)."""
        own = [e for e in self.endpoints if not e.mirror]
        ep = own[0] if own else self.endpoints[-1]
        try:
            resp = self.request("GET", ep, "", accept="*/*", url=ep.base + "/")
        except _Transport as exc:
            raise RemoteError(str(exc)) from None
        try:
            if resp.status_code >= 300:
                raise RemoteError(f"login to {ep.host} failed: {error_text(resp)}")
        finally:
            resp.close()

    def close(self) -> None:
        self.http.close()


class _Transport(RemoteError):
    """The request did not get an answer (connection refused, TLS, timeout)."""


class _Prefixed:
    """A response whose first bytes were already read (Range ignored by the server)."""

    def __init__(self, resp: Any, head: bytes, rest: Iterator[bytes]) -> None:
        self._resp, self._head, self._rest = resp, head, rest

    def iter_content(self, _size: int) -> Iterator[bytes]:
        if self._head:
            yield self._head
        yield from self._rest

    def close(self) -> None:
        self._resp.close()
