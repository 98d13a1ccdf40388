"""The one upstream HTTP client every adapter talks through (aiohttp, JSON via orjson).

Contract
========

Sessions
    ``HttpClient.open()`` creates one pooled ``aiohttp.ClientSession`` per backend (keep-alive,
    at most 100 connections per host, gzip/deflate decoded transparently, connect timeout
    ``connect_timeout`` and per-read timeout ``read_timeout``) unless a session was injected;
    every attempt also has a whole-exchange deadline ``total_timeout`` (default
    ``connect_timeout + 2 * read_timeout``), so an upstream that drips its answer a byte at a
    time — each read within ``read_timeout`` — still fails as a ``Timeout``;
    ``close()`` closes only a session the client created itself. A request made before
    ``open()`` opens the session lazily. Cookies an upstream sets are ignored (never sent
    back): the session is shared by every caller credential of the backend.

URL allow rule
    Every request goes through :meth:`HttpClient.resolve`. A relative path is appended to
    ``base_url``; an absolute URL (a ``Link: <…>; rel="next"`` target, a ``web_url`` from a
    payload) is accepted only when its scheme, host and port equal ``base_url``'s — anything
    else raises ``BadRequest("refusing to follow URL outside the backend")`` before any I/O.
    Redirects are never followed blindly: a GET follows at most 5 redirects and only within
    the same origin; a redirect elsewhere, or any redirect answering a write, is a
    ``BadRequest``. Userinfo in ``base_url`` is stripped from every URL (and used for HTTP basic
    auth when ``Credentials`` has no username), so URLs in logs, errors and ``Response.url``
    never carry credentials.

Credentials
    ``Credentials.token`` is sent as ``Authorization: <token_scheme> <token>`` (``Token …`` by
    default); otherwise ``username`` + ``password`` are sent as HTTP basic auth. Neither is
    ever logged, shown by ``repr`` or put in an error message. Every client registers its
    credentials (and a ``user:pw@`` URL's password) in ``adapters.secrets.SECRETS``, the one
    registry of every form of every secret: the backend's error text is scrubbed through it
    here (``***``), and the gateway scrubs every response and log line through it.

Retries (GET only)
    ``get``/``get_json`` make up to ``1 + retries`` attempts. Retried: connection errors
    (refused, reset, DNS), timeouts, a body cut off mid-transfer (``ClientPayloadError``), and
    the statuses 408, 429, 500, 502, 503 and 504. Before a new attempt the client sleeps
    ``Retry-After`` when the failed answer had one (delta-seconds or an HTTP-date, capped at
    ``4 * max_backoff``), else a full-jitter exponential backoff
    ``uniform(0, min(max_backoff, backoff * 2 ** (attempt - 1)))``. A status listed in
    ``allow_status`` is returned, never retried. ``send`` (every write) makes exactly one
    attempt: a write is never repeated, whatever went wrong.

Error mapping (each error gets ``status=`` the HTTP status, or ``None`` without an answer)
    ===============================================  ===============
    400, 405, 422 and any other unlisted 4xx         ``BadRequest``
    401, 403                                         ``Forbidden``
    404                                              ``NotFound``
    409                                              ``Conflict``
    408, connect/read timeout, attempt deadline      ``Timeout``
    connection error, 5xx, 429 (retries exhausted)   ``Unavailable``
    body cut off / undecodable (ClientPayloadError)  ``Unavailable`` (a transport failure,
                                                     retried like a reset connection)
    body over ``max_body_bytes``, invalid JSON       ``BadPayload``
    ===============================================  ===============

    Messages are short and safe to show a client: how the backend failed (``HTTP <status>``,
    timed out connecting, connection refused…) and the backend's own error text when it is
    small (``{"detail": "…"}``, ``{"field": ["…"]}`` or short plain text, 200 characters at
    most, secrets and the backend's URL/``host:port`` replaced). They never say where the
    backend lives: the method, full URL and ``host:port`` of a failure go to one INFO line on
    ``revgate.upstream`` instead. Successful bodies are read with a cap of ``max_body_bytes``
    (after decompression, so a gzip bomb is caught); error bodies are read up to 64 KiB and
    the rest is ignored.

Response cache (``adapters.http_cache``)
    With a ``cache`` store and ``cache_ttl > 0``, ``get`` answers from the cache when it can
    (fresh entry, 304 revalidation, one shared request for identical concurrent GETs) and
    ``send`` invalidates the backend's entries after every write attempt. ``cache_ttl = 0``
    (the default) means no cache at all: every GET goes upstream, as without a store.
Content stamps (``adapters.stamps``)
    Without a response cache, every ``200`` GET answer carries a content stamp
    (``Response.cache_stamp``): the previous answer's to the same URL when status, headers and
    body are identical. Derived values (parsed pages, records, rendered compat bodies) are
    memoised by stamp, so re-reading an unchanged list costs one upstream request and no
    parse. ``content_memo = false`` turns it off.

``on_request(method, url, status_or_None, seconds)`` is called once per attempt (including
redirect hops); ``request_count`` counts attempts. Each attempt logs one debug line on the
``revgate.upstream`` logger: method, URL, status and milliseconds — never headers.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import errno
import logging
import random
import re
import socket
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from adapters.cache import Cache
from adapters.errors import (
    BadPayload,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Timeout,
    Unavailable,
    UpstreamError,
)
from adapters.http_cache import ResponseCache
from adapters.paths import check_wire_path
from adapters.secrets import SECRETS
from adapters.stamps import ContentStamps

__all__ = ["Credentials", "HttpClient", "HttpConfig", "Params", "RequestHook", "Response"]

log = logging.getLogger("revgate.upstream")

Params = Mapping[str, str | int | Sequence[str | int]]
RequestHook = Callable[[str, str, int | None, float], None]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
ERROR_BODY_LIMIT = 64 * 1024
DETAIL_LIMIT = 200
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    """How to authenticate to one backend. ``repr`` only says which secrets are set."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    token_scheme: str = "Token"

    def __repr__(self) -> str:
        token = "<set>" if self.token else None
        password = "<set>" if self.password else None
        return (
            f"Credentials(token={token}, username={self.username!r}, "
            f"password={password}, token_scheme={self.token_scheme!r})"
        )

    def secrets(self) -> list[str]:
        """The secret strings that must never appear in a message."""
        return [s for s in (self.token, self.password) if s]


