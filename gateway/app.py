"""``create_app()``: the one composition root — routes, GraphQL endpoint, lifespan.

GET  /            → a short JSON index (links to the endpoints)
GET  /graphql     → GraphiQL (when enabled)
POST /graphql     → GraphQL over HTTP (strawberry), one fresh Context per request
GET  /healthz     → the process is up
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry's views raise for a 4xx (its dependency)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from adapters.base import Source
from gateway.context import request_context
from gateway.lifespan import build_sources, open_sources
from gateway.settings import Settings
from schema.build import build_schema
from schema.context import Context


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with revgate's context and orjson encoding."""

    def __init__(self, sources: Mapping[str, Source], settings: Settings) -> None:
        super().__init__(
            build_schema(),
            graphql_ide="graphiql" if settings.server.graphiql else None,
            allow_queries_via_get=False,
        )
        self._sources = sources
        self._public_url = settings.server.public_url

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return request_context(self._sources, self._public_url)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson reports undecodable UTF-8 as a JSONDecodeError (→ 400); json.loads raises
        # UnicodeDecodeError there, which strawberry turns into a 500.
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """The decoded body; 400 unless it is an object (or a list, refused as a batch)."""
        value = super().parse_json(data)
        # strawberry calls .get() on anything that is not a list: `null`, `1` or `"x"` as a
        # body would be a 500 (found by tests/reliability/test_fuzz.py).
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return value


def create_app(settings: Settings, sources: dict[str, Source] | None = None) -> Starlette:
    """The revgate ASGI app for ``settings`` (``sources`` lets tests inject their own)."""
    backends = sources if sources is not None else build_sources(settings)
    graphql = GraphQLApp(backends, settings)

    async def index(request: Request) -> Response:
        return JSONResponse(
            {
                "name": "revgate",
                "graphql": str(request.url_for("graphql")),
                "backends": [
                    {"name": s.name, "kind": s.kind, "url": s.url} for s in backends.values()
                ],
            }
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_sources(backends):
            yield

    return Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/graphql", graphql, methods=["GET", "POST"], name="graphql"),
        ],
        lifespan=lifespan,
    )
