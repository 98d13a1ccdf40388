"""``create_app()``: the one composition root — routes, GraphQL endpoint, lifespan.

GET  /            → a short JSON index (links to the endpoints)
GET  /graphql     → GraphiQL (when enabled)
POST /graphql     → GraphQL over HTTP (strawberry), one fresh Context per request
GET  /healthz     → the process is up

Every route sits behind ``gateway.guard.Guard`` (request id, API keys, rate, body size).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from adapters.base import Source
from gateway.context import request_context
from gateway.guard import Access, Guard
from gateway.lifespan import build_sources, open_sources
from gateway.ratelimit import RateLimiter
from gateway.settings import Settings
from schema.build import build_schema
from schema.context import Context


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with revgate's context and orjson encoding."""

    def __init__(self, sources: Mapping[str, Source], settings: Settings, access: Access) -> None:
        super().__init__(
            build_schema(access.query_limits, introspection=settings.server.introspection),
            graphql_ide="graphiql" if settings.server.graphiql else None,
            allow_queries_via_get=False,
        )
        self._sources = sources
        self._public_url = settings.server.public_url
        self._access = access

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        sub_response = response if isinstance(response, Response) else None
        view, meta = self._access.context_parts(request, sub_response, self._sources)
        return request_context(view, self._public_url, meta)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def create_app(
    settings: Settings,
    sources: dict[str, Source] | None = None,
    limiter: RateLimiter | None = None,
) -> Starlette:
    """The revgate ASGI app for ``settings`` (``sources`` lets tests inject their own;
    ``limiter`` replaces the in-process rate limiter, e.g. by a shared one)."""
    backends = sources if sources is not None else build_sources(settings)
    access = Access(settings, limiter)
    graphql = GraphQLApp(backends, settings, access)

    async def index(request: Request) -> Response:
        visible, _ = access.context_parts(request, None, backends)  # hides anonymous-off ones
        return JSONResponse(
            {
                "name": "revgate",
                "graphql": str(request.url_for("graphql")),
                "backends": [
                    {"name": s.name, "kind": s.kind, "url": s.url} for s in visible.values()
                ],
            }
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(open_sources(backends))
            if callers := access.all_caller_sources():  # API keys with their own tokens
                await stack.enter_async_context(open_sources(callers))
            yield

    return Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/graphql", graphql, methods=["GET", "POST"], name="graphql"),
        ],
        lifespan=lifespan,
        middleware=[Middleware(Guard, access=access)],
    )