@dataclass(frozen=True)
class HttpConfig:
    """One backend's connection settings."""

    backend: str
    base_url: str
    credentials: Credentials = field(default_factory=Credentials)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.2
    max_backoff: float = 5.0
    max_body_bytes: int = 50 * 1024 * 1024
    user_agent: str = "revgate/0.1"
    total_timeout: float | None = None  # per attempt; None: connect_timeout + 2 * read_timeout

    @property
    def attempt_deadline(self) -> float:
        """Seconds one attempt may take from connecting to the last byte of the answer."""
        if self.total_timeout is not None:
            return self.total_timeout
        return self.connect_timeout + 2 * self.read_timeout

    cache_ttl: float = 0.0  # seconds a GET answer stays fresh; 0 = no response cache
    content_memo: bool = True  # uncached answers get content stamps (adapters.stamps)

    def __repr__(self) -> str:
        return (
            f"HttpConfig(backend={self.backend!r}, base_url={_safe_url(self.base_url)!r}, "
            f"credentials={self.credentials!r}, connect_timeout={self.connect_timeout}, "
            f"read_timeout={self.read_timeout}, retries={self.retries}, "
            f"backoff={self.backoff}, max_backoff={self.max_backoff}, "
            f"max_body_bytes={self.max_body_bytes}, user_agent={self.user_agent!r}, "
            f"total_timeout={self.total_timeout}, cache_ttl={self.cache_ttl}, "
            f"content_memo={self.content_memo})"
        )


@dataclass(frozen=True)
class Response:
    """A fully read upstream answer."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    backend: str = ""
    # Names this answer's content (``adapters.stamps``): the response-cache entry it is, or,
    # uncached, its content stamp (200 GETs with ``content_memo``); None otherwise.
    cache_stamp: str | None = None

    def json(self) -> Any:
        """The body decoded as JSON; ``BadPayload`` when it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise BadPayload(
                self.backend,
                f"invalid JSON from upstream (HTTP {self.status})",
                status=self.status,
            ) from None

    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def links(self) -> dict[str, str]:
        """The RFC 5988 ``Link`` header as ``{rel: absolute URL}``; ``{}`` without one."""
        if isinstance(self.headers, CIMultiDictProxy | CIMultiDict):
            values: list[str] = list(self.headers.getall("Link", []))
        else:
            value = self.headers.get("Link")
            values = [value] if value else []
        return parse_link_header(", ".join(values), self.url)


