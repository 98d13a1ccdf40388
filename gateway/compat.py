"""The REST compatibility mount: ``/rest/<backend>/…`` re-serves each backend's own REST API.

Existing clients (git-pw, pwclient, scripts) keep working when pointed at
``<gateway>/rest/<backend>/`` instead of the backend. Each backend *kind* brings its handler
(``adapters/<kind>/rest.py``); this module only finds the backend (in the generation pinned
for the request, see ``gateway/reload.py``), works out the gateway's base URL for the links
in the answers, and authenticates the caller (``authenticate``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import Source
from adapters.patchwork import rest as patchwork_rest
from adapters.patchwork.source import PatchworkSource
from gateway.reload import Backends
from gateway.settings import CompatSettings, Settings

Caller = patchwork_rest.Caller
Handler = Callable[[Request, Source, str, Caller, str], Awaitable[Response]]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _patchwork(
    request: Request, source: Source, base: str, caller: Caller, path: str
) -> Response:
    assert isinstance(source, PatchworkSource)
    return await patchwork_rest.handle(request, source, base, caller, path)


# Backend kind → its compat handler; a kind without one has no /rest/ mount.
HANDLERS: dict[str, Handler] = {"patchwork": _patchwork}


def authenticate(authorization: str | None, compat: CompatSettings, backend: str) -> Caller:
    """Who the caller is, from its ``Authorization`` header, as the compat layer sees it.

    ``Token <key>`` (Patchwork's scheme) is looked up by its sha256 among the configured
    compat tokens valid for ``backend``; an unknown token is ``invalid_token`` (Patchwork
    answers 403 "Invalid token." wherever one is sent). Any other scheme counts as
    anonymous, as in Patchwork. The backend itself is always called with the gateway's own
    configured credentials, never the caller's.
    """
    scheme, _, credential = (authorization or "").strip().partition(" ")
    if scheme.lower() != "token":
        return Caller(may_read=compat.anonymous_reads)
    digest = hashlib.sha256(credential.strip().encode()).hexdigest()
    for token in compat.tokens:
        if hmac.compare_digest(digest, token.sha256) and (
            not token.backends or backend in token.backends
        ):
            return Caller(authenticated=True, can_write=token.write)
    return Caller(invalid_token=True, may_read=False)


def compat_routes(backends: Backends, settings: Settings) -> list[Route]:
    """The ``/rest/<backend>/{path}`` route for ``create_app``."""
    public_url = settings.server.public_url

    async def endpoint(request: Request) -> Response:
        name = request.path_params["backend"]
        sources = request.scope.get("state", {}).get("revgate_sources", backends.sources)
        source = sources.get(name)
        handler = HANDLERS.get(source.kind) if source is not None else None
        if source is None or handler is None:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        origin = public_url or f"{request.url.scheme}://{request.url.netloc}"
        caller = authenticate(request.headers.get("authorization"), settings.compat, name)
        return await handler(
            request, source, f"{origin}/rest/{name}", caller, request.path_params["path"]
        )

    return [Route("/rest/{backend}/{path:path}", endpoint, methods=METHODS)]
