"""The REST compatibility mount: ``/rest/<backend>/…`` re-serves each backend's own REST API.

Existing clients (git-pw, pwclient, pygerrit2, scripts) keep working when pointed at
``<gateway>/rest/<backend>/`` instead of the backend. Each backend *kind* names its router
factory in its descriptor (``AdapterKind.compat``, ``adapters/plugin.py``; see
``adapters/compat.py`` and docs/compat.md); this module finds the backend (in the generation
pinned for the request, see ``gateway/reload.py``), works out the gateway's base URL for the
links in the answers, authenticates the caller, and picks the backend credential the caller
maps to.

Who a caller is: the secret it presents in its kind's own scheme (Patchwork ``Token``, HTTP
basic…) is either

- a gateway **API key** (``[[api_keys]]``, the GraphQL keys, ``gateway/auth.py``): it may
  read and write, is rate-limited as that key, and acts on a backend with its own
  ``backend_tokens`` credential (the caller sources of ``gateway/callers.py``), or
- a **compat token** (``[[compat.tokens]]``): ``write`` says whether it may write; its
  ``backend_tokens`` map it to a backend credential (``CallerCredentials.with_token``).

Anything else presented is an invalid token, answered in the kind's own format. The Guard
(``gateway/guard.py``) counts compat requests against the same caller (``CompatAccess``)
but leaves refusals to the kind; its own (429, 413, 408) and this mount's (a method no
route takes, a bad path) are the kind's too (``adapters/native.py``). A client never sees
a backend credential.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters import native
from adapters.base import CallerCredentials, Source
from adapters.compat import Caller, CompatCall, CompatKind
from adapters.native import Reason
from adapters.paths import check_wire_path
from adapters.registry import compat_routers
from gateway import auth
from gateway.reload import Backends
from gateway.settings import CompatSettings, CompatToken, Settings

if TYPE_CHECKING:  # the Guard's Access; importing it would pull in the GraphQL schema
    from gateway.guard import Access

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# scope["state"] key: what the Guard's ``rate_caller`` found, so the endpoint does not
# authenticate the same request twice — (kind registration, secret presented, API key).
SEEN = "revgate_compat_seen"
API_KEY_PREFIX = "key:"  # rate keys of API-key callers (gateway/auth.py)


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
    """Who the caller is among the compat tokens, from the secret it presented.

    No secret is anonymous (reads as ``[compat] anonymous_reads`` says); an unknown one is
    ``invalid_token`` (Patchwork answers 403 "Invalid token." wherever one is sent).
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


class CompatAccess:
    """Compat callers as the Guard and the compat endpoint see them."""

    def __init__(self, backends: Backends, settings: Settings, access: Access) -> None:
        self.backends = backends
        self.settings = settings
        self.access = access
        self.routers = compat_routers(settings.kinds)  # kinds are fixed for the app's life

    def kind_of(self, scope: Scope) -> tuple[str, Source, CompatKind] | None:
        """The backend a ``/rest/<backend>/…`` request is for, and its kind's registration."""
        name = scope["path"].removeprefix("/rest/").split("/", 1)[0]
        sources: Mapping[str, Source] = scope.get("state", {}).get(
            "revgate_sources", self.backends.sources
        )
        source = sources.get(name)
        kind = self.routers.get(source.kind) if source is not None else None
        if source is None or kind is None:
            return None
        return name, source, kind

    def refusal(self, scope: Scope, reason: Reason, detail: native.Detail) -> native.Native | None:
        """The Guard's refusal of a compat request as the backend's kind writes it (None:
        no such backend, the gateway's own form)."""
        found = self.kind_of(scope)
        return native.answer(found[1].kind, reason, detail) if found is not None else None

    def api_key(self, scope: Scope, secret: str, address: str) -> auth.Caller | None:
        """The gateway API key ``secret`` is, if it is one (under the request's policy)."""
        found = self.access.policy_of(scope).authenticator.authenticate(
            {"authorization": f"Bearer {secret}"}, address
        )
        return found if isinstance(found, auth.Caller) and not found.anonymous else None

    def rate_caller(self, scope: Scope, address: str) -> auth.Caller:
        """Who the Guard counts a compat request against (it never refuses one here)."""
        settings = self.access.policy_of(scope).settings  # as reloaded
        limits = settings.limits
        found = self.kind_of(scope)
        secret: str | None = None
        if found is not None:
            path = scope["path"].removeprefix("/rest/").partition("/")[2]
            secret = found[2].presented(Request(scope), path)
        key = self.api_key(scope, secret, address) if secret else None
        if found is not None:
            scope.setdefault("state", {})[SEEN] = (found[2], secret, key)
        if secret:
            if key is not None:
                return key
            token = find_token(secret, settings.compat, found[0]) if found else None
            if token is not None:
                return auth.Caller(
                    name=f"compat:{token.name}",
                    rate_key=f"compat:{token.name}",
                    requests_per_minute=limits.requests_per_minute,
                    cost_per_minute=limits.cost_per_minute,
                )
        return auth.Caller(
            name=None,
            rate_key=f"anon:{address}",
            requests_per_minute=limits.requests_per_minute,
            cost_per_minute=limits.cost_per_minute,
        )