_LINK = re.compile(r'<([^>]*)>\s*((?:;(?:[^;,"]|"[^"]*")*)*)')
_LINK_PARAM = re.compile(r';\s*([^\s=;,]+)\s*=\s*(?:"([^"]*)"|([^\s;,]*))')


def parse_link_header(value: str, base: str = "") -> dict[str, str]:
    """Parse a ``Link`` header value; relative targets are resolved against ``base``."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(value):
        target = match.group(1).strip()
        if base:
            target = str(URL(base).join(URL(target)))
        for param in _LINK_PARAM.finditer(match.group(2)):
            if param.group(1).lower() != "rel":
                continue
            rels = param.group(2) if param.group(2) is not None else param.group(3)
            for rel in rels.split():
                links.setdefault(rel.lower(), target)
    return links


class _Failure(Exception):
    """One failed attempt: the error to raise if it is the last, and whether to try again."""

    def __init__(
        self, error: UpstreamError, *, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after


class HttpClient:
    """The pooled JSON/HTTP client of one backend; see the module docstring for the contract."""

    def __init__(
        self,
        config: HttpConfig,
        session: aiohttp.ClientSession | None = None,
        on_request: RequestHook | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.config = config
        self._session = session
        self._owns_session = session is None
        self._on_request = on_request
        self._parent: HttpClient | None = None  # set by ``with_credentials``
        self.request_count = 0
        base = URL(config.base_url.rstrip("/"))
        if not base.absolute or base.scheme not in ("http", "https"):
            raise ValueError(f"backend {config.backend!r}: base_url must be an http(s) URL")
        self._base = base.with_user(None).with_query(None).with_fragment(None)
        self._headers = self._auth_headers(base)
        creds = config.credentials
        # Every form of these is scrubbed from whatever leaves the gateway (adapters.secrets).
        SECRETS.add(creds.token, creds.username)
        SECRETS.add(creds.password, creds.username)
        SECRETS.add_url(config.base_url)
        # Where the backend lives: named in the log, never in a client-visible message.
        self._base_host = self._base.raw_host or "\0"
        self._located = _located(self._base)
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=config.connect_timeout, sock_read=config.read_timeout
        )
        self.cache: ResponseCache[Response] | None = None
        if cache is not None and config.cache_ttl > 0:
            self.cache = ResponseCache(cache, config.backend, config.cache_ttl, self._cached)
        # Without a response cache, uncached 200 answers are stamped by content (adapters.stamps)
        self.stamps: ContentStamps | None = ContentStamps() if config.content_memo else None

    def _auth_headers(self, base: URL) -> dict[str, str]:
        creds = self.config.credentials
        headers = {"User-Agent": self.config.user_agent, "Accept": "application/json"}
        if creds.token:
            headers["Authorization"] = f"{creds.token_scheme} {creds.token}"
        elif creds.username and creds.password is not None:
            headers["Authorization"] = _basic(creds.username, creds.password)
        elif base.user:
            headers["Authorization"] = _basic(base.user, base.password or "")
        return headers

    def with_credentials(self, credentials: Credentials) -> HttpClient:
        """A client for the same backend and pooled session that authenticates as
        ``credentials`` (a REST compat caller's own backend user). It never opens or closes
        the session: that stays with this client."""
        clone = HttpClient(
            replace(self.config, credentials=credentials),
            on_request=self._on_request,
        )
        clone._owns_session = False
        clone._parent = self
        # The same response cache: its keys carry the credentials sent, so users never share
        # an entry, and a write by either client invalidates the backend's entries for both.
        clone.cache = self.cache
        return clone

    @property
    def stamp_owner(self) -> object | None:
        """What names this client's answers' stamps (``Response.cache_stamp``): the response
        cache, else the content stamps; memos of derived values are kept per owner."""
        return self.cache if self.cache is not None else self.stamps

    @property
    def backend(self) -> str:
        """The backend instance name."""
        return self.config.backend

    async def open(self) -> None:
        """Create the pooled session (no-op when one exists or was injected)."""
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=100, keepalive_timeout=30.0)
        # No cookie jar: the session is shared by every caller's credentials (with_credentials),
        # so a cookie one caller's answer set must never ride along on another's request.
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=True,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self._owns_session = True

    async def close(self) -> None:
        """Close the session if this client created it."""
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    def resolve(self, path_or_url: str) -> str:
        """The absolute URL for a path on the backend, or a same-origin absolute URL."""
        return str(self._resolve(path_or_url))

    def _resolve(self, path_or_url: str) -> URL:
        # Last line for issue 15 item 7: yarl would remove a dot segment (even ``%2e%2e``)
        # and drop CR/LF, so a bad path is refused before it is parsed (adapters/paths.py).
        if (why := check_wire_path(path_or_url)) is not None:
            raise BadRequest(self.backend, f"refusing the request: {why}")
        try:
            url = URL(path_or_url)
        except (ValueError, TypeError):
            raise BadRequest(self.backend, "invalid upstream URL") from None
        if url.scheme or url.host is not None or path_or_url.startswith("//"):
            if (
                url.scheme != self._base.scheme
                or url.host != self._base.host
                or url.port != self._base.port
            ):
                raise BadRequest(self.backend, "refusing to follow URL outside the backend")
            return url.with_user(None).with_fragment(None)
        path = path_or_url if path_or_url.startswith("/") else f"/{path_or_url}"
        return URL(f"{self._base}{path}")

    async def get(
        self,
        path: str,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        allow_status: Collection[int] = (),
    ) -> Response:
        """GET with retries; statuses >= 400 not in ``allow_status`` raise ``UpstreamError``."""
        url = _with_params(self._resolve(path), params)
        if self.cache is None:
            resp = await self._get(url, headers, allow_status)
            if self.stamps is not None and resp.status == 200:
                stamp = self.stamps.stamp(str(url), 200, resp.headers, resp.body)
                resp = replace(resp, cache_stamp=stamp)
            return resp

        async def fetch(conditional: Mapping[str, str]) -> Response:
            return await self._get(url, {**(headers or {}), **conditional}, allow_status)

        sent = {**self._headers, **(headers or {})}
        return await self.cache.get(str(url), sent, allow_status, fetch)

    async def _get(
        self, url: URL, headers: Mapping[str, str] | None, allow_status: Collection[int]
    ) -> Response:
        attempts = 1 + max(0, self.config.retries)
        attempt = 0
        redirects = 0
        while True:
            attempt += 1
            try:
                resp = await self._attempt("GET", url, headers, None, allow_status)
            except _Failure as failure:
                if not failure.retryable or attempt >= attempts:
                    raise failure.error from None
                await asyncio.sleep(self._delay(attempt, failure.retry_after))
                continue
            if resp.status in REDIRECT_STATUSES and resp.status not in allow_status:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    self._log_failure("GET", url, "too many redirects")
                    raise BadRequest(self.backend, "too many redirects", status=None)
                url = self._redirect_target(resp)
                attempt = 0
                continue
            return resp

    async def get_json(
        self,
        path: str,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Any, Response]:
        """GET and decode the body as JSON."""
        resp = await self.get(path, params, headers)
        return resp.json(), resp

    async def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        allow_status: Collection[int] = (),
    ) -> Response:
        """A write (POST/PUT/PATCH/DELETE): exactly one attempt, never retried.

        A status listed in ``allow_status`` is returned instead of raised (as for ``get``).
        """
        method = method.upper()
        url = _with_params(self._resolve(path), params)
        extra: dict[str, str] = dict(headers or {})
        body: bytes | Mapping[str, str] | None = None
        if json is not None:
            body = orjson.dumps(json)
            extra["Content-Type"] = "application/json"
        elif data is not None:
            body = data
        try:
            resp = await self._attempt(method, url, extra, body, allow_status)
        except _Failure as failure:
            raise failure.error from None
        finally:
            if self.cache is not None:
                await self.cache.invalidate()  # even a failed write may have changed something
        if resp.status in REDIRECT_STATUSES:
            self._log_failure(method, url, f"redirect (HTTP {resp.status})")
            raise BadRequest(
                self.backend,
                f"backend answered a {method} with a redirect (HTTP {resp.status}); "
                "check the configured URL",
                status=resp.status,
            )
        return resp

    # -- internals ---------------------------------------------------------------------------

    def _cached(
        self, status: int, url: str, headers: CIMultiDictProxy[str], body: bytes, stamp: str | None
    ) -> Response:
        return Response(
            status=status,
            url=url,
            headers=headers,
            body=body,
            backend=self.backend,
            cache_stamp=stamp,
        )

    def _redirect_target(self, resp: Response) -> URL:
        location = resp.headers.get("Location")
        if not location:
            raise BadRequest(
                self.backend, f"redirect without Location (HTTP {resp.status})", status=resp.status
            )
        target = URL(resp.url).join(URL(location))
        try:
            return self._resolve(str(target))
        except BadRequest:
            raise BadRequest(
                self.backend,
                f"refusing to follow redirect outside the backend (HTTP {resp.status})",
                status=resp.status,
            ) from None

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self.config.max_backoff, self.config.backoff * 2 ** (attempt - 1))
        return random.uniform(0.0, max(0.0, ceiling))

    async def _session_or_open(self) -> aiohttp.ClientSession:
        if self._parent is not None:
            return await self._parent._session_or_open()
        if self._session is None or (self._owns_session and self._session.closed):
            await self.open()
        assert self._session is not None
        return self._session

    async def _attempt(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str] | None,
        data: bytes | Mapping[str, str] | None,
        allow_status: Collection[int],
    ) -> Response:
        session = await self._session_or_open()
        send_headers = {**self._headers, **(headers or {})}
        status: int | None = None
        self.request_count += 1
        start = time.monotonic()
        # aiohttp's sock_read restarts with every chunk; this bounds the whole exchange.
        deadline = asyncio.timeout(self.config.attempt_deadline)
        try:
            async with (
                deadline,
                session.request(
                    method,
                    url,
                    headers=send_headers,
                    data=data,
                    timeout=self._timeout,
                    allow_redirects=False,
                ) as raw,
            ):
                status = raw.status
                ok = status < 400 or status in allow_status
                body = await self._read(raw, method, url, ok)
                resp = Response(
                    status=status,
                    url=str(url),
                    headers=raw.headers,  # already an immutable CIMultiDictProxy
                    body=body,
                    backend=self.backend,
                )
        except _Failure:
            raise
        except TimeoutError as exc:
            timeout = self._timeout_error(method, url, exc, whole=deadline.expired())
            self._log_failure(method, url, timeout.message)
            raise _Failure(timeout, retryable=True) from None
        except aiohttp.ClientPayloadError as exc:
            error = Unavailable(self.backend, "response body cut off or undecodable", status=status)
            self._log_failure(method, url, f"{error.message}: {exc}")
            raise _Failure(error, retryable=True) from None
        except (aiohttp.ClientError, OSError) as exc:
            error = Unavailable(self.backend, f"cannot reach the backend: {_describe(exc)}")
            self._log_failure(method, url, f"{_describe(exc)} ({_where(exc)})")
            raise _Failure(error, retryable=True) from None
        finally:
            elapsed = time.monotonic() - start
            log.debug("%s %s -> %s in %.1f ms", method, url, status or "error", elapsed * 1000)
            if self._on_request is not None:
                self._on_request(method, str(url), status, elapsed)
        if resp.status >= 400 and resp.status not in allow_status:
            raise self._status_failure(method, resp)
        return resp

    async def _read(self, raw: aiohttp.ClientResponse, method: str, url: URL, ok: bool) -> bytes:
        limit = self.config.max_body_bytes if ok else ERROR_BODY_LIMIT
        declared = raw.content_length
        encoded = raw.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        if ok and declared is not None and not encoded and declared > limit:
            raise _Failure(self._too_big(method, url, raw.status), retryable=False)
        if ok and declared is not None and not encoded:
            # the declared length is within the cap: one read (aiohttp stops at that length)
            return await raw.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in raw.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                if not ok:
                    chunks.append(chunk[: limit - (size - len(chunk))])
                    break
                raise _Failure(self._too_big(method, url, raw.status), retryable=False)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_big(self, method: str, url: URL, status: int) -> BadPayload:
        self._log_failure(method, url, f"answer over {self.config.max_body_bytes} bytes")
        return BadPayload(
            self.backend,
            f"the answer is larger than {self.config.max_body_bytes} bytes",
            status=status,
        )

    def _timeout_error(
        self, method: str, url: URL, exc: BaseException, *, whole: bool = False
    ) -> Timeout:
        connecting = not whole and isinstance(exc, aiohttp.ConnectionTimeoutError)
        if whole:
            what, limit = "waiting for the whole answer", self.config.attempt_deadline
        elif connecting:
            what, limit = "connecting", self.config.connect_timeout
        else:
            what, limit = "waiting for the answer", self.config.read_timeout
        message = f"timed out {what} ({limit:g}s)"
        if method != "GET" and not connecting:
            message += "; the change may or may not have been applied"
        return Timeout(self.backend, message)

    def _status_failure(self, method: str, resp: Response) -> _Failure:
        status = resp.status
        cls, what = _classify(status)
        message = f"{what} (HTTP {status})"
        detail = self.scrub(_detail(resp))
        if detail:
            message += f": {detail}"
        self._log_failure(method, resp.url, f"HTTP {status}")
        retry_after = None
        if status in (429, 503):
            retry_after = _parse_retry_after(
                resp.headers.get("Retry-After"), self.config.max_backoff * 4
            )
        return _Failure(
            cls(self.backend, message, status=status),
            retryable=status in RETRY_STATUSES,
            retry_after=retry_after,
        )

    def scrub(self, text: str) -> str:
        """``text`` (the backend's own words) without any secret or the backend's location:
        what an adapter may put in a client-visible message."""
        text = SECRETS.scrub(text)
        if self._base_host in text:
            text = self._located.sub("<backend>", text)
        return text

    def _log_failure(self, method: str, url: str | URL, what: str) -> None:
        # The client-visible error says how the backend failed; where it lives is logged.
        log.info("%s: %s %s failed: %s", self.backend, method, url, what)


def _classify(status: int) -> tuple[type[UpstreamError], str]:
    if status in (401, 403):
        return Forbidden, "access denied" if status == 403 else "authentication failed"
    if status == 404:
        return NotFound, "not found"
    if status == 409:
        return Conflict, "conflict"
    if status == 408:
        return Timeout, "backend timed out"
    if status == 429:
        return Unavailable, "rate limited"
    if status >= 500:
        return Unavailable, "backend error"
    if status == 405:
        return BadRequest, "method not allowed"
    return BadRequest, "request rejected"


def _detail(resp: Response) -> str:
    """The backend's own short error text from an error body, or ``""``."""
    body = resp.body.strip()
    if not body:
        return ""
    ctype = resp.headers.get("Content-Type", "").lower()
    text = ""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        if "html" in ctype or body.startswith(b"<"):
            return ""
        text = body.decode("utf-8", "replace")
    else:
        text = _json_detail(parsed)
    text = " ".join(text.split())
    if len(text) > DETAIL_LIMIT:
        text = text[: DETAIL_LIMIT - 1].rstrip() + "…"
    return text


def _json_detail(parsed: Any) -> str:
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, list):
        return "; ".join(_json_detail(item) for item in parsed if _json_detail(item))
    if isinstance(parsed, dict):
        for key in ("detail", "message", "error", "error_description"):
            value = parsed.get(key)
            if isinstance(value, str):
                return value
        parts = []
        for key, value in parsed.items():
            text = _json_detail(value)
            if text:
                parts.append(f"{key}: {text}")
        return "; ".join(parts)
    return ""


def _parse_retry_after(value: str | None, cap: float) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds or HTTP-date), within ``[0, cap]``."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, cap))


