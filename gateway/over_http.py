"""GraphQL over HTTP, as the GraphQL-over-HTTP spec and browsers and CDNs expect it.

- **GET** runs queries (``?query=&variables=&operationName=&extensions=``), never mutations
  (405 with ``Allow: POST``): shareable links, and answers a browser or CDN can cache.
- **Media types**: a client whose ``Accept`` names ``application/graphql-response+json`` gets
  that type, and a *request error* (the document does not parse or validate, its variables do
  not coerce, a limit refuses it — nothing was executed) is a 400 whose body has no ``data``
  entry. Other clients keep ``application/json`` with 200 for every GraphQL answer (the spec's
  legacy behaviour, what existing clients expect).
- **Caching GET answers**: ``[server] cache_max_age`` gives a max-age per root field
  (``{ backends = 300, projects = 60 }``; a query gets the smallest of its root fields', 0
  when one is not listed). The answer says ``Cache-Control: public, max-age=N`` to anonymous
  callers and ``private, max-age=N`` to identified ones (never shared between API keys), and
  ``no-cache`` at 0. Every successful GET answer has an ``ETag`` over its ``data`` (not over
  ``extensions``, whose cost report changes on every request); a matching ``If-None-Match``
  is a 304 with no body (the query still ran: freshness, not cost, is what it saves).
- **Plain JSON POSTs** (``PlainPosts``): strawberry parses the ``Content-Type`` and ``Accept``
  headers with ``email.message`` on every request to choose between JSON, multipart and the
  streaming transports; the choice depends on those two strings alone, so it is kept per
  pair, and a plain JSON POST's body is read as strawberry reads it (``request_data``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.http.streaming import JSONEncoder, MultipartSubscriptionTransport, SSETransport
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

GRAPHQL_RESPONSE = "application/graphql-response+json"
REQUEST_ERROR = "revgate_request_error"  # request state: set by ``GraphQLApp.process_result``
PLAIN_POST_ENTRIES = 256  # (Content-Type, Accept) pairs kept: header values are the caller's
# Errors that stop a request before anything executes (the spec's "request errors").
REQUEST_ERROR_CODES = frozenset(
    {
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "BAD_USER_INPUT",
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
        "TOO_MANY_TOKENS",
        "QUERY_TOO_COMPLEX",
        "QUERY_TOO_COSTLY",
        "PERSISTED_QUERY_REQUIRED",
        "OPERATION_RESOLUTION_FAILURE",
    }
)


@functools.lru_cache(maxsize=PLAIN_POST_ENTRIES)  # the caller's header value: kept bounded
def wants_graphql_response(accept: str) -> bool:
    """Whether ``Accept`` asks for ``application/graphql-response+json`` (not with q=0)."""
    for part in accept.split(","):
        media, *params = part.split(";")
        if media.strip().lower() != GRAPHQL_RESPONSE:
            continue
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """A request header as Starlette's ``Headers.get`` reads it (the first of that lower-case
    name), without building a ``Headers`` (a copy of the list) nor raising for a missing one."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: a pre-execution error, or only request-error codes and no data."""
    if isinstance(result, PreExecutionError):
        return True
    if result.data is not None or not result.errors:
        return False
    return all(_code(e) in REQUEST_ERROR_CODES for e in result.errors)


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


def etag(body: Mapping[str, Any]) -> str:
    """A weak validator over an answer's ``data`` and ``errors``."""
    content = orjson.dumps(
        {"data": body.get("data"), "errors": body.get("errors")}, option=orjson.OPT_SORT_KEYS
    )
    return f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'


