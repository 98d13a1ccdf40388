"""The gate in front of every route: request id, API key, request rate, request body size.

``Guard`` is a pure ASGI middleware; per HTTP request, in this order:

1. gives the request an id — ``X-Request-Id`` on every response, ``extensions.requestId`` on
   masked GraphQL errors, and in the log line of an unexpected error;
2. authenticates (``gateway/auth.py``): a missing key when ``[server] anonymous = false``,
   or a bad one, is **401** with ``WWW-Authenticate: Bearer`` — ``/healthz``, ``/readyz``,
   ``/metrics`` (probes and Prometheus) and the GraphiQL page (``GET /graphql``) are open;
3. takes one token from the caller's request bucket: empty is **429** with ``Retry-After``;
4. reads the body up to ``[server] max_body_bytes`` — a larger ``Content-Length`` is refused
   before reading anything, a longer stream as soon as it crosses the cap: **413**; a body
   not complete within ``[server] body_timeout``: **408** ``REQUEST_TIMEOUT``.

Each GraphQL operation then passes ``OperationGate`` (a schema extension, so every transport
goes through it): mutations need a caller allowed to write, and each websocket operation
takes a request token.

A websocket (subscriptions, ``WS /graphql``) is authenticated the same way by its upgrade
headers — a bad key closes it with 4401, an empty request bucket with 4429 — or, when it sent
no key, by the key in its ``connection_init`` payload (``Authorization: "Bearer <key>"`` or
``apiKey``; ``Access.admit_socket``, called from ``GraphQLApp.on_ws_connect``): browsers
cannot set headers on a websocket. Without a usable key there, it is closed with 4403.

Every refusal is a JSON body ``{"errors": [{"message", "extensions": {"code", "requestId"}}]}``
(codes ``UNAUTHENTICATED``, ``RATE_LIMITED``, ``PAYLOAD_TOO_LARGE``, ``REQUEST_TIMEOUT``) —
except on a REST compat mount (``/rest/<backend>/``), where legacy clients read their
server's errors: there it is the backend kind's own answer (``adapters/native.py``, through
``Access.compat_refusal``); none echoes what the client sent. The caller and the id are
left in ``scope["state"]`` for ``Access.context``, which gives the GraphQL request its
``RequestMeta``, its cost budget and the caller's view of the backends
(``gateway/callers.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from adapters.base import Source
from adapters.cache import Cache
from adapters.native import Detail, Native, Reason
from adapters.registry import RequestHook
from gateway.auth import AuthFailure, Caller
from gateway.callers import WRITING, CallerSources, Policy
from gateway.context import SocketContext
from gateway.dashboard import is_dashboard_page
from gateway.ide import is_page_scope
from gateway.logs import REQUEST_ID
from gateway.ratelimit import CallerBudget, Decision, RateLimiter, rate_limiter
from gateway.settings import ServerSettings, Settings
from schema.context import Context
from schema.errors import INTERNAL_MESSAGE
from schema.limits import QueryLimits
from schema.request import RequestMeta, new_request_id

OPEN_ROUTES = frozenset(
    {
        ("GET", "/healthz"),
        ("HEAD", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
    }
)
OPEN_ASSETS = "/graphiql/"  # GraphiQL's shipped files (gateway/ide.py), open like its page
BODY_READ = "revgate_body"  # request state: the body the Guard read and replays to the app
# Where a websocket client may put its key in the connection_init payload.
_SOCKET_KEY_FIELDS = {
    "authorization": "authorization",
    "apikey": "x-api-key",
    "x-api-key": "x-api-key",
}

log = logging.getLogger("revgate.access")

# (scope, client address) → the caller a REST compat request is counted against.
CompatCaller = Callable[[Scope, str], Caller]
# (scope, why, what to say) → that refusal as the compat backend's kind answers it, or None.
CompatRefusal = Callable[[Scope, Reason, Detail], Native | None]


def error_body(message: str, code: str, request_id: str, **extensions: Any) -> bytes:
    """A GraphQL-shaped JSON error body."""
    ext = {"code": code, "requestId": request_id, **extensions}
    return orjson.dumps({"errors": [{"message": message, "extensions": ext}]})


class Access:
    """Who may call and how much (see the module docstring). The access ``Policy`` is per
    configuration generation (``gateway/reload.py``): each request uses the one pinned for
    it by ``PinGeneration``, so a reload applies to every request that starts after it."""

    def __init__(
        self,
        settings: Settings,
        limiter: RateLimiter | None = None,
        hooks: Callable[[str], RequestHook] | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.policy = Policy.build(settings, hooks, cache)  # the first generation's
        self.limiter = limiter if limiter is not None else rate_limiter(settings.limits.store)
        # The REST compat mount (/rest/…) authenticates in each backend kind's own scheme and
        # answers refusals in its format: set by create_app (gateway/compat.py).
        self.compat_caller: CompatCaller | None = None
        # ... and gives the Guard's own refusals there in the kind's form (adapters/native.py).
        self.compat_refusal: CompatRefusal | None = None
        limits = settings.limits
        self.query_limits = QueryLimits(
            max_depth=limits.max_depth,
            max_aliases=limits.max_aliases,
            max_tokens=limits.max_tokens,
            max_cost=limits.max_cost,
        )

    def policy_of(self, scope: Scope) -> Policy:
        """The policy of the generation ``scope``'s request pinned (else the first one)."""
        pinned: Policy | None = (scope.get("state") or {}).get("revgate_policy")
        return pinned if pinned is not None else self.policy

    async def charge_batch(self, scope: Scope, extra: int) -> None:
        """Take ``extra`` more request tokens for a batch's further operations; a refusal
        (``gateway.persisted.Refusal``, answered 429) runs none of them."""
        caller = (scope.get("state") or {}).get("caller")
        if not isinstance(caller, Caller) or extra <= 0:
            return
        decision = await self.limiter.take(
            f"req:{caller.rate_key}", extra, caller.requests_per_minute
        )
        if not decision.allowed:
            from gateway.persisted import Refusal  # imported here: GraphQL code, not the Guard's

            retry = decision.retry_after_header()
            raise Refusal(
                429,
                "RATE_LIMITED",
                f"rate limit exceeded: {decision.limit} requests per minute (each operation "
                f"of a batch counts); retry in {retry} s",
                (("Retry-After", str(retry)),),
            )

    @contextlib.asynccontextmanager
    async def opened(self) -> AsyncIterator[None]:
        """Close the rate limiter at the end (per-key sources live in the backend
        generations: ``gateway/reload.py``)."""
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await self.limiter.close()

    def extension(self) -> Callable[[], SchemaExtension]:
        """The schema extension checking every operation (``OperationGate``)."""
        return lambda: OperationGate(self)

    async def admit_socket(self, context: SocketContext) -> tuple[str, str] | None:
        """Authenticate a websocket by the key in its ``connection_init`` payload, if any.

        On success the caller's sources and ``RequestMeta`` replace the context's; ``None``
        means admitted, else ``(message, code)`` of the refusal (logged, never the key)."""
        socket = context.client
        if socket is None:
            return None
        state = socket.scope.setdefault("state", {})
        headers = {
            header: str(value)
            for name, value in (context.connection_params or {}).items()
            if (header := _SOCKET_KEY_FIELDS.get(str(name).lower())) is not None
        }
        refusal: tuple[str, str] | None = None
        if not headers:
            if state.get("auth_pending"):
                refusal = (
                    "an API key is required: send it in the connection_init payload "
                    '({"Authorization": "Bearer <key>"}) or the Authorization header',
                    "UNAUTHENTICATED",
                )
        else:
            client = socket.scope.get("client")
            authenticator = self.policy_of(socket.scope).authenticator
            caller = authenticator.authenticate(headers, client[0] if client else "-")
            if isinstance(caller, AuthFailure):
                refusal = (caller.message, "UNAUTHENTICATED")
            else:
                decision = await self.limiter.take(
                    f"req:{caller.rate_key}", 1, caller.requests_per_minute
                )
                if not decision.allowed:
                    refusal = (f"rate limit exceeded: {decision.limit} per minute", "RATE_LIMITED")
                else:
                    state["caller"] = caller
                    state.pop("auth_pending", None)
                    view, meta = self.context_parts(socket, None, context.pinned)
                    meta.request_id = context.meta.request_id
                    context.sources, context.meta = view, meta
        if refusal is not None:
            log.info("request %s: websocket refused: %s", context.meta.request_id, refusal[0])
        return refusal

    def context_parts(
        self, request: Request | WebSocket, response: Response | None, sources: Mapping[str, Source]
    ) -> tuple[Mapping[str, Source], RequestMeta]:
        """The caller's view of ``sources`` and the ``RequestMeta`` of one GraphQL request."""
        state = request.scope.get("state") or {}
        caller: Caller | None = state.get("caller")
        meta = RequestMeta(request_id=state.get("request_id") or new_request_id())
        if state.get("auth_pending"):  # a websocket still to authenticate: no backend yet
            return {}, meta
        if caller is not None:
            meta.caller = caller.name
            meta.anonymous = caller.anonymous

            def refuse(decision: Decision) -> None:
                if response is not None:
                    response.status_code = 429
                    response.headers["Retry-After"] = decision.retry_after_header()

            meta.budget = CallerBudget(
                self.limiter, f"cost:{caller.rate_key}", caller.cost_per_minute, refuse
            )
        view = self.policy_of(request.scope).view(caller, sources)
        return view, meta


