"""HTTP semantics of the upstream response cache: keys, freshness, revalidation, de-duplication.

``ResponseCache`` sits inside ``HttpClient.get`` of one backend whose ``cache_ttl`` is > 0
(bytes live in an ``adapters.cache.Cache`` store shared by all backends). Its contract:

- **What is cached**: only idempotent GETs answered ``200``, whose ``Cache-Control`` does not
  say ``no-store`` and whose body is at most ``MAX_ENTRY_BYTES``. Errors, redirects, 404s
  (even allowed ones) are never cached. Stored headers keep everything but ``Set-Cookie``
  (``Link`` must survive: pagination follows it).
- **Keys**: ``<credentials digest>:<request digest>``, namespaced by backend. The credentials
  digest covers every credential header in effect (``Authorization``, ``Cookie``,
  ``Proxy-Authorization``) through PBKDF2-HMAC-SHA256 salted with the backend name, so two
  users never share an entry and no key (in Redis, in a dump) shows or cheaply brute-forces a
  secret; ``anon`` when none is sent. The request digest is SHA-256 over the absolute URL
  (query included) and every other request header.
- **Freshness**: an entry is fresh for ``ttl`` seconds after it was fetched or revalidated;
  fresh → served with no upstream request (``stats.hits``).
- **Conditional requests**: a stale entry carrying ``ETag`` and/or ``Last-Modified`` is kept
  ``STALE_KEEP`` seconds longer and revalidated with ``If-None-Match``/``If-Modified-Since``;
  ``304`` refreshes it (``stats.revalidated``, the stored validators are updated from the
  304), anything else replaces it. Without validators an entry lives exactly ``ttl``.
- **In-flight de-duplication**: concurrent identical GETs (same key and same
  ``allow_status``) that miss share one upstream request (``stats.coalesced`` counts the
  joiners); they all get its answer or its error. A caller that is cancelled does not cancel
  the shared request for the others.
- **Stamps**: every stored entry gets a random ``stamp`` (kept with it in the store, so
  Redis entries have one too), handed to ``build`` with each answer made from it — also the
  fresh answer that filled it. A stamp names exactly one stored response: a refill, a
  write or a credential change means another entry and another stamp. Callers that derive
  something expensive from a cached answer (the REST compat layer's rendered bodies) key it
  by the stamp; an uncached answer has stamp ``None``.
- **Writes**: ``invalidate()`` (called by ``HttpClient.send`` after every write attempt,
  successful or not — a timed-out write may have been applied) bumps the backend's
  generation, so nothing cached before the write is served after it, and detaches in-flight
  GETs so that a read started after the write never joins one started before it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from adapters.cache import Cache

__all__ = ["Answer", "Entry", "ResponseCache", "credentials_digest"]

MAX_ENTRY_BYTES = 8 * 1024 * 1024
STALE_KEEP = 600.0  # seconds a stale entry with validators is kept for a conditional request
CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
# Headers a 304 may carry that update the stored response (RFC 9111 §4.3.4, the useful ones).
_REFRESHED_HEADERS = ("ETag", "Last-Modified", "Cache-Control", "Expires", "Date")
_PBKDF2_ROUNDS = 20_000  # once per distinct credential (memoised): cheap here, dear to guess
_MAGIC = b"RGC1"


class Answer(Protocol):
    """What ``ResponseCache`` needs to read from an upstream answer (``adapters.http.Response``)."""

    @property
    def status(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> bytes: ...


R = TypeVar("R", bound=Answer)
Fetch = Callable[[Mapping[str, str]], Awaitable[R]]
Build = Callable[[int, str, CIMultiDictProxy[str], bytes, str | None], R]


@dataclass(frozen=True, slots=True)
class Entry:
    """One cached answer and until when it is fresh (store clock)."""

    status: int
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fresh_until: float
    stamp: str | None = None  # names this stored response (see the module docstring)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    def encode(self) -> bytes:
        """``RGC1`` + 4-byte metadata length + JSON metadata + raw body."""
        meta = orjson.dumps(
            {
                "s": self.status,
                "u": self.url,
                "h": self.headers,
                "f": self.fresh_until,
                "i": self.stamp,
            }
        )
        return _MAGIC + len(meta).to_bytes(4, "big") + meta + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry | None:
        """The entry, or None when ``raw`` is not one (foreign or corrupt value: a miss)."""
        if not raw.startswith(_MAGIC) or len(raw) < 8:
            return None
        size = int.from_bytes(raw[4:8], "big")
        try:
            meta = orjson.loads(raw[8 : 8 + size])
            return cls(
                status=int(meta["s"]),
                url=str(meta["u"]),
                headers=tuple((str(k), str(v)) for k, v in meta["h"]),
                body=raw[8 + size :],
                fresh_until=float(meta["f"]),
                stamp=str(meta["i"]) if meta.get("i") else None,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None


def credentials_digest(namespace: str, headers: Mapping[str, str]) -> str:
    """A salted slow hash of the credential headers in ``headers``; ``anon`` without any."""
    parts = [f"{k.lower()}\n{v}" for k, v in headers.items() if k.lower() in CREDENTIAL_HEADERS]
    if not parts:
        return "anon"
    salt = f"revgate-cache:{namespace}".encode()
    secret = "\n".join(sorted(parts)).encode()
    return hashlib.pbkdf2_hmac("sha256", secret, salt, _PBKDF2_ROUNDS).hex()[:32]


def request_digest(url: str, headers: Mapping[str, str]) -> str:
    """SHA-256 over the URL and the non-credential request headers."""
    rest = sorted((k.lower(), v) for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS)
    return hashlib.sha256(orjson.dumps([url, rest])).hexdigest()[:40]


class ResponseCache(Generic[R]):
    """The cache of one backend's GETs; see the module docstring for the contract."""

    def __init__(self, store: Cache, namespace: str, ttl: float, build: Build[R]) -> None:
        if ttl <= 0:
            raise ValueError("a ResponseCache needs ttl > 0 (ttl 0 means: no cache at all)")
        self.store = store
        self.namespace = namespace
        self.ttl = ttl
        self._build = build
        self._flights: dict[tuple[str, tuple[int, ...]], asyncio.Future[R]] = {}
        # credential headers -> digest, in process memory only (never in a key or a log)
        self._digests: dict[tuple[tuple[str, str], ...], str] = {}

    def key(self, url: str, headers: Mapping[str, str]) -> str:
        """The store key of a GET of ``url`` sent with ``headers`` (all of them, merged)."""
        creds = tuple(
            sorted((k.lower(), v) for k, v in headers.items() if k.lower() in CREDENTIAL_HEADERS)
        )
        digest = self._digests.get(creds)
        if digest is None:
            if len(self._digests) >= 1024:
                self._digests.clear()
            digest = self._digests[creds] = credentials_digest(self.namespace, dict(creds))
        return f"{digest}:{request_digest(url, headers)}"

    async def get(
        self,
        url: str,
        headers: Mapping[str, str],
        allow_status: Collection[int],
        fetch: Fetch[R],
    ) -> R:
        """A fresh cached answer, else ``fetch(conditional_headers)`` shared with identical GETs."""
        key = self.key(url, headers)
        generation, raw = await self.store.get(self.namespace, key)
        entry = Entry.decode(raw) if raw is not None else None
        if entry is not None and entry.fresh_until > self.store.now():
            self.store.stats.count(self.namespace, "hits")
            return self._answer(entry)
        flight_key = (key, tuple(sorted(allow_status)))
        flight = self._flights.get(flight_key)
        if flight is None:
            flight = asyncio.ensure_future(self._refresh(key, generation, entry, fetch))
            self._flights[flight_key] = flight
            flight.add_done_callback(lambda done: self._landed(flight_key, done))
        else:
            self.store.stats.count(self.namespace, "coalesced")
        return await asyncio.shield(flight)

    async def invalidate(self) -> None:
        """Forget everything cached for this backend (after a write)."""
        self._flights.clear()  # their awaiters keep them; later reads start afresh
        await self.store.invalidate(self.namespace)

    def _landed(self, flight_key: tuple[str, tuple[int, ...]], done: asyncio.Future[R]) -> None:
        if self._flights.get(flight_key) is done:
            del self._flights[flight_key]
        if not done.cancelled():
            done.exception()  # retrieved: every awaiter may have gone (all cancelled)

    async def _refresh(self, key: str, generation: int, stale: Entry | None, fetch: Fetch[R]) -> R:
        conditional: dict[str, str] = {}
        if stale is not None:
            if etag := stale.header("ETag"):
                conditional["If-None-Match"] = etag
            if modified := stale.header("Last-Modified"):
                conditional["If-Modified-Since"] = modified
        answer = await fetch(conditional)
        stats = self.store.stats
        if answer.status == 304 and stale is not None and conditional:
            stats.count(self.namespace, "revalidated")
            entry = replace(
                stale,
                headers=_refreshed(stale.headers, answer.headers),
                fresh_until=self.store.now() + self.ttl,
                stamp=_new_stamp(),  # headers may have changed: what was derived is stale
            )
            await self._store(key, generation, entry)
            return self._answer(entry)
        stats.count(self.namespace, "misses")
        if _cacheable(answer):
            entry = Entry(
                status=answer.status,
                url=answer.url,
                headers=tuple(
                    (k, v) for k, v in answer.headers.items() if k.lower() != "set-cookie"
                ),
                body=answer.body,
                fresh_until=self.store.now() + self.ttl,
                stamp=_new_stamp(),
            )
            await self._store(key, generation, entry)
            # Stamped even if a write since the read made the store drop it: the stamp still
            # names exactly these bytes, it is just never seen again on a hit.
            return self._build(
                answer.status, answer.url, _proxy(answer.headers), answer.body, entry.stamp
            )
        return answer

    async def _store(self, key: str, generation: int, entry: Entry) -> None:
        revalidatable = entry.header("ETag") or entry.header("Last-Modified")
        keep = self.ttl + STALE_KEEP if revalidatable else self.ttl
        await self.store.set(self.namespace, generation, key, entry.encode(), keep)

    def _answer(self, entry: Entry) -> R:
        return self._build(
            entry.status,
            entry.url,
            CIMultiDictProxy(CIMultiDict(entry.headers)),
            entry.body,
            entry.stamp,
        )


def _new_stamp() -> str:
    return os.urandom(12).hex()


def _proxy(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    if isinstance(headers, CIMultiDictProxy):
        return headers
    return CIMultiDictProxy(CIMultiDict(headers))


def _cacheable(answer: Answer) -> bool:
    if answer.status != 200 or len(answer.body) > MAX_ENTRY_BYTES:
        return False
    directives = answer.headers.get("Cache-Control", "").lower()
    return "no-store" not in directives


def _refreshed(
    stored: tuple[tuple[str, str], ...], fresh: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """The stored headers with the 304's ``ETag``/``Last-Modified``/… replacing theirs."""
    updates = {name.lower(): (name, fresh[name]) for name in _REFRESHED_HEADERS if name in fresh}
    kept = tuple((k, v) for k, v in stored if k.lower() not in updates)
    return kept + tuple(updates.values())