def etag_matches(if_none_match: str, tag: str) -> bool:
    """``If-None-Match`` compared weakly (RFC 9110 13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    bare = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match.split(","))


@functools.lru_cache(maxsize=512)
def root_fields(query: str, operation_name: str | None) -> tuple[str, ...] | None:
    """The root field names of the operation a GET runs (None: not a plain query)."""
    try:
        document = parse(query, no_location=True, max_tokens=10_000)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation.value != "query":
        return None
    names = []
    for selection in chosen[0].selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None  # fragments at the root: no per-field policy, no caching
        names.append(selection.name.value)
    return tuple(names)


def cache_control(
    max_ages: Mapping[str, int], fields: tuple[str, ...] | None, anonymous: bool
) -> str:
    """The ``Cache-Control`` of a successful GET answer selecting ``fields``."""
    if not fields:
        return "no-cache"
    age = min(max_ages.get(f, 0) for f in fields)
    if age <= 0:
        return "no-cache"
    return f"{'public' if anonymous else 'private'}, max-age={age}"


class ResumableSSETransport(SSETransport):
    """Server-Sent Events whose events carry their cursor as the SSE ``id`` (when the
    subscription selects ``cursor``), so a browser's ``EventSource`` reconnects with
    ``Last-Event-ID`` and the ``events`` subscription resumes after it, losing nothing."""

    def encode_next(self, response: GraphQLHTTPResponse, encode_json: JSONEncoder) -> str:
        event = super().encode_next(response, encode_json)
        cursor = _cursor(response)
        return f"id: {cursor}\r\n{event}" if cursor else event


def _cursor(response: GraphQLHTTPResponse) -> str | None:
    data = response.get("data")
    if not isinstance(data, dict):
        return None
    for value in data.values():
        cursor = value.get("cursor") if isinstance(value, dict) else None
        # An SSE field ends at a line break: only a one-line cursor can be an id.
        if isinstance(cursor, str) and cursor and not any(c in cursor for c in "\r\n\0"):
            return cursor
    return None


class MultipartTransport(MultipartSubscriptionTransport):
    """Multipart HTTP (``Accept: multipart/mixed;subscriptionSpec=1.0``) for any operation
    the method allows, answered in one part when it is not a subscription: strawberry's own
    allows subscriptions only, and a query sent so raised inside the stream (a traceback)."""

    def allowed_operation_types(
        self, allowed_operation_types: set[OperationType]
    ) -> Iterable[OperationType]:
        return {*allowed_operation_types, OperationType.SUBSCRIPTION}


class PlainPosts:
    """Which requests strawberry's ``parse_http_body`` reads as one operation over plain HTTP:
    a POST whose media type contains ``application/json``, or a GET, whose ``Accept`` picks no
    streaming transport. Known per (Content-Type, Accept) pair, bounded (cleared when full)."""

    def __init__(self, transport: Any) -> None:
        # ``transport(headers)``: the view's streaming transport for these headers, or None
        self._transport = transport
        self._known: dict[tuple[str | None, str], bool] = {}

    def applies(self, request: Any) -> bool:
        """``request``: strawberry's request adapter; a plain POST (a GET has no body)."""
        accept = request.headers.get("accept", "")
        return request.method == "POST" and self.plain(
            "POST", request.content_type, accept, request
        )

    def plain(self, method: str, content_type: str | None, accept: str, request: Any) -> bool:
        """Whether a request with this method, headers and ``Accept`` is a plain JSON POST,
        or a GET (its query in its URL, its Content-Type unread) answered as one result
        (``request.headers``: read only for a pair not seen before)."""
        if method == "GET":
            key: tuple[str | None, str] = (None, accept)  # no header value is None
        elif method == "POST":
            key = (content_type or "", accept)
        else:
            return False
        known = self._known.get(key)
        if known is None:
            json = key[0] is None or "application/json" in parse_content_type(key[0])[0]
            known = json and self._transport(request.headers) is None
            if len(self._known) >= PLAIN_POST_ENTRIES:
                self._known.clear()
            self._known[key] = known
        return known


# built once: ``str | None`` in the checks below would build a union on every request
_STR_OR_NONE = (str, type(None))
_DICT_OR_NONE = (dict, type(None))


def request_data(view: Any, data: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
    """A decoded plain JSON POST body as strawberry's ``parse_http_body`` (0.341) makes it
    (same checks, same 400s; ``tests/gateway/test_plain_posts.py`` compares both)."""
    if isinstance(data, list):
        view._validate_batch_request(data, protocol="http")
        return [
            GraphQLRequestData(
                query=item.get("query"),
                variables=item.get("variables"),
                operation_name=item.get("operationName"),
                extensions=item.get("extensions"),
                protocol="http",
            )
            for item in data
        ]
    query = data.get("query")
    if not isinstance(query, _STR_OR_NONE):
        raise HTTPException(
            400, "The GraphQL operation's `query` must be a string or null, if provided."
        )
    variables = data.get("variables")
    if not isinstance(variables, _DICT_OR_NONE):
        raise HTTPException(
            400, "The GraphQL operation's `variables` must be an object or null, if provided."
        )
    extensions = data.get("extensions")
    if not isinstance(extensions, _DICT_OR_NONE):
        raise HTTPException(
            400, "The GraphQL operation's `extensions` must be an object or null, if provided."
        )
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=data.get("operationName"),
        extensions=extensions,
        protocol="http",
    )
