"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

**APQ** (``[server] persisted_queries = true``, the default): a client sends only
``extensions.persistedQuery = {"version": 1, "sha256Hash": h}``; an unknown ``h`` is answered
``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``, status 200, as Apollo's
clients expect), and the client sends the query with its hash once, which the gateway checks
(``sha256(query) == h``, else 400 ``PERSISTED_QUERY_HASH_MISMATCH``) and stores. Later
requests, GET ones included, carry the hash alone: short URLs a CDN can cache. The store is
the ``[cache] url`` Redis when there is one (shared by replicas; a Redis failure reads as "not
found", so clients fall back to sending the text), else in this process (LRU, 10,000 queries).

**Trusted documents** (``[server] trusted_documents = "ops.json"``): a manifest of the
operations a deployment's own frontends send, written by ``revgate persist``, in Apollo's
persisted-query manifest format (``{"format": "apollo-persisted-query-manifest",
"version": 1, "operations": [{"id", "name", "type", "body"}]}``, ``id`` = sha256 of
``body``). Its documents are found by hash, by APQ's ``sha256Hash`` or by the GraphQL-over-HTTP
``documentId`` (``"sha256:<hash>"``). With ``persisted_only = true`` every other document is
refused (``PERSISTED_QUERY_REQUIRED``) on every transport: HTTP here, websockets by the
``TrustedDocuments`` schema extension; APQ then registers nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import redis.asyncio as aioredis
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

if TYPE_CHECKING:
    from gateway.settings import Settings

log = logging.getLogger("revgate.persisted")

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
REDIS_PREFIX = "revgate:apq:v1:"
REDIS_TTL = 7 * 24 * 3600  # a query unused for a week is forgotten; clients re-register it
MEMORY_ENTRIES = 10_000
NOT_FOUND = "PersistedQueryNotFound"  # the message Apollo's clients look for


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Refusal(Exception):
    """A persisted-query request the gateway cannot serve: HTTP status, code, message."""

    status: int
    code: str
    message: str
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


class Store(Protocol):
    async def get(self, digest: str) -> str | None: ...
    async def put(self, digest: str, query: str) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """This process's queries, least recently used first out."""

    def __init__(self, entries: int = MEMORY_ENTRIES) -> None:
        self._entries = entries
        self._queries: OrderedDict[str, str] = OrderedDict()

    async def get(self, digest: str) -> str | None:
        query = self._queries.get(digest)
        if query is not None:
            self._queries.move_to_end(digest)
        return query

    async def put(self, digest: str, query: str) -> None:
        self._queries[digest] = query
        self._queries.move_to_end(digest)
        while len(self._queries) > self._entries:
            self._queries.popitem(last=False)

    async def close(self) -> None:
        self._queries.clear()


class RedisStore:
    """Queries shared by every replica; a failing Redis is a miss (the client resends)."""

    def __init__(self, client: aioredis.Redis, skip_seconds: float = 30.0) -> None:
        self._client = client
        self._skip = skip_seconds
        self._down_until = 0.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 0.5) -> RedisStore:
        return cls(
            aioredis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        )

    async def get(self, digest: str) -> str | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            value = await self._client.get(REDIS_PREFIX + digest)
        except (aioredis.RedisError, OSError) as exc:
            self._failed(exc)
            return None
        return value.decode() if isinstance(value, bytes) else None

    async def put(self, digest: str, query: str) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            await self._client.set(REDIS_PREFIX + digest, query, ex=REDIS_TTL)
        except (aioredis.RedisError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        # Skip Redis for a while: a hung server must not add its timeout to every request.
        self._down_until = time.monotonic() + self._skip
        log.warning(
            "persisted-query store unavailable (%s); skipping it for %.0f s",
            type(exc).__name__,
            self._skip,
        )

    async def close(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True)
class Manifest:
    """Trusted documents by sha256 of their text."""

    documents: Mapping[str, str] = field(default_factory=dict)

    def __contains__(self, digest: object) -> bool:
        return digest in self.documents

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        """Read and check a manifest; ``ValueError`` says what is wrong (no document text)."""
        try:
            raw = orjson.loads(Path(path).read_bytes())
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{path} is not JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
            raise ValueError(f'{path}: "format" must be "{MANIFEST_FORMAT}"')
        operations = raw.get("operations")
        if not isinstance(operations, list):
            raise ValueError(f'{path}: "operations" must be a list')
        documents: dict[str, str] = {}
        for at, op in enumerate(operations):
            body = op.get("body") if isinstance(op, dict) else None
            digest = op.get("id") if isinstance(op, dict) else None
            if not isinstance(body, str) or not isinstance(digest, str):
                raise ValueError(f'{path}: operation {at} needs string "id" and "body"')
            if sha256(body) != digest.lower():
                raise ValueError(f"{path}: operation {at}: id is not the sha256 of its body")
            documents[digest.lower()] = body
        return cls(documents)


def manifest_of(documents: Mapping[str, str]) -> dict[str, Any]:
    """The manifest for ``{operation name: document text}`` (what ``revgate persist`` writes)."""
    from graphql import OperationDefinitionNode, parse

    operations = []
    for name, body in documents.items():
        kinds = [
            d.operation.value
            for d in parse(body).definitions
            if isinstance(d, OperationDefinitionNode)
        ]
        operations.append(
            {"id": sha256(body), "name": name, "type": kinds[0] if kinds else "query", "body": body}
        )
    return {"format": MANIFEST_FORMAT, "version": 1, "operations": operations}


def split_operations(text: str) -> Iterator[tuple[str, str]]:
    """Each named operation of a .graphql file with the fragments it uses, as its own
    document (a persisted document is what a client sends: one operation)."""
    from graphql import (
        FragmentDefinitionNode,
        FragmentSpreadNode,
        OperationDefinitionNode,
        Visitor,
        parse,
        print_ast,
        visit,
    )
    from graphql.language import DocumentNode, Node

    document = parse(text)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def spreads(node: Node) -> set[str]:
        names: set[str] = set()

        class Spreads(Visitor):
            def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: object) -> None:
                names.add(spread.name.value)

        visit(node, Spreads())
        return names

    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.name is None:
            raise ValueError("every persisted operation needs a name")
        used: list[str] = []
        pending = sorted(spreads(definition))
        while pending:  # the fragments it spreads, and theirs
            name = pending.pop()
            if name in used or name not in fragments:
                continue
            used.append(name)
            pending.extend(sorted(spreads(fragments[name])))
        needed = [fragments[name] for name in sorted(used)]
        yield definition.name.value, print_ast(DocumentNode(definitions=(definition, *needed)))