class OperationGate(SchemaExtension):
    """Checks each GraphQL operation before it runs, whatever the transport:

    - a mutation needs a caller allowed to write (``gateway/callers.py``): a caller who may
      write to no visible backend gets one coded error (``UNAUTHENTICATED`` anonymous,
      ``FORBIDDEN`` read-only key) and nothing runs; otherwise ``WRITING`` is set while it
      executes, so a field writing to a backend the caller may not write to fails with that
      code before its upstream request;
    - every operation on a websocket (each ``subscribe`` message) takes one token from the
      caller's request bucket, like an HTTP request: the upgrade alone would let one socket
      run any number of operations. Over the limit it is ``RATE_LIMITED`` (the socket stays
      open: the client may retry after ``retryAfter`` seconds).
    """

    def __init__(self, access: Access) -> None:
        self.access = access

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        error: GraphQLError | None = None
        if ctx.result is None:
            try:
                error = await self._check(ctx.context, ctx.operation_type)
            except Exception as exc:  # a bug here must be masked, not leaked: fail closed
                error = GraphQLError(INTERNAL_MESSAGE, original_error=exc)
        if error is not None:
            if ctx.operation_type is OperationType.SUBSCRIPTION:
                raise error  # strawberry subscribes regardless of ``result`` (limits.py)
            ctx.result = ExecutionResult(data=None, errors=[error])
            yield
            return
        token = WRITING.set(ctx.operation_type is OperationType.MUTATION)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):  # finalised in another context: nothing set
                WRITING.reset(token)

    async def _check(self, context: object, operation: OperationType) -> GraphQLError | None:
        if isinstance(context, SocketContext) and context.client is not None:
            caller = (context.client.scope.get("state") or {}).get("caller")
            if isinstance(caller, Caller):
                decision = await self.access.limiter.take(
                    f"req:{caller.rate_key}", 1, caller.requests_per_minute
                )
                if not decision.allowed:
                    retry = decision.retry_after_header()
                    return GraphQLError(
                        f"rate limit exceeded: {decision.limit} requests per minute (each "
                        f"operation on a websocket counts); retry in {retry} s",
                        extensions={"code": "RATE_LIMITED", "retryAfter": int(retry)},
                    )
        if operation is OperationType.MUTATION and isinstance(context, Context):
            view = context.sources
            if isinstance(view, CallerSources) and not view.may_write_any():
                refusal = view.write_refusal()
                return GraphQLError(refusal.message, extensions={"code": refusal.code})
        return None