class _AnyPath(PathConvertor):
    """Starlette's ``path`` that also matches a decoded newline (``%0a``), so such a path
    reaches the mount's own refusal (the kind's 404) instead of the app's."""

    regex = "(?s:.*)"


register_url_convertor("compat_path", _AnyPath())


def compat_routes(backends: Backends, settings: Settings, access: Access) -> list[Route]:
    """The ``/rest/<backend>/{path}`` route for ``create_app``; wires the Guard's hook."""
    compat = CompatAccess(backends, settings, access)
    access.compat_caller = compat.rate_caller
    access.compat_refusal = compat.refusal
    public_url = settings.server.public_url

    async def endpoint(request: Request) -> Response:
        found = compat.kind_of(request.scope)
        if found is None:
            return JSONResponse({"detail": "Not found."}, status_code=404)
        name, source, kind = found
        head = request.method == "HEAD"
        if request.method not in METHODS:  # every method reaches here: answer as the kind
            detail = native.Detail(method=request.method[:32])
            return native.answer(source.kind, Reason.METHOD, detail).response()
        path = request.path_params["path"]
        # The path is percent-decoded here and re-served upstream: a decoded '?', '#', dot
        # segment or control character would leave its route there (adapters/paths.py).
        why = "'?' in a path segment" if "?" in path else check_wire_path(path)
        if why is not None:
            detail = native.Detail(message=f"Invalid path: {why}.")
            return native.answer(source.kind, Reason.BAD_PATH, detail).response(head=head)
        seen = request.scope.get("state", {}).get(SEEN)
        if seen is not None and seen[0] is kind:  # the Guard authenticated it already
            secret, key = seen[1], seen[2]
        else:
            secret = kind.presented(request, path)
            address = request.client.host if request.client else "-"
            key = compat.api_key(request.scope, secret, address) if secret else None
        policy = access.policy_of(request.scope)  # the generation's: follows reloads
        acting: Source | None
        if key is not None:
            # A gateway API key: reads, writes unless read-only, on its own backend credential
            # if it has one.
            caller = Caller(authenticated=True, can_write=key.can_write, name=key.name)
            acting = policy.caller_sources.get(key.name or "", {}).get(name, source)
        else:
            caller, token = authenticate(secret, policy.settings.compat, name)
            anonymous = policy.settings.server.anonymous
            if not caller.authenticated and (not anonymous or name in policy.hidden):
                caller = Caller(invalid_token=caller.invalid_token, may_read=False)
            acting = as_caller(source, token)
        if acting is None:
            # Configured but impossible for this kind: refuse rather than fall back to the
            # gateway's own (usually more privileged) credential.
            message = f"backend {name!r} cannot act with a per-token credential"
            answer = native.answer(source.kind, Reason.NOT_IMPLEMENTED, native.Detail(message))
            return answer.response(head=head)
        origin = public_url or f"{request.url.scheme}://{request.url.netloc}"
        configured = [b for b in policy.settings.backends if b.name == name]
        allow = configured[0].passthrough if configured else None
        call = CompatCall(request, f"{origin}/rest/{name}", path, caller, allow)
        return await kind.router(acting)(call)

    # Every method reaches ``endpoint`` (Starlette's own 405 would not be the kind's): an
    # ASGI app, not a function, is what Route leaves without a method list.
    return [Route("/rest/{backend}/{path:compat_path}", _AnyMethod(request_response(endpoint)))]


class _AnyMethod:
    """An ASGI app Starlette's ``Route`` does not restrict to GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
