"""``create_app()``: the one composition root — routes, GraphQL endpoint, lifespan.

GET  /            → a short JSON index (links to the endpoints)
GET  /graphql     → GraphiQL (when enabled; its assets under /graphiql/, gateway/ide.py)
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
import contextvars
import dataclasses
import gc
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry's views raise for a 4xx (its dependency)
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry import Schema
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import HTTPStreamTransport
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types.execution import ExecutionResult
from strawberry.types.unset import UnsetType

from adapters.base import Source
from adapters.breaker import Breakers
from adapters.cache import Cache
from adapters.eventlog import open_event_log
from adapters.registry import RequestHook
from gateway import ide
from gateway.callers import Policy
from gateway.compat import compat_routes
from gateway.context import SocketContext, request_context
from gateway.cors import cors, origin_matcher
from gateway.dashboard import Dashboard, wants_page, with_operations
from gateway.dashboard import operations as dashboard_operations
from gateway.events import EventsCollector
from gateway.guard import Access, Guard
from gateway.health import readiness
from gateway.lean import LeanEntry
from gateway.lifespan import build_cache, build_sources
from gateway.logs import install_scrubbing
from gateway.metrics import CountRequests, Metrics
from gateway.over_http import (
    GRAPHQL_RESPONSE,
    REQUEST_ERROR,
    MultipartTransport,
    PlainPosts,
    ResumableSSETransport,
    cache_control,
    etag,
    etag_matches,
    header,
    is_request_error,
    request_data,
    root_fields,
    wants_graphql_response,
)
from gateway.persisted import Refusal, TrustedDocuments, persisted_queries, trusted_documents
from gateway.ratelimit import RateLimiter
from gateway.reload import Backends, PinGeneration, restart_only_changes, sighup_reload
from gateway.route import GraphQLRoute
from gateway.scrub import ScrubSecrets, register_settings
from gateway.settings import Settings
from gateway.tracing import Tracing
from gateway.webhooks import Webhooks, WebhooksCollector
from schema.build import build_schema
from schema.context import Context
from schema.errors import http_error_body
from schema.execution import FastPath
from schema.execution.strawberry_private import graphql_schema
from schema.live import EventHub, event_readers

GC_YOUNG_THRESHOLD = 20_000
_ETAG = "revgate_etag"
# The query text a request runs (persisted queries resolved), read back by the caching
# headers: set and read in the request's own task.
_QUERY: contextvars.ContextVar[str | None] = contextvars.ContextVar("revgate_query", default=None)
log = logging.getLogger("revgate.reload")


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
    stream_transport_classes_by_protocol: Mapping[str, type[HTTPStreamTransport]] = {
        **GraphQL.stream_transport_classes_by_protocol,
        GRAPHQL_SSE_PROTOCOL: ResumableSSETransport,  # event cursors as SSE ids
        MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartTransport,  # any operation, coded errors
    }

    def __init__(
        self,
        backends: Backends,
        settings: Settings,
        metrics: Metrics,
        access: Access,
        tracing: Tracing | None = None,
    ) -> None:
        self.fast_path = FastPath()
        self.persisted = persisted_queries(settings)
        # OperationGate (who may write, socket rates) before metrics: refusals are counted.
        extensions: list[Any] = [access.extension(), metrics.extension()]
        trusted = trusted_documents(self.persisted.manifest)
        if settings.server.persisted_only:
            extensions.append(trusted)
        if tracing is not None:
            extensions.insert(0, tracing.extension())  # before metrics: the span covers it
        schema = build_schema(
            access.query_limits,
            introspection=settings.server.introspection,
            extensions=extensions,
            fast_path=self.fast_path,
            batch_max_operations=settings.server.batch_max_operations,
            kinds=settings.kinds,
            lean=tracing is None and not settings.server.persisted_only,
        )
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.server.graphiql else None,
            allow_queries_via_get=True,  # queries only: gateway/over_http.py
            # Subscriptions over websockets (both protocols), Server-Sent Events (graphql-sse's
            # distinct connections mode) and multipart HTTP: the same schema, auth and limits.
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
                MULTIPART_SUBSCRIPTION_PROTOCOL,
            ),
            # A socket that never sends connection_init is closed (4408) after this.
            connection_init_wait_timeout=timedelta(seconds=settings.server.socket_init_timeout),
        )
        self.dashboard = self._dashboard(settings, schema, trusted)
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
        self._origin_allowed = origin_matcher(settings.server.cors_origins)
        self._max_ages = dict(settings.server.cache_max_age)
        self._plain = PlainPosts(self._get_stream_transport_from_headers)
        self.lean = LeanEntry(self, schema.lean, metrics, self._plain) if schema.lean else None

    def _dashboard(
        self, settings: Settings, schema: Schema, trusted: type[TrustedDocuments]
    ) -> Dashboard | None:
        """The dashboard, if on; its operations become trusted documents the gateway ships
        (gateway/dashboard.py), beside the deployment's own."""
        if not settings.server.dashboard:
            return None
        documents = dashboard_operations(graphql_schema(schema))
        self.persisted.manifest = with_operations(self.persisted.manifest, documents)
        trusted.manifest = self.persisted.manifest
        return Dashboard(documents, settings.server.poll_interval)

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # Only asked for cross-origin handshakes: the same rule as CORS (gateway/cors.py).
        return self._origin_allowed(origin)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        # The generation pinned by PinGeneration for this request (see gateway/reload.py).
        sources = request.scope.get("state", {}).get("revgate_sources", self._backends.sources)
        sub_response = response if isinstance(response, Response) else None
        view, meta = self._access.context_parts(request, sub_response, sources)
        parts = (self._public_url, self._budget, self.breakers, self.hub, meta)
        # the generation's [[people]] map: follows reloads with the access policy
        people = self._access.policy_of(request.scope).directory
        if isinstance(request, WebSocket):
            # One context per connection; on_ws_connect may still change its caller.
            return SocketContext(view, *parts, people, pinned=sources, client=request)
        meta.resume_after = header(request.scope, b"last-event-id")  # SSE reconnects
        return request_context(view, *parts, people)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket by the API key in its ``connection_init`` payload, if
        any (browsers cannot set headers on a websocket); a refusal closes it with 4403."""
        if isinstance(context, SocketContext):
            refusal = await self._access.admit_socket(context)
            if refusal is not None:
                raise ConnectionRejectionError({"message": refusal[0], "code": refusal[1]})
        return await super().on_ws_connect(context)

    async def render_graphql_ide(self, request: Request) -> Response:
        # The shipped page (gateway/ide.py): nothing is loaded from a third-party host.
        return HTMLResponse(ide.page(request.url.path, request.scope.get("root_path", "")))

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A browser navigating to /graphql?query=… gets GraphiQL with that query prefilled
        # (strawberry would try to execute it); the Guard uses the same rule (gateway/ide.py).
        return ide.is_page_request(
            request.method, request.headers.get("accept", ""), lambda: request.query_params
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # strawberry's own __call__, but its refusals (bad JSON, no query, unknown operation,
        # subscription over POST …) answered as coded GraphQL errors, not plain text.
        request = Request(scope=scope, receive=receive)
        _QUERY.set(None)
        accept = header(scope, b"accept") or ""
        new_type = wants_graphql_response(accept)
        try:  # a planned query by gateway/lean.py (answered there), else by strawberry's view
            if self.lean is not None and await self.lean.answer(request, accept, new_type, send):
                return
            response = await self.run(request)
        except HTTPException as exc:
            body = http_error_body(exc.status_code, exc.reason, exc.__cause__)
            status, headers = exc.status_code, {}
            if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                status, headers = 405, {"Allow": "POST"}  # a mutation by GET (the spec's 405)
            if new_type:
                body.pop("data", None)  # a request error: nothing was executed
            response = Response(orjson.dumps(body), status, headers, "application/json")
        except Refusal as exc:  # persisted queries (gateway/persisted.py)
            response = JSONResponse(exc.body(), exc.status, headers=dict(exc.headers))
        response = self._over_http(request, response, new_type)
        await response(scope, receive, send)

    def _over_http(self, request: Request, response: Response, new_type: bool) -> Response:
        """Media type, status and caching headers of a GraphQL answer (gateway/over_http.py)."""
        if response.media_type != "application/json":
            return response  # the GraphiQL page, an event stream
        state = request.scope.get("state", {})
        if new_type:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if state.get(REQUEST_ERROR) and response.status_code == 200:
                response.status_code = 400
        tag = state.get(_ETAG)
        if request.method != "GET" or tag is None or response.status_code != 200:
            return response
        caller = state.get("caller")
        fields = root_fields(_QUERY.get() or "", request.query_params.get("operationName"))
        cache = {
            "ETag": tag,
            "Cache-Control": cache_control(
                self._max_ages, fields, getattr(caller, "anonymous", True)
            ),
            "Vary": "Accept, Authorization, X-Api-Key",
        }
        if etag_matches(request.headers.get("if-none-match", ""), tag):
            return Response(status_code=304, headers=cache)
        response.headers.update(cache)
        return response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        state = request.scope.setdefault("state", {})
        if is_request_error(result):
            state[REQUEST_ERROR] = True
            if wants_graphql_response(request.headers.get("accept", "")):
                body.pop("data", None)  # the spec: a request error has no data entry
        elif request.method == "GET" and not result.errors:
            state[_ETAG] = etag(body)
        return body

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        if isinstance(request_data, list) and len(request_data) > 1:
            # A batch is one HTTP request but several operations: each beyond the first takes
            # a request token too (as each operation on a websocket does), before any runs.
            await self._access.charge_batch(request.scope, len(request_data) - 1)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request, with a persisted query's hash replaced by its text."""
        if self._plain.applies(request):  # what strawberry would read, without its header parse
            data = request_data(self, self.parse_json(await request.get_body()))
        else:
            data = await super().parse_http_body(request)
        if isinstance(data, list):
            return [await self._resolve(item) for item in data]
        return await self._resolve(data)

    async def _resolve(self, data: GraphQLRequestData) -> GraphQLRequestData:
        query = await self.persisted.resolve(data.query, data.extensions)
        if not query and data.protocol != "http":
            # a streamed answer (SSE, multipart) would report this inside the stream as an
            # internal error: refuse it as the plain path does (400, BAD_REQUEST)
            raise HTTPException(400, "No GraphQL query found in the request")
        _QUERY.set(query)  # a hash-only GET is cached by its query's root fields
        return data if query is data.query else dataclasses.replace(data, query=query)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson reports undecodable UTF-8 as a JSONDecodeError (→ 400); json.loads raises
        # UnicodeDecodeError there, which strawberry turns into a 500.
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """The decoded body; 400 unless it is an object, or a non-empty list of objects (a
        batch: refused unless ``batch_max_operations`` allows it)."""
        value = super().parse_json(data)
        # strawberry calls .get() on the body, or on each item of a list: `null`, `1`, `"x"`
        # or `[1]` would be a 500 (found by tests/reliability/test_fuzz.py and a probe).
        if isinstance(value, list):
            if not value or not all(isinstance(item, dict) for item in value):
                raise HTTPException(
                    400,
                    "Expected a JSON object (a batch: a non-empty list of JSON objects)",
                )
        elif not isinstance(value, dict):
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
    # Every secret is known before anything can log or answer (gateway/scrub.py).
    register_settings(settings)
    install_scrubbing()
    metrics = Metrics()
    hooks = _upstream_hooks(metrics, tracing)
    injected = sources is not None
    if sources is None:
        cache = build_cache(settings)
        sources = build_sources(settings, hooks, cache)
    if cache is not None:
        metrics.watch_cache(cache)
    access = Access(settings, limiter, hooks, cache)
    backends = Backends(sources, policy=access.policy)
    metrics.watch_stamps(lambda: backends.sources)
    graphql = GraphQLApp(backends, settings, metrics, access, tracing)
    webhooks = Webhooks(graphql.hub, settings.events.webhooks)
    load = _reloader(settings, reload_settings, hooks, cache)
    lifespan = _lifespan(backends, access, graphql, webhooks, load, cache, built=not injected)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"], name="graphql"),  # tried first
            WebSocketRoute("/graphql", graphql),
            *_probe_routes(access, backends, graphql, metrics),
            *_page_routes(settings, graphql),
            *compat_routes(backends, settings, access),
        ],
        middleware=_middleware(settings, metrics, backends, access, graphql),
        lifespan=lifespan,
        # Starlette's own refusals (no route, a method it does not take) as coded JSON
        exception_handlers={StarletteHTTPException: _coded_http_error},
    )
    app.state.metrics = metrics
    app.state.backends = backends
    app.state.hub = graphql.hub
    metrics.registry.register(EventsCollector(graphql.hub))
    metrics.registry.register(WebhooksCollector(webhooks))
    app.state.webhooks = webhooks
    app.state.cache = cache
    app.state.fast_path = graphql.fast_path
    app.state.graphql = graphql  # the GraphQL view (tests switch its lean entry)
    app.state.header_timeout = settings.server.header_timeout  # read by cli.uvicorn_server
    app.state.reload = load
    return app