class Guard:
    """The ASGI middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        # Every line logged while serving this request (tasks it starts included) carries it.
        token = REQUEST_ID.set(request_id)
        try:
            await self._serve(scope, receive, send, request_id)
        finally:
            REQUEST_ID.reset(token)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        policy = self.access.policy_of(scope)
        x = _Exchange(
            scope,
            receive,
            send,
            request_id,
            [(b"x-request-id", request_id.encode())],
            self.access.compat_refusal,
        )
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if _is_open(scope, headers):
            await self.app(scope, receive, x.send_with_id)
            return
        caller = await self._authenticate(x, headers, policy)
        if caller is None:
            return  # refused, or a websocket left to authenticate in connection_init
        state["caller"] = caller
        if not await self._take_request(x, caller):
            return
        if x.socket:
            await self.app(scope, receive, x.send_with_id)
            return
        body = await _bounded_body(x, headers, policy.settings.server)
        if body is not None:
            state[BODY_READ] = body  # gateway/lean.py reads it here, without the replay
            await self.app(scope, _replay(body, receive), x.send_with_id)

    async def _authenticate(
        self, x: _Exchange, headers: Mapping[str, str], policy: Policy
    ) -> Caller | None:
        """The caller, or None once the request is refused (401, a 4401 close) or a keyless
        websocket is handed to the app to authenticate in its connection_init."""
        client = x.scope.get("client")
        address = client[0] if client else "-"
        compat = self.access.compat_caller
        if compat is not None and not x.socket and x.scope["path"].startswith("/rest/"):
            caller: Caller | AuthFailure = compat(x.scope, address)  # never refuses: compat.py
        else:
            caller = policy.authenticator.authenticate(headers, address)
        if not isinstance(caller, AuthFailure):
            return caller
        if x.socket and caller.invalid_token:
            await x.close_socket(4401, caller.message)
        elif x.socket:
            # No key in the headers: it may come in the connection_init payload, within
            # socket_init_timeout whatever the subprotocol (legacy graphql-ws has no init
            # timeout of its own).
            state = x.scope["state"]
            state["auth_pending"] = True
            deadline = policy.settings.server.socket_init_timeout
            receive = _pending_deadline(state, deadline, x.receive, x.send)
            await self.app(x.scope, receive, x.send_with_id)
        else:
            challenge = 'Bearer realm="revgate"'
            if caller.invalid_token:
                challenge += ', error="invalid_token"'
            await x.refuse(
                401, caller.message, "UNAUTHENTICATED", [(b"www-authenticate", challenge.encode())]
            )
        return None

    async def _take_request(self, x: _Exchange, caller: Caller) -> bool:
        """One token from the caller's request bucket; False once refused (429, a 4429 close)."""
        decision = await self.access.limiter.take(
            f"req:{caller.rate_key}", 1, caller.requests_per_minute
        )
        if decision.limit is not None:
            x.extra_headers += [
                (b"x-ratelimit-limit", str(decision.limit).encode()),
                (b"x-ratelimit-remaining", str(decision.remaining).encode()),
            ]
        if decision.allowed:
            return True
        if x.socket:
            await x.close_socket(4429, "rate limit exceeded")
            return False
        retry = decision.retry_after_header()
        await x.refuse(
            429,
            f"rate limit exceeded: {decision.limit} requests per minute; retry in {retry} s",
            "RATE_LIMITED",
            [(b"retry-after", retry.encode())],
            (Reason.RATE_LIMITED, Detail(retry_after=retry)),
            retryAfter=int(retry),
        )
        return False


