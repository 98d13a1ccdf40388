"""The HTTP entry of planned queries: strawberry's view and pipeline skipped (issue 21).

A plain JSON POST (``over_http.PlainPosts``) of one operation (its text sent, or a persisted
query's hash resolved as the view resolves it: ``gateway/persisted.py``) whose query text and
operation name a compiled plan answered before (``schema/lean.py``) is answered here, behind
the same middleware (scrub, metrics, generation, CORS, Guard) and with the same response as
strawberry's view gives: the same context (``GraphQLApp.get_context``), result processing
(``process_result``) and response (``create_response``), and the gateway's own schema
extensions done in place — the operation gate (a query over HTTP: ``WRITING`` false while it
runs) and the operation metrics. The answer is sent as the two ASGI messages strawberry's
``Response`` and ``GraphQLApp``'s media-type rule (``gateway/over_http.py``) would send,
without building either response object.
A GET of such a query (its query string read as the view reads it; not GraphiQL's page,
not a stream) is answered the same way, through the view's own GET rule for the media type,
``ETag``, ``Cache-Control`` and ``304`` (``GraphQLApp._over_http``).
Everything else (batches, streams, an unknown or unplanned query, a body of another
shape) goes to strawberry's view, which reports what is wrong (a persisted query it cannot
resolve is refused here as there: ``Refusal``, answered by ``GraphQLApp``).

``tests/gateway/test_lean.py`` compares whole answers (status, headers, body, upstream
requests, metrics) with strawberry's path.
"""

from __future__ import annotations

import time
from typing import Any

from cross_web import HTTPException  # what the view's reading raises (strawberry's dependency)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Send

from gateway.callers import WRITING
from gateway.guard import BODY_READ
from gateway.metrics import Metrics
from gateway.over_http import GRAPHQL_RESPONSE, REQUEST_ERROR, PlainPosts, header, request_data
from schema.lean import LeanQueries

_JSON = b"application/json"
_GRAPHQL_RESPONSE = f"{GRAPHQL_RESPONSE}; charset=utf-8".encode()


class _SubResponse(Response):
    """strawberry's sub-response (no status, no headers: what a refused cost charge sets)
    without ``Response.__init__``'s header set-up, which strawberry's then undoes."""

    def __init__(self) -> None:
        self.status_code = 0  # unset: the answer's own 200 (strawberry's None)
        self.raw_headers = []
        self.background = None
        self.body = b""


class LeanEntry:
    """Planned queries for one GraphQL view (``GraphQLApp``)."""

    def __init__(self, view: Any, queries: LeanQueries, metrics: Metrics, plain: PlainPosts):
        self.view = view
        self.queries = queries
        self.metrics = metrics
        self.plain = plain
        metrics.watch_shared_runs(lambda: queries.runs.joined)

    async def answer(self, request: Request, accept: str, new_type: bool, send: Send) -> bool:
        """Answer ``request`` on ``send`` (``accept``: its ``Accept``; ``new_type``: that asks
        for ``application/graphql-response+json``), or ``False``: strawberry's view answers it
        (nothing of the request but its body has been read)."""
        scope = request.scope
        view = self.view
        method = scope["method"]
        data = await self._read(request, method, accept)
        if data is None:
            return False
        name, variables = data.operation_name, data.variables
        if not (name is None or type(name) is str):  # a plan's key: the view reports it
            return False
        # a persisted query's text, as the view resolves it (a refusal raises ``Refusal``)
        data = await view._resolve(data)
        query, extensions = data.query, data.extensions
        if query is None:
            return False
        planned = self.queries.planned(view.schema, query, name)
        if planned is None:
            return False
        operation = planned.key[1]  # the resolved operation name: the metrics' label
        sub_response = _SubResponse()
        context = await view.get_context(request, response=sub_response)
        start = time.perf_counter()
        token = WRITING.set(False)  # the operation gate's part for a query over HTTP
        try:
            result = await self.queries.execute(
                view.schema,
                planned,
                query,
                variables,
                name,
                context,
                extensions,
                lambda ctx: self.metrics.observe_operation("query", operation, ctx.result, start),
            )
        finally:
            WRITING.reset(token)
        response_data = await view.process_result(request, result)
        if result.errors:
            view._handle_errors(result.errors, response_data)
        if method == "GET":  # the view's own response and GET rule (ETag, Cache-Control, 304)
            response = view.create_response(response_data, sub_response)
            await view._over_http(request, response, new_type)(scope, request.receive, send)
            return True
        body = view.encode_json(response_data)
        status, media = sub_response.status_code or 200, _JSON
        if new_type:  # GraphQLApp._over_http's rule for a POST
            media = _GRAPHQL_RESPONSE
            if status == 200 and scope["state"].get(REQUEST_ERROR):
                status = 400
        length = (b"content-length", str(len(body)).encode())
        raw = [length, (b"content-type", media), *sub_response.raw_headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
        return True

    async def _read(self, request: Request, method: str, accept: str) -> Any:
        """The request's one operation as the view reads it (``GraphQLRequestData``), or
        ``None``: the view answers it (what it refuses, it reports itself)."""
        view, scope = self.view, request.scope
        if not self.plain.plain(method, header(scope, b"content-type"), accept, request):
            return None
        try:
            if method == "GET":
                if not view.allow_queries_via_get or view.should_render_graphql_ide(request):
                    return None  # strawberry's refusal, or GraphiQL's page
                data = request_data(view, view.parse_query_params(request.query_params))
            else:
                # what the Guard read (and replays to the view), else read now and kept
                body = scope.get("state", {}).get(BODY_READ) or await request.body()
                data = request_data(view, view.parse_json(body))
        except HTTPException:
            return None
        return None if isinstance(data, list) else data
