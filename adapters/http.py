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
In-flight GETs (``adapters.http_flights``)
    Without a response cache, identical GETs in flight together share one exchange.

``on_request(method, url, status_or_None, seconds)`` is called once per attempt (including
redirect hops); ``request_count`` counts attempts. Each attempt logs one debug line on the
``revgate.upstream`` logger: method, URL, status and milliseconds — never headers.

Layout
    This module is the client (``HttpClient``: sessions, URL rule, credentials, retries,
    reads). The values it takes and returns (``Credentials``, ``HttpConfig``, ``Response``,
    ``parse_link_header``, ``Params``, ``RequestHook``) live in ``adapters/http_model.py``; the
    error mapping (status → ``UpstreamError``, the backend's error text, ``Retry-After``, how
    and where a transport failed) lives in ``adapters/http_failures.py``. Every name is still
    importable from here.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Collection, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDictProxy
from yarl import URL

from adapters.cache import Cache
from adapters.errors import BadPayload, BadRequest, Unavailable
from adapters.http_cache import ResponseCache
from adapters.http_failures import DETAIL_LIMIT as DETAIL_LIMIT
from adapters.http_failures import RETRY_STATUSES as RETRY_STATUSES
from adapters.http_failures import _classify as _classify
from adapters.http_failures import _describe as _describe
from adapters.http_failures import _detail as _detail
from adapters.http_failures import _Failure as _Failure
from adapters.http_failures import _json_detail as _json_detail
from adapters.http_failures import _located as _located
from adapters.http_failures import _parse_retry_after as _parse_retry_after
from adapters.http_failures import _where as _where
from adapters.http_failures import timeout_error
from adapters.http_flights import Flights
from adapters.http_model import _LINK as _LINK
from adapters.http_model import _LINK_PARAM as _LINK_PARAM
from adapters.http_model import Credentials as Credentials
from adapters.http_model import HttpConfig as HttpConfig
from adapters.http_model import Params as Params
from adapters.http_model import RequestHook as RequestHook
from adapters.http_model import Response as Response
from adapters.http_model import _basic as _basic
from adapters.http_model import _safe_url as _safe_url
from adapters.http_model import _with_params as _with_params
from adapters.http_model import parse_link_header as parse_link_header
from adapters.paths import check_wire_path
from adapters.secrets import SECRETS
from adapters.stamps import ContentStamps

__all__ = ["Credentials", "HttpClient", "HttpConfig", "Params", "RequestHook", "Response"]

