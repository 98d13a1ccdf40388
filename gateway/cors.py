"""Cross-origin access for browsers: CORS on HTTP, the ``Origin`` check on websockets.

``[server] cors_origins`` lists the origins whose pages may call the API (``/graphql``, its
websocket and ``/rest/…``): exact origins (``https://dash.example.org``), patterns with ``*``
for one or more DNS labels (``https://*.example.org``), or ``"*"`` for any origin. The
default, an empty list, is same-origin only: a page served by another origin gets no
``Access-Control-*`` header (the browser refuses to hand it the answer), its preflights are
refused, and its websockets are refused at the handshake (403: strawberry's own ``Origin``
check, fed the same list by ``GraphQLApp``; browsers send no preflight for a websocket, so
``Origin`` is the only guard against another site's page using a visitor's reachable
gateway). ``cors_allow_credentials`` lets such pages send cookies or HTTP auth (never with
``"*"``); ``cors_max_age`` is how long browsers may cache a preflight.

HTTP uses Starlette's ``CORSMiddleware`` (well-kept, spec-following); refusals are JSON with a
code, like every other refusal of the gateway.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

import orjson
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What a browser page may send and read; API keys travel as Authorization or X-Api-Key.
ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
ALLOW_HEADERS = ("authorization", "content-type", "x-api-key", "x-request-id", "if-none-match")
EXPOSE_HEADERS = ("X-Request-Id", "Retry-After", "ETag", "Link", "Location", "WWW-Authenticate")
# scheme://host[:port] with optional "*." label wildcards in the host.
_ORIGIN_RE = re.compile(r"(https?)://(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:]+\])(:\d+)?")


def origin_problem(origin: str) -> str | None:
    """Why ``origin`` is not a valid ``cors_origins`` entry, or None."""
    if origin == "*":
        return None
    if not _ORIGIN_RE.fullmatch(origin):
        return (
            "must be an origin: scheme://host[:port] with no path or trailing slash, "
            'optionally with *. before the host (e.g. https://*.example.org), or "*"'
        )
    return None


def origin_pattern(origins: Collection[str]) -> str | None:
    """One regular expression for the wildcard entries of ``origins``, or None."""
    patterns = [re.escape(o).replace(r"\*\.", r"(?:[a-z0-9-]+\.)+") for o in origins if "*." in o]
    return "|".join(f"(?:{p})" for p in patterns) or None


def origin_matcher(origins: Collection[str]) -> Callable[[str], bool]:
    """Whether a page on an origin may call the API (the same rule as the HTTP side)."""
    exact = frozenset(origins)
    pattern = origin_pattern(origins)
    compiled = re.compile(pattern) if pattern else None
    return lambda origin: (
        "*" in exact
        or origin in exact
        or (compiled is not None and bool(compiled.fullmatch(origin)))
    )


def cors(
    app: ASGIApp, origins: Sequence[str] = (), allow_credentials: bool = False, max_age: int = 600
) -> ASGIApp:
    """CORS for every HTTP route (websockets: ``GraphQLApp.is_websocket_origin_allowed``)."""
    return _CodedCors(
        app,
        allow_origins=[o for o in origins if "*." not in o],
        allow_origin_regex=origin_pattern(origins),
        allow_methods=ALLOW_METHODS,
        allow_headers=ALLOW_HEADERS,
        allow_credentials=allow_credentials,
        expose_headers=EXPOSE_HEADERS,
        max_age=max_age,
    )


class _CodedCors(CORSMiddleware):
    """Starlette's CORS with its refusals in the gateway's JSON error shape."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and all(k != b"origin" for k, _ in scope["headers"]):
            # No Origin: no preflight, and ``send`` below would pass every message on as is.
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        if "origin" not in request_headers:
            # Not a browser's cross-origin call: the answer is left exactly as written
            # (Starlette would add "Vary: Origin", which compat clients compare to the
            # forge's own headers).
            await send(message)
            return
        await super().send(message, send, request_headers)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        reasons = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        body = {
            "errors": [
                {
                    "message": f"cross-origin request refused ({reasons} not allowed): "
                    "see [server] cors_origins",
                    "extensions": {"code": "CORS_REFUSED"},
                }
            ]
        }
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        headers.pop("content-type", None)
        return Response(orjson.dumps(body), 403, headers, media_type="application/json")
