"""``create_app()``: the one composition root — routes, GraphQL endpoint, lifespan.

GET  /            → a short JSON index (links to the endpoints)
GET  /graphql     → GraphiQL (when enabled)
POST /graphql     → GraphQL over HTTP (strawberry), one fresh Context per request
WS   /graphql     → subscriptions (graphql-transport-ws)
GET  /healthz     → the process is up (touches no backend)
GET  /readyz      → per-backend reachability (503 only when no backend answers)
GET  /metrics     → Prometheus text format
*    /rest/<backend>/… → the backend's own REST API re-served (gateway/compat.py)

Every route sits behind ``gateway.guard.Guard`` (request id, API keys, rate, body size);
``/healthz``, ``/readyz``, ``/metrics`` and the GraphiQL page are open. A websocket may
also present its API key in the ``connection_init`` payload (``GraphQLApp.on_ws_connect``).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry's views raise for a 4xx (its dependency)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.types.unset import UnsetType

from adapters.base import Source
from adapters.breaker import Breakers
from adapters.cache import Cache
from adapters.eventlog import open_event_log
from adapters.registry import RequestHook
from gateway.compat import compat_routes
from gateway.context import SocketContext, request_context
from gateway.events import EventsCollector
from gateway.guard import Access, Guard
from gateway.health import readiness
from gateway.lifespan import build_cache, build_sources
from gateway.metrics import CountRequests, Metrics
from gateway.ratelimit import RateLimiter
from gateway.reload import Backends, PinGeneration, sighup_reload
from gateway.settings import Settings
from gateway.tracing import Tracing
from gateway.webhooks import Webhooks, WebhooksCollector
from schema.build import build_schema
from schema.context import Context
from schema.fastpath import FastPath
from schema.live import EventHub, event_readers

GC_YOUNG_THRESHOLD = 20_000


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames; orjson gives bytes, so send them as text."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with revgate's context and orjson encoding."""

    websocket_adapter_class = TextWebSocketAdapter

    def __init__(
        self,
        backends: Backends,
        settings: Settings,
        metrics: Metrics,
        access: Access,
        tracing: Tracing | None = None,
    ) -> None:
        self.fast_path = FastPath()
        extensions = [metrics.extension()]
        if tracing is not None:
            extensions.insert(0, tracing.extension())  # before metrics: the span covers it
        super().__init__(
            build_schema(
                access.query_limits,
                introspection=settings.server.introspection,
                extensions=extensions,
                fast_path=self.fast_path,
            ),
            graphql_ide="graphiql" if settings.server.graphiql else None,
            allow_queries_via_get=False,
        )
        self._backends = backends
        self._public_url = settings.server.public_url
        self._budget = settings.server.backend_budget
        self.breakers = Breakers()
        events = settings.events
        self.hub = EventHub(
            settings.server.poll_interval,
            open_event_log(events.store, events.retention_events, events.retention_seconds),
            lease=events.lease_seconds,
            # Pollers use the configured credentials (of the current generation), whoever
            # subscribed: what one poll publishes is read by every subscriber.
            readers=lambda: event_readers(backends.sources),
        )
        self._access = access

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        # The generation pinned by PinGeneration for this request (see gateway/reload.py).
        sources = request.scope.get("state", {}).get("revgate_sources", self._backends.sources)
        sub_response = response if isinstance(response, Response) else None
        view, meta = self._access.context_parts(request, sub_response, sources)
        parts = (self._public_url, self._budget, self.breakers, self.hub, meta)
        if isinstance(request, WebSocket):
            # One context per connection; on_ws_connect may still change its caller.
            return SocketContext(view, *parts, pinned=sources, client=request)
        return request_context(view, *parts)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket by the API key in its ``connection_init`` payload, if
        any (browsers cannot set headers on a websocket); a refusal closes it with 4403."""
        if isinstance(context, SocketContext):
            refusal = await self._access.admit_socket(context)
            if refusal is not None:
                raise ConnectionRejectionError({"message": refusal[0], "code": refusal[1]})
        return await super().on_ws_connect(context)

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


def create_app(
    settings: Settings,
    sources: dict[str, Source] | None = None,
    reload_settings: Callable[[], Settings] | None = None,
    cache: Cache | None = None,
    limiter: RateLimiter | None = None,
    tracing: Tracing | None = None,
) -> Starlette:
    """The revgate ASGI app for ``settings``.

    ``sources`` lets tests inject their own (already opened) backends, with the response
    ``cache`` they use if any (for its metrics; the caller closes it); otherwise the
    ``[cache]`` store is built here, shared by every reload generation and closed with the
    app. ``reload_settings`` re-reads the configuration when the process receives SIGHUP.
    ``limiter`` replaces the rate limiter chosen by ``[limits] store`` (in-process or Redis).
    ``tracing`` (optional) records OpenTelemetry spans (see gateway/tracing.py).
    """
    metrics = Metrics()
    hooks = _upstream_hooks(metrics, tracing)
    injected = sources is not None
    if sources is None:
        cache = build_cache(settings)
        sources = build_sources(settings, hooks, cache)
    if cache is not None:
        metrics.watch_cache(cache)
    backends = Backends(sources)
    metrics.watch_stamps(lambda: backends.sources)
    access = Access(settings, limiter, hooks, cache)
    graphql = GraphQLApp(backends, settings, metrics, access, tracing)
    webhooks = Webhooks(graphql.hub, settings.events.webhooks)

    def load() -> Mapping[str, Source]:
        assert reload_settings is not None
        return build_sources(reload_settings(), hooks, cache)

    async def index(request: Request) -> Response:
        visible, _ = access.context_parts(request, None, backends.sources)  # anonymous-off hidden
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

    async def readyz(request: Request) -> Response:
        ready, report = await readiness(backends.sources)
        for name, result in report["backends"].items():
            metrics.backend_up.labels(name).set(1 if result["status"] == "up" else 0)
        return JSONResponse(report, status_code=200 if ready else 503)

    async def metrics_endpoint(request: Request) -> Response:
        for name, breaker in graphql.breakers.by_backend.items():
            metrics.breaker_open.labels(name).set(0 if breaker.state == "closed" else 1)
        return Response(metrics.render(), media_type=metrics.content_type)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not injected:
            await backends.open()
        # Start-up objects (schema, modules, plans' types) never die: move them out of the
        # collector's generations, or full collections keep re-scanning them (p99, PERFORMANCE)
        gc.collect()
        gc.freeze()
        # A list request allocates ~10,000 short-lived containers (payload dicts, records,
        # response dicts): with the default young-generation threshold (700) that is a dozen
        # collections per request. 20,000 cut CPU per list request ~10 % at 32 connections
        # (bench/README.md); frozen start-up objects are never scanned either way.
        gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 100)
        try:
            async with (
                access.opened(),
                sighup_reload(backends, load if reload_settings else None),
                webhooks.running(),  # after the backends open, stopped before they close
            ):
                yield
        finally:
            await graphql.hub.close()
            if not injected:
                await backends.close()
                if cache is not None:
                    await cache.close()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"], name="graphql"),
            WebSocketRoute("/graphql", graphql),
            *compat_routes(backends, settings, access),
        ],
        middleware=[
            Middleware(CountRequests, metrics=metrics),  # outermost: refusals are counted too
            Middleware(Guard, access=access),
            Middleware(PinGeneration, backends=backends),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.backends = backends
    app.state.hub = graphql.hub
    metrics.registry.register(EventsCollector(graphql.hub))
    metrics.registry.register(WebhooksCollector(webhooks))
    app.state.webhooks = webhooks
    app.state.cache = cache
    app.state.fast_path = graphql.fast_path
    return app


def _upstream_hooks(metrics: Metrics, tracing: Tracing | None) -> Callable[[str], RequestHook]:
    """Backend name → its ``on_request`` hook: metrics, plus a span per attempt if tracing."""
    if tracing is None:
        return metrics.upstream_hook

    def hooks(backend: str) -> RequestHook:
        count, trace = metrics.upstream_hook(backend), tracing.upstream_hook(backend)

        def hook(method: str, url: str, status: int | None, seconds: float) -> None:
            count(method, url, status, seconds)
            trace(method, url, status, seconds)

        return hook

    return hooks