log = logging.getLogger("revgate.upstream")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
RESOLVED_PATHS = 1024  # distinct paths kept per client (then the table starts over)
ERROR_BODY_LIMIT = 64 * 1024
_CHUNK = 64 * 1024


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
        self._anonymous: HttpClient | None = None  # made by ``anonymous``
        self.request_count = 0
        self.flights = Flights(config.coalesce_reads)  # shared with ``with_credentials`` clones
        base = URL(config.base_url.rstrip("/"))
        if not base.absolute or base.scheme not in ("http", "https"):
            raise ValueError(f"backend {config.backend!r}: base_url must be an http(s) URL")
        self._base = base.with_user(None).with_query(None).with_fragment(None)
        # path or URL → checked absolute URL: a pure function of the text for this base, asked
        # again on every request for the same route (yarl parsing and the wire check are not
        # free); bounded, refusals never kept
        self._resolved: dict[str, URL] = {}
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

    @property
    def authenticated(self) -> bool:
        """Whether requests carry a credential (a token, a login, or the URL's user)."""
        return "Authorization" in self._headers

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
        clone.flights = self.flights
        # The same response cache: its keys carry the credentials sent, so users never share
        # an entry, and a write by either client invalidates the backend's entries for both.
        clone.cache = self.cache
        return clone

    def anonymous(self) -> HttpClient:
        """This backend with no credential at all (pass-through for anonymous callers)."""
        if self._anonymous is None:
            self._anonymous = self.with_credentials(Credentials())
            self._anonymous._headers.pop("Authorization", None)  # not even the URL's user
        return self._anonymous

    async def forward(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        content: bytes | None,
        allow_status: Collection[int],
    ) -> Response:
        """One pass-through exchange (``adapters/passthrough.py``): a GET as ``get`` (retried,
        cached, redirects in ``allow_status`` returned), anything else as ``send``."""
        if method == "GET":
            return await self.get(target, None, headers, allow_status=allow_status)
        return await self.send(
            method, target, content=content, headers=headers, allow_status=allow_status
        )

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
        found = self._resolved.get(path_or_url)
        if found is None:
            found = self._resolve_new(path_or_url)
            if len(self._resolved) >= RESOLVED_PATHS:
                self._resolved.clear()
            self._resolved[path_or_url] = found
        return found

    def _resolve_new(self, path_or_url: str) -> URL:
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
        text = str(url)  # once: the flight or cache key, the stamp, the answer and the hook
        if self.cache is None:
            key = (self._headers.get("Authorization"), text, headers, allow_status)
            read = partial(self._stamped, url, text, headers, allow_status)
            return await self.flights.run(key, read, self.stamps)

        async def fetch(conditional: Mapping[str, str]) -> Response:
            return await self._get(url, text, {**(headers or {}), **conditional}, allow_status)

        sent = {**self._headers, **(headers or {})}
        return await self.cache.get(text, sent, allow_status, fetch)

    async def _stamped(
        self,
        url: URL,
        text: str,
        headers: Mapping[str, str] | None,
        allow_status: Collection[int],
    ) -> Response:
        resp = await self._get(url, text, headers, allow_status)
        if self.stamps is not None and resp.status == 200:
            stamp = self.stamps.stamp(text, 200, resp.headers, resp.body)
            if stamp is not None:  # an answer seen once has none: nothing to copy
                resp = replace(resp, cache_stamp=stamp)
        return resp

    async def _get(
        self, url: URL, text: str, headers: Mapping[str, str] | None, allow_status: Collection[int]
    ) -> Response:
        attempts = 1 + max(0, self.config.retries)
        attempt = 0
        redirects = 0
        while True:
            attempt += 1
            try:
                resp = await self._attempt("GET", url, text, headers, None, allow_status)
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
                text = str(url)
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
        content: bytes | None = None,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        allow_status: Collection[int] = (),
    ) -> Response:
        """A write (POST/PUT/PATCH/DELETE): exactly one attempt, never retried.

        A status listed in ``allow_status`` is returned instead of raised (as for ``get``),
        redirects too (pass-through re-serves them). ``content``: raw bytes, sent as given.
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
        elif content is not None:
            body = content
        self.flights.clear()  # reads issued from now on do not join one issued before
        try:
            resp = await self._attempt(method, url, str(url), extra, body, allow_status)
        except _Failure as failure:
            raise failure.error from None
        finally:
            self.flights.clear()  # nor one issued while the write was under way
            if self.cache is not None:
                await self.cache.invalidate()  # even a failed write may have changed something
        if resp.status in REDIRECT_STATUSES and resp.status not in allow_status:
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
        text: str,  # str(url), made once by the caller
        headers: Mapping[str, str] | None,
        data: bytes | Mapping[str, str] | None,
        allow_status: Collection[int],
    ) -> Response:
        session = await self._session_or_open()
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
                    # aiohttp copies the headers it is given: the client's own go as they are
                    headers={**self._headers, **headers} if headers else self._headers,
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
                    url=text,
                    headers=raw.headers,  # already an immutable CIMultiDictProxy
                    body=body,
                    backend=self.backend,
                )
        except _Failure:
            raise
        except TimeoutError as exc:
            timeout = timeout_error(self.config, method, exc, whole=deadline.expired())
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
                self._on_request(method, text, status, elapsed)
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