@dataclasses.dataclass(slots=True)
class _Exchange:
    """One request as the Guard serves it: every response it starts carries the request id
    and the ``extra_headers`` gathered on the way (rate-limit figures)."""

    scope: Scope
    receive: Receive
    send: Send
    request_id: str
    extra_headers: list[tuple[bytes, bytes]]
    compat_refusal: CompatRefusal | None = None

    @property
    def socket(self) -> bool:
        return bool(self.scope["type"] == "websocket")

    async def send_with_id(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *self.extra_headers]
        await self.send(message)

    async def refuse(
        self,
        status: int,
        message: str,
        code: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        why: tuple[Reason, Detail] | None = None,
        **extensions: Any,
    ) -> None:
        """Refuse with ``status`` and the gateway's coded JSON — except on a compat mount,
        where a legacy client reads its server's errors: there as the backend's kind would
        answer ``why`` (adapters/native.py)."""
        native = self._native(why)
        if native is None:
            body = error_body(message, code, self.request_id, **extensions)
            await _respond(self.send_with_id, status, body, headers)
            return
        payload = b"" if self.scope.get("method") == "HEAD" else native.body
        kept = [(n, v) for n, v in headers or [] if n == b"connection"]
        length = (b"Content-Length", str(len(payload)).encode())
        start = [*native.raw_headers(), length, *kept]
        await self.send_with_id(
            {"type": "http.response.start", "status": native.status, "headers": start}
        )
        await self.send_with_id({"type": "http.response.body", "body": payload})

    def _native(self, why: tuple[Reason, Detail] | None) -> Native | None:
        hook = self.compat_refusal
        if why is None or hook is None or self.socket:
            return None
        if not self.scope["path"].startswith("/rest/"):
            return None
        return hook(self.scope, *why)

    async def close_socket(self, code: int, reason: str) -> None:
        await _close_socket(self.scope, self.receive, self.send, code, reason)