Reload = Callable[[], tuple[Mapping[str, Source], Policy]]


def _reloader(
    settings: Settings,
    reload_settings: Callable[[], Settings] | None,
    hooks: Callable[[str], RequestHook],
    cache: Cache | None,
) -> Reload | None:
    """What SIGHUP runs: the next generation's backends and access policy (None: no reload)."""
    if reload_settings is None:
        return None
    read = reload_settings

    def load() -> tuple[Mapping[str, Source], Policy]:
        # Everything derived from the config is rebuilt (backends, keys, access policy,
        # per-key sources); what only a restart can change is reported, never half-applied.
        new = read()
        register_settings(new)  # the new config's secrets are scrubbed from now on
        if kept := restart_only_changes(settings, new):
            log.warning("reload: %s changed but need a restart (running values kept)", kept)
        return build_sources(new, hooks, cache), Policy.build(new, hooks, cache)

    return load


def _page_routes(settings: Settings, graphql: GraphQLApp) -> list[Route | Mount]:
    """GraphiQL's assets and the dashboard, each when on."""
    graphiql = [Mount(ide.ASSETS_PATH, ide.assets())] if settings.server.graphiql else []
    return graphiql + (graphql.dashboard.routes() if graphql.dashboard else [])


def _probe_routes(
    access: Access, backends: Backends, graphql: GraphQLApp, metrics: Metrics
) -> list[Route]:
    """``/`` (an index), ``/healthz``, ``/readyz`` and ``/metrics``."""

    async def index(request: Request) -> Response:
        if wants_page(request):  # a browser; open to anyone, so it lists no backends
            if graphql.dashboard is not None:
                return graphql.dashboard.page(request)
            return JSONResponse({"name": "revgate", "graphql": str(request.url_for("graphql"))})
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

    return [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
    ]


