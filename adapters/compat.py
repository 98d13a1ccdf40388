"""The REST compatibility framework: what a backend kind provides to re-serve its own REST API.

The gateway mounts ``/rest/<backend>/{path}`` for every configured backend whose kind has a
router factory in its descriptor (``AdapterKind.compat``, ``adapters/plugin.py``). Per request it:

1. asks the kind which secret the client presented, in the kind's own scheme
   (``CompatKind.presented``: Patchwork ``Authorization: Token …``, Gerrit/ABF HTTP basic…);
2. looks that secret up among the configured compat tokens (``[[compat.tokens]]``, by
   sha256) and derives the ``Caller``; a token mapped to its own backend credential
   (``backend_tokens``) gets the source re-bound to that credential (``CallerCredentials``);
3. calls the kind's router, built for that source, with a ``CompatCall``.

A router renders every answer it models from unified records (``adapters.model``) through
the kind's mapping, never through GraphQL; any other route inside the backend's allow-list
is passed through (``adapters/passthrough.py``). It never raises: every failure is an
answer in the kind's own error format. It must not leak the backend's URL or
credentials; URLs in its answers point at ``CompatCall.base``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from adapters.base import Source
from adapters.errors import Timeout, UpstreamError

S = TypeVar("S", bound=Source)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling, as the gateway established it from the request's credentials."""

    authenticated: bool = False  # presented a configured compat token
    can_write: bool = False  # that token may write
    invalid_token: bool = False  # presented a token the gateway does not know
    may_read: bool = True  # reads allowed (anonymous reads can be switched off)
    name: str | None = None  # the compat token's configured name


@dataclass(frozen=True, slots=True)
class CompatCall:
    """One request to a backend's compat mount."""

    request: Request
    base: str  # "<gateway origin>/rest/<backend>", no trailing slash
    path: str  # the path under ``base``, e.g. "api/1.3/patches/"
    caller: Caller
    # Pass-through allow-list of this backend (``adapters/passthrough.py``): path prefixes,
    # None for the kind's documented API root, () for none.
    passthrough: tuple[str, ...] | None = None


CompatRouter = Callable[[CompatCall], Awaitable[Response]]
"""Answers one compat request for the backend it was built for; never raises."""

RouterFactory = Callable[[Source], CompatRouter]
"""Builds the router of one backend (``TypeError`` for a source of another kind)."""

Presented = Callable[[Request, str], str | None]
"""The secret a client presented in the kind's auth scheme (``None``: anonymous)."""


def token_scheme(request: Request, path: str) -> str | None:
    """Patchwork's (DRF's) scheme: ``Authorization: Token <key>``; other schemes anonymous."""
    scheme, _, credential = request.headers.get("authorization", "").strip().partition(" ")
    return credential.strip() if scheme.lower() == "token" else None


def kind_router(
    source: Source,
    kind: type[S],
    serve: Callable[[CompatCall, S], Awaitable[Response]],
    failed: Callable[[CompatCall, str, int], Response],
) -> CompatRouter:
    """The router of one backend of ``kind``: ``serve`` for it, with an upstream failure
    answered in the kind's own error format (``failed``: 504 for a timeout, else 502, the
    backend named), never raised. ``TypeError`` for a source of another kind."""
    if not isinstance(source, kind):
        raise TypeError(f"backend {source.name!r} is no {kind.__name__} (another kind's router)")
    own: S = source

    async def route(call: CompatCall) -> Response:
        try:
            return await serve(call, own)
        except Timeout as exc:
            return failed(call, str(exc), 504)
        except UpstreamError as exc:
            return failed(call, str(exc), 502)

    return route


def basic_key(request: Request, *, or_login: bool = False) -> str | None:
    """The key in HTTP basic auth: the password, or with ``or_login`` the login when the
    password is empty (ABF takes its token either way). ``None`` without basic auth; ``""``
    (presented, and wrong) when the credential does not decode."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        login, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    if not or_login:
        return password
    if not login and not password:
        return None  # "Basic Og==": what clients send before a login is set; anonymous on ABF
    return password or login


def query_lists(request: Request) -> dict[str, list[str]]:
    """The request's query as the backend is asked it: every value of a repeated key, in order."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


@dataclass(frozen=True, slots=True)
class CompatKind:
    """What one backend kind registers to get ``/rest/<backend>/`` mounts."""

    router: RouterFactory
    presented: Presented = token_scheme
    # Its documented API roots as path prefixes under the mount (the pass-through default and
    # bound, adapters/passthrough.py), and the prefix its clients put before a path to ask
    # for it authenticated (Gerrit's "/a").
    roots: tuple[str, ...] = ()
    auth_prefix: str = ""
    # The kind's native 404 for a path the mount refuses before routing (dot segments,
    # control characters): its clients understand that answer; None keeps ``BAD_PATH``.
    not_found: Callable[[Request], Response] | None = None