def _with_params(url: URL, params: Params | None) -> URL:
    if not params:
        return url
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        pairs.extend((key, _param(v)) for v in values)
    return url.extend_query(pairs)


def _param(value: str | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _basic(username: str, password: str) -> str:
    """An HTTP basic ``Authorization`` value (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _safe_url(url: str) -> str:
    try:
        return str(URL(url).with_user(None))
    except (ValueError, TypeError):
        return "<invalid URL>"


def _describe(exc: BaseException) -> str:
    """How a transport failed (refused, reset, DNS…), never where: safe for a client.

    An ``OSError``'s text names the address (``Connect call failed ('127.0.0.1', 9)``), so
    the description comes from the error's type and errno only.
    """
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "TLS handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "name resolution failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        exc = exc.os_error
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | aiohttp.ClientConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return "name resolution failed"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"network error ({errno.errorcode.get(exc.errno, exc.errno)})"
    return "connection failed"


def _where(exc: BaseException) -> str:
    """Where a transport error happened (``host:port``), for the log only."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"{exc.host}:{exc.port}"
    return str(exc) or type(exc).__name__


def _located(base: URL) -> re.Pattern[str]:
    """Spellings of ``base``'s location in an upstream's error text: a URL on its host (path
    and query included), ``host:port`` and Python's ``('host', port)``."""
    host = re.escape(base.raw_host or "")
    port = base.explicit_port
    port_part = rf":{port}(?!\d)" if port is not None else r"(?::\d+)?"
    spellings = [
        rf"[a-z][a-z0-9+.-]*://(?:[^@\s/]*@)?{host}{port_part}[^\s\"'<>]*",
        rf"{host}{port_part}",
    ]
    if port is not None:
        spellings.append(rf"\('{host}', {port}\)")
    return re.compile("|".join(spellings), re.IGNORECASE)
