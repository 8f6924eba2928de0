"""Registry authentication as containerd's docker authorizer does it.

The first 401 of a host decides: ``WWW-Authenticate: Bearer realm=…,service=…,scope=…``
makes a token handler (tokens fetched from the realm for the sorted union of the pull
scope and the challenge's scopes, cached for the run), ``Basic realm=…`` sends
``user:password``. Nothing is sent before a registry asks (no ``/v2/`` ping).

Token requests: with a secret, first the OAuth ``POST`` (``grant_type=password``, or
``refresh_token`` for an identity token); a 400/401/404 (or 405 with a user name) falls
back to ``GET <realm>?scope=…&service=…`` with Basic auth. Anonymous: the ``GET`` alone.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from runcore.api import ImageError

from .credentials import Credentials

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf'\s*({_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))\s*')


@dataclass
class Challenge:
    scheme: str  # lower case: "bearer", "basic", ...
    params: Dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> List[Challenge]:
    """Parse a (possibly comma-joined) ``WWW-Authenticate`` value; bearer first, then basic."""
    out: List[Challenge] = []
    pos, n = 0, len(header)
    while pos < n:
        m = re.compile(rf"[\s,]*({_TOKEN})").match(header, pos)
        if not m:
            break
        scheme, pos = m.group(1).lower(), m.end()
        ch = Challenge(scheme)
        while pos < n:
            pm = _PARAM.match(header, pos)
            if not pm:
                break
            value = pm.group(2)
            value = re.sub(r"\\(.)", r"\1", value) if value is not None else pm.group(3)
            ch.params[pm.group(1).lower()] = value
            pos = pm.end()
            if pos < n and header[pos] == ",":
                nxt = re.compile(rf",\s*({_TOKEN})\s*(=?)").match(header, pos)
                if nxt and not nxt.group(2):
                    break  # a new challenge follows
                pos += 1
        out.append(ch)
    order = {"bearer": 0, "digest": 1, "basic": 2}
    return sorted(
        (c for c in out if c.scheme in ("bearer", "basic")), key=lambda c: order[c.scheme]
    )


def _fail(message: str) -> ImageError:
    return ImageError(message)


@dataclass
class _Handler:
    scheme: str
    realm: str = ""
    service: str = ""
    scopes: Tuple[str, ...] = ()
    tokens: Dict[str, str] = field(default_factory=dict)


class Authorizer:
    """Per-host auth state for one pull (thread-safe)."""

    def __init__(
        self,
        scope: str,
        credentials: Callable[[str], Optional[Credentials]],
        http: Any,
        user_agent: str,
    ) -> None:
        self.scope = scope
        self.credentials = credentials
        self.http = http
        self.user_agent = user_agent
        self._handlers: Dict[str, _Handler] = {}
        self._lock = threading.Lock()
        self._creds: Dict[str, Optional[Credentials]] = {}

    def _creds_for(self, host: str) -> Optional[Credentials]:
        if host not in self._creds:
            self._creds[host] = self.credentials(host)
        return self._creds[host]

    def header(self, host: str) -> Optional[str]:
        """The ``Authorization`` value for a request to ``host`` (None before any challenge)."""
        with self._lock:
            h = self._handlers.get(host)
            if h is None:
                return None
            if h.scheme == "basic":
                c = self._creds_for(host)
                if c is None:
                    return None
                return "Basic " + base64.b64encode(f"{c.username}:{c.secret}".encode()).decode()
            key = " ".join(h.scopes)
            token = h.tokens.get(key)
            if token is None:
                token = self._fetch_token(host, h)
                h.tokens[key] = token
            return f"Bearer {token}"

    def challenge(self, host: str, www_authenticate: str, retried: bool) -> bool:
        """React to a 401 from ``host``; True when the request should be retried.

        ``retried``: this request already got a 401 after authenticating once.
        """
        challenges = parse_challenges(www_authenticate)
        with self._lock:
            for ch in challenges:
                if ch.scheme == "bearer":
                    error = ch.params.get("error", "")
                    current = self._handlers.get(host)
                    if retried:
                        if error:
                            raise _fail(
                                f"pull access denied, repository does not exist or may require "
                                f"authorization: server message: {error}: authorization failed"
                            )
                        return False
                    realm = ch.params.get("realm", "")
                    parts = urlsplit(realm) if realm else None
                    if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
                        raise _fail("no realm specified for token auth challenge")
                    scopes = {self.scope} | set(ch.params.get("scope", "").split())
                    scopes.discard("")
                    if current is None or current.scheme != "bearer" or error:
                        self._handlers[host] = _Handler(
                            "bearer", realm, ch.params.get("service", ""), tuple(sorted(scopes))
                        )
                    else:
                        current.scopes = tuple(sorted(set(current.scopes) | scopes))
                    return True
                if ch.scheme == "basic":
                    if self._creds_for(host) is None:
                        raise _fail(
                            "pull access denied, repository does not exist or may require "
                            "authorization: authorization failed: no basic auth credentials"
                        )
                    if retried:
                        return False
                    self._handlers[host] = _Handler("basic")
                    return True
        return False

    # ----------------------------------------------------------------- tokens

    def _fetch_token(self, host: str, h: _Handler) -> str:
        creds = self._creds_for(host)
        headers = {"User-Agent": self.user_agent}
        if creds is not None and creds.secret:
            form = {"client_id": "containerd-client"}
            if creds.username:
                form.update(grant_type="password", username=creds.username, password=creds.secret)
            else:
                form.update(grant_type="refresh_token", refresh_token=creds.secret)
            if h.scopes:
                form["scope"] = " ".join(h.scopes)
            if h.service:
                form["service"] = h.service
            resp = self._call(
                "POST",
                h.realm,
                headers=dict(
                    headers, **{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
                ),
                body=urlencode(sorted(form.items())),
            )
            status = resp.status_code
            if 200 <= status < 400:
                token = _token_from(resp, "access_token")
                if token:
                    return token
                raise _fail(f"token server {h.realm} did not include an access_token in its answer")
            if not (status in (400, 401, 404) or (status == 405 and creds.username)):
                raise _fail(
                    f"failed to fetch oauth token: unexpected status from POST request to "
                    f"{h.realm}: {_status_line(resp)}"
                )
        query = [("scope", s) for s in h.scopes]
        if h.service:
            query.append(("service", h.service))
        parts = urlsplit(h.realm)
        sep = "&" if parts.query else "?"
        url = h.realm + (sep + urlencode(sorted(query)) if query else "")
        if creds is not None and creds.username:
            headers["Authorization"] = (
                "Basic " + base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode()
            )
        resp = self._call("GET", url, headers=headers)
        if not 200 <= resp.status_code < 400:
            kind = "anonymous token" if creds is None else "token"
            raise _fail(
                f"unauthorized: failed to fetch {kind}: unexpected status from GET request to "
                f"{h.realm}: {_status_line(resp)}"
            )
        token = _token_from(resp, "access_token") or _token_from(resp, "token")
        if not token:
            raise _fail(f"authorization server {h.realm} did not include a token in the response")
        return token

    def _call(self, method: str, url: str, **kw: Any) -> Any:
        from .transport import Error, TooManyRedirects

        try:
            return self.http.request(method, url, **kw)
        except (TooManyRedirects, *Error) as exc:
            raise _fail(f"token request to {url.split('?', 1)[0]}: {_short(exc)}") from None


def _token_from(resp: Any, key: str) -> str:
    try:
        doc = resp.json()
    except ValueError:
        return ""
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, str) else ""


def _status_line(resp: Any) -> str:
    return f"{resp.status_code} {resp.reason or ''}".strip()


def _short(exc: BaseException) -> str:
    """One line for a urllib3 exception (the innermost reason)."""
    text = str(exc)
    for pat in (
        r"\[Errno -?\d+\] ([^'\")]+)",
        r"(certificate verify failed[^'\")]*)",
        r"(Connection refused)",
        r"(timed out)",
        r"(Name or service not known)",
    ):
        m = re.search(pat, text)
        if m:
            return m.group(1).strip().rstrip(":")
    return text.splitlines()[0][:300] if text else type(exc).__name__