def _is_open(scope: Scope, headers: Mapping[str, str]) -> bool:
    """Probes, metrics, GraphiQL's page and files: served to anyone, outside every limit."""
    method = scope.get("method", "GET")
    return scope["type"] == "http" and (
        (method, scope["path"]) in OPEN_ROUTES
        or (method in ("GET", "HEAD") and scope["path"].startswith(OPEN_ASSETS))
        or (method in ("GET", "HEAD") and is_dashboard_page(scope["path"], headers))
        or (scope["path"] == "/graphql" and is_page_scope(scope, headers))
    )


async def _bounded_body(
    x: _Exchange, headers: Mapping[str, str], server: ServerSettings
) -> bytes | None:
    """The request body, or None once refused: too slow (408) or too large (413)."""
    try:
        # A client that stops sending mid-body would otherwise hold its connection and
        # this task for as long as it likes.
        async with asyncio.timeout(server.body_timeout):
            body = await _read_body(headers, x.receive, server.max_body_bytes)
    except TimeoutError:
        message = f"request body not received within {server.body_timeout:g} s"
        why = (Reason.BODY_TIMEOUT, Detail(message=message))
        await x.refuse(408, message, "REQUEST_TIMEOUT", [(b"connection", b"close")], why)
        return None
    if body is None:
        message = f"request body larger than {server.max_body_bytes} bytes"
        await x.refuse(
            413, message, "PAYLOAD_TOO_LARGE", why=(Reason.TOO_LARGE, Detail(message=message))
        )
    return body


async def _read_body(headers: Mapping[str, str], receive: Receive, cap: int) -> bytes | None:
    """The whole request body, or ``None`` as soon as it is known to exceed ``cap``."""
    declared = headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # disconnected: let the app see an empty body and the disconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _pending_deadline(
    state: dict[str, Any], seconds: float, receive: Receive, send: Send
) -> Receive:
    """``receive`` for a websocket still to authenticate: once ``seconds`` have passed with
    its ``auth_pending`` still set, the socket is closed with 4408 and the app told so."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    closed = False

    async def bounded() -> Message:
        nonlocal closed
        if closed or not state.get("auth_pending"):
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):
                return await receive()
        except TimeoutError:
            if not state.get("auth_pending"):  # admitted meanwhile
                return await receive()
            closed = True
            log.info("websocket closed: no API key within %g s", seconds)
            with contextlib.suppress(Exception):  # already closed by the client: fine
                await send({"type": "websocket.close", "code": 4408, "reason": "no API key"})
            return {"type": "websocket.disconnect", "code": 4408}

    return bounded


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _close_socket(scope: Scope, receive: Receive, send: Send, code: int, reason: str) -> None:
    """Accept the websocket, then close it with ``code``: a close before the accept would be
    an HTTP 403 to the client, which says nothing about why."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    protocols = scope.get("subprotocols") or []
    accept: Message = {"type": "websocket.accept"}
    if protocols:
        accept["subprotocol"] = protocols[0]
    await send(accept)
    await send({"type": "websocket.close", "code": code, "reason": reason})


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