def _lifespan(
    backends: Backends,
    access: Access,
    graphql: GraphQLApp,
    webhooks: Webhooks,
    load: Reload | None,
    cache: Cache | None,
    *,
    built: bool,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """Opens the backends (``built``: the app's own, else only per-key sources) and the access
    stores, runs SIGHUP reloads and webhooks while serving, and closes what it opened, with
    the cache if the app built it (an injected cache is closed by its caller)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await backends.open(backends=built)  # per-key sources in any case
        _tune_collector()
        try:
            async with (
                access.opened(),
                sighup_reload(backends, load),
                webhooks.running(),  # after the backends open, stopped before they close
            ):
                yield
        finally:
            await graphql.hub.close()
            await graphql.persisted.close()
            await backends.close(backends=built)
            if built and cache is not None:
                await cache.close()

    return lifespan


def _tune_collector() -> None:
    # Start-up objects (schema, modules, plans' types) never die: move them out of the
    # collector's generations, or full collections keep re-scanning them (p99)
    gc.collect()
    gc.freeze()
    # A list request allocates ~10,000 short-lived containers (payload dicts, records,
    # response dicts): with the default young-generation threshold (700) that is a dozen
    # collections per request; a higher one cuts CPU per list request (bench/README.md);
    # frozen start-up objects are never scanned either way.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 100)


def _middleware(
    settings: Settings, metrics: Metrics, backends: Backends, access: Access, graphql: GraphQLApp
) -> list[Middleware]:
    """Outermost first."""
    return [
        Middleware(ScrubSecrets),  # outermost: every byte of every answer is scrubbed
        Middleware(CountRequests, metrics=metrics),  # refusals are counted too
        # Pinned before the Guard: a request is authenticated, sees backends and writes
        # under the access policy of one configuration generation (gateway/reload.py).
        Middleware(PinGeneration, backends=backends),
        # Before the Guard: preflights carry no credentials, and a refusal (401, 429)
        # must carry CORS headers for the page to read it.
        Middleware(
            cors,
            origins=settings.server.cors_origins,
            allow_credentials=settings.server.cors_allow_credentials,
            max_age=settings.server.cors_max_age,
        ),
        Middleware(Guard, access=access),
        Middleware(GraphQLRoute, graphql=graphql),  # past the router: gateway/route.py
    ]


_ROUTE_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


async def _coded_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _ROUTE_CODES.get(exc.status_code, "BAD_REQUEST")
    body = {"errors": [{"message": exc.detail, "extensions": {"code": code}}]}
    return JSONResponse(body, exc.status_code, headers=exc.headers)


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
