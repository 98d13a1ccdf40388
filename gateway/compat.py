"""The REST compatibility mount: ``/rest/<backend>/…`` re-serves each backend's own REST API.

Existing clients (git-pw, pwclient, pygerrit2, scripts) keep working when pointed at
``<gateway>/rest/<backend>/`` instead of the backend. Each backend *kind* registers its
router factory in ``adapters.registry.COMPAT_ROUTERS`` (see ``adapters/compat.py`` and
docs/compat.md); this module only finds the backend (in the generation pinned for the
request, see ``gateway/reload.py``), works out the gateway's base URL for the links in the
answers, authenticates the caller, and picks the backend credential the caller's token maps
to (``[[compat.tokens]] backend_tokens``).
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import CallerCredentials, Source
from adapters.compat import Caller, CompatCall
from adapters.registry import COMPAT_ROUTERS
from gateway.reload import Backends
from gateway.settings import CompatSettings, CompatToken, Settings

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def find_token(secret: str, compat: CompatSettings, backend: str) -> CompatToken | None:
    """The configured compat token ``secret`` is (by sha256) and valid for ``backend``."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    for token in compat.tokens:
        if hmac.compare_digest(digest, token.sha256) and (
            not token.backends or backend in token.backends
        ):
            return token
    return None


def authenticate(
    secret: str | None, compat: CompatSettings, backend: str
) -> tuple[Caller, CompatToken | None]:
    """Who the caller is, from the secret it presented in its kind's scheme.

    No secret is anonymous (reads as ``[compat] anonymous_reads`` says); an unknown one is
    ``invalid_token`` (Patchwork answers 403 "Invalid token." wherever one is sent). The
    backend is called with the credential the token maps to, else the backend's own
    configured one — never with anything the caller sent.
    """
    if secret is None:
        return Caller(may_read=compat.anonymous_reads), None
    token = find_token(secret.strip(), compat, backend)
    if token is None:
        return Caller(invalid_token=True, may_read=False), None
    return Caller(authenticated=True, can_write=token.write, name=token.name), token


def as_caller(source: Source, token: CompatToken | None) -> Source | None:
    """``source`` acting as the backend user ``token`` maps to (None: it cannot)."""
    secret = token.backend_token(source.name) if token is not None else None
    if secret is None:
        return source
    if not isinstance(source, CallerCredentials):
        return None
    return source.with_token(secret)


def compat_routes(backends: Backends, settings: Settings) -> list[Route]:
    """The ``/rest/<backend>/{path}`` route for ``create_app``."""
    public_url = settings.server.public_url

    async def endpoint(request: Request) -> Response:
        name = request.path_params["backend"]
        sources = request.scope.get("state", {}).get("revgate_sources", backends.sources)
        source = sources.get(name)
        kind = COMPAT_ROUTERS.get(source.kind) if source is not None else None
        if source is None or kind is None:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        path = request.path_params["path"]
        caller, token = authenticate(kind.presented(request, path), settings.compat, name)
        acting = as_caller(source, token)
        if acting is None:
            # Configured but impossible for this kind: refuse rather than fall back to the
            # gateway's own (usually more privileged) credential.
            detail = f"backend {name!r} cannot act with a per-token credential"
            return JSONResponse({"detail": detail}, status_code=501)
        origin = public_url or f"{request.url.scheme}://{request.url.netloc}"
        call = CompatCall(request, f"{origin}/rest/{name}", path, caller)
        return await kind.router(acting)(call)

    return [Route("/rest/{backend}/{path:path}", endpoint, methods=METHODS)]