class PersistedQueries:
    """Turns a request's persisted-query extensions into its query text, or refuses it."""

    def __init__(
        self,
        store: Store | None,
        manifest: Manifest | None = None,
        persisted_only: bool = False,
    ) -> None:
        self.store = store  # None: APQ off
        self.manifest = manifest or Manifest()
        self.persisted_only = persisted_only

    async def resolve(self, query: object, extensions: object) -> str | None:
        """The query to run for a request's ``query`` and ``extensions``/``documentId``."""
        digest = _requested_hash(extensions)
        if digest is None:
            if (
                isinstance(query, str)
                and self.persisted_only
                and sha256(query) not in self.manifest
            ):
                raise _required()
            return query if isinstance(query, str) else None
        if isinstance(query, str):  # registration (APQ) or a trusted document sent in full
            if sha256(query) != digest:
                raise Refusal(
                    400,
                    "PERSISTED_QUERY_HASH_MISMATCH",
                    "provided sha256Hash does not match the query",
                )
            if digest in self.manifest:
                return query
            if self.persisted_only:
                raise _required()
            if self.store is not None:
                await self.store.put(digest, query)
            return query
        if (trusted := self.manifest.documents.get(digest)) is not None:
            return trusted
        if self.persisted_only:
            raise _required()
        if self.store is None:
            raise Refusal(200, "PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
        stored = await self.store.get(digest)
        if stored is None:
            raise Refusal(200, "PERSISTED_QUERY_NOT_FOUND", NOT_FOUND)
        return stored

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()


def _required() -> Refusal:
    return Refusal(
        400,
        "PERSISTED_QUERY_REQUIRED",
        "this gateway only runs its trusted documents (send the document's hash)",
    )


def _requested_hash(extensions: object) -> str | None:
    """The sha256 named by ``persistedQuery`` (APQ) or ``documentId`` (trusted documents)."""
    if not isinstance(extensions, dict):
        return None
    if (document_id := extensions.get("documentId")) is not None:
        if not isinstance(document_id, str) or not document_id.startswith("sha256:"):
            raise Refusal(400, "BAD_REQUEST", 'documentId must be "sha256:<hex digest>"')
        return _hex(document_id.removeprefix("sha256:"))
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise Refusal(
            400,
            "PERSISTED_QUERY_NOT_SUPPORTED",
            'persistedQuery must be {"version": 1, "sha256Hash": "<hex>"}',
        )
    return _hex(persisted.get("sha256Hash"))


def _hex(value: object) -> str:
    if (
        not isinstance(value, str)
        or len(value) != 64
        or any(c not in "0123456789abcdefABCDEF" for c in value)
    ):
        raise Refusal(400, "BAD_REQUEST", "a persisted query's hash must be 64 hex digits (sha256)")
    return value.lower()


class TrustedDocuments(SchemaExtension):
    """With ``persisted_only``, any transport (websockets too) runs trusted documents only."""

    manifest: Manifest = Manifest()

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query is None or sha256(ctx.query) not in self.manifest:
            # A pre-execution error: the validation rules, the cost walk and the caller's
            # budget are all skipped, on every transport.
            ctx.pre_execution_errors = [
                GraphQLError(_required().message, extensions={"code": "PERSISTED_QUERY_REQUIRED"})
            ]
        yield


def trusted_documents(manifest: Manifest) -> type[TrustedDocuments]:
    """The extension class bound to ``manifest``."""
    return type("BoundTrustedDocuments", (TrustedDocuments,), {"manifest": manifest})


def persisted_queries(settings: Settings) -> PersistedQueries:
    """The persisted queries of ``[server]``: APQ's store (Redis when ``[cache] url`` is one)."""
    server = settings.server
    store: Store | None = None
    if server.persisted_queries and not server.persisted_only:
        url = settings.cache.url
        redis_url = url.startswith(("redis://", "rediss://", "unix://"))
        store = RedisStore.from_url(url) if redis_url else MemoryStore()
    manifest = Manifest.load(server.trusted_documents) if server.trusted_documents else None
    return PersistedQueries(store, manifest, server.persisted_only)
