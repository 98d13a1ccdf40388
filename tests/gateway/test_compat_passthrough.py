"""Pass-through (issue 22): a compat route a kind does not model goes to the backend.

Every kind is put in front of one recording upstream (``Echo``): pass-through does not parse
the answer, so one fake backend serves all four, and the test can see exactly what was
forwarded (path, query, credential, body) and check what came back (status, header names as
written, hop-by-hop headers dropped, the backend's URLs moved onto the gateway's mount).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from aiohttp import web

from adapters import passthrough
from adapters.registry import COMPAT_ROUTERS
from gateway.settings import ConfigError, settings_from_dict
from tests.gateway.compat_support import settings_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

READER = "r1" * 20  # compat token, read-only, mapped to its own backend credential
WRITER = "w1" * 20  # compat token that may write, mapped too
MAPPED = {"patchwork": "pw-mapped-reader-token", "gerrit": "mapped-user:mapped-http-pw"}


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _basic(login: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


@dataclass
class Echo:
    """A backend that records every request and answers with links to itself."""

    seen: list[tuple[str, str, str | None, bytes]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            (request.method, request.raw_path, request.headers.get("Authorization"), body)
        )
        me = self.url
        answer = orjson.dumps(
            {"url": f"{me}/api/v1/things/1.json", "escaped": "ESCAPED", "self": me}
        ).replace(b"ESCAPED", me.replace("/", "\\/").encode() + b"\\/x")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "ETag": 'W/"echo-1"',
            "X-Backend-Thing": "kept",
            "Set-Cookie": "_session=backend-session; path=/",
            "Link": f'<{me}/api/next/?page=2>; rel="next", </api/prev/>; rel="prev"',
            "Location": f"{me}/api/created/7/",
        }
        status = 201 if request.method == "POST" else 200
        return web.Response(status=status, body=answer, headers=headers)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def echo() -> AsyncIterator[Echo]:
    state = Echo()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def _settings(url: str, allow: list[str] | None = None, only: str | None = None) -> Any:
    extra = {} if allow is None or only is not None else {"passthrough": allow}
    backends: list[dict[str, Any]] = [
        {"name": "pw", "kind": "patchwork", "url": url, "token_env": "PW", **extra},
        {"name": "fdo", "kind": "patchwork-fdo", "url": url, "token_env": "PW", **extra},
        {"name": "abf", "kind": "abf", "url": url, "token_env": "ABF", **extra},
        {"name": "ger", "kind": "gerrit", "url": url, **extra}
        | {"username_env": "GU", "password_env": "GP"},
    ]
    for b in backends:
        b["retries"] = 0
        if only is not None and b["name"] == only:
            b["passthrough"] = allow
    mapping = {"pw": "M_PW", "fdo": "M_PW", "abf": "M_PW", "ger": "M_GER"}
    return settings_from_dict(
        {
            "backends": backends,
            "compat": {
                "tokens": [
                    {"name": "reader", "sha256": _sha(READER), "write": False}
                    | {"backend_tokens": mapping},
                    {"name": "writer", "sha256": _sha(WRITER), "backend_tokens": mapping},
                ]
            },
        },
        env={
            "PW": "gateway-own-pw-token",
            "ABF": "gateway-own-abf-token",
            "GU": "gateway-user",
            "GP": "gateway-http-pw",
            "M_PW": MAPPED["patchwork"],
            "M_GER": MAPPED["gerrit"],
        },
    )


@contextlib.asynccontextmanager
async def _gateway(
    url: str, allow: list[str] | None = None, only: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    async with settings_client(_settings(url, allow, only)) as client:
        yield client


# kind: (backend, unmodelled route, what the backend is asked, the caller's auth header for a
# token, the mapped credential as the backend receives it)
KINDS: dict[str, tuple[str, str, str]] = {
    "patchwork": ("pw", "api/1.4/projects/?q=ab&x=1", "/api/1.4/projects/?q=ab&x=1"),
    "patchwork-fdo": ("fdo", "api/1.0/people/?q=iv", "/api/1.0/people/?q=iv"),
    "abf": (
        "abf",
        "api/v1/search.json?type=users&query=iv",
        "/api/v1/search.json?type=users&query=iv",
    ),
    "gerrit": ("ger", "a/accounts/self/detail?o=X", "/a/accounts/self/detail?o=X"),
}
OUTSIDE = {
    "patchwork": "static/x/",
    "patchwork-fdo": "admin/",
    "abf": "users/sign_in",
    "gerrit": "Documentation/index.html",
}


def _auth(kind: str, token: str) -> dict[str, str]:
    if kind in ("patchwork", "patchwork-fdo"):
        return {"Authorization": f"Token {token}"}
    return {"Authorization": _basic("me", token)}


def _mapped(kind: str) -> str:
    if kind in ("patchwork", "patchwork-fdo"):
        return f"Token {MAPPED['patchwork']}"
    if kind == "abf":
        return _basic(MAPPED["patchwork"])
    return _basic(*MAPPED["gerrit"].split(":"))


def _native_404(kind: str, resp: httpx.Response) -> None:
    assert resp.status_code == 404
    if kind == "patchwork":
        assert "404: File not found" in resp.text
    elif kind == "patchwork-fdo":  # its HTML page outside the API, DRF's inside
        assert "Not Found" in resp.text or resp.json() == {"detail": "Not found."}
    elif kind == "abf":
        assert resp.json() == {"status": 404, "message": "Error 404. Resource not found!"}
    else:
        assert resp.text == "Not found\n"


@pytest.mark.parametrize("kind", list(KINDS))
async def test_unmodelled_route_passed_through_with_mapped_credential(
    echo: Echo, kind: str
) -> None:
    name, route, upstream = KINDS[kind]
    async with _gateway(echo.url) as client:
        before = len(echo.seen)
        resp = await client.get(f"/rest/{name}/{route}", headers=_auth(kind, READER))
    assert echo.seen[before:] == [("GET", upstream, _mapped(kind), b"")]
    assert resp.status_code == 200, resp.text
    base = f"http://revgate/rest/{name}"
    body = resp.json()
    assert body["url"].startswith(base + "/") and body["self"] == base
    assert body["escaped"] == base + "/x"
    assert echo.url not in resp.text
    names = [n for n, _ in resp.headers.raw]
    assert b"X-Backend-Thing" in names and b"Link" in names  # names as the backend wrote them
    assert "set-cookie" not in resp.headers  # the backend session of the mapped credential
    assert resp.headers["location"] == f"{base}/api/created/7/"
    assert resp.headers["link"] == (
        f'<{base}/api/next/?page=2>; rel="next", </rest/{name}/api/prev/>; rel="prev"'
    )
    # a conditional request is answered from the backend's ETag
    async with _gateway(echo.url) as client:
        again = await client.get(
            f"/rest/{name}/{route}", headers={**_auth(kind, READER), "If-None-Match": 'W/"echo-1"'}
        )
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("kind", list(KINDS))
async def test_anonymous_pass_through_goes_upstream_without_credential(
    echo: Echo, kind: str
) -> None:
    name, route, upstream = KINDS[kind]
    if kind == "gerrit":  # without /a/: Gerrit's anonymous view
        route, upstream = route.removeprefix("a/"), upstream.removeprefix("/a")
    async with _gateway(echo.url) as client:
        before = len(echo.seen)
        resp = await client.get(f"/rest/{name}/{route}")
    assert resp.status_code == 200
    assert echo.seen[before:] == [("GET", upstream, None, b"")]


@pytest.mark.parametrize("kind", list(KINDS))
async def test_outside_allow_list_is_native_404_without_upstream(echo: Echo, kind: str) -> None:
    name, route, _ = KINDS[kind]
    async with _gateway(echo.url) as client:
        before = len(echo.seen)
        _native_404(kind, await client.get(f"/rest/{name}/{OUTSIDE[kind]}"))
        _native_404(
            kind, await client.get(f"/rest/{name}/{OUTSIDE[kind]}", headers=_auth(kind, WRITER))
        )
    async with _gateway(echo.url, allow=[]) as client:  # pass-through off
        resp = await client.get(f"/rest/{name}/{route}", headers=_auth(kind, READER))
        _native_404(kind, resp)
    assert echo.seen[before:] == []


@pytest.mark.parametrize("kind", list(KINDS))
async def test_writes_only_for_callers_that_may_write(echo: Echo, kind: str) -> None:
    name, route, upstream = KINDS[kind]
    path = f"/rest/{name}/{route}"
    async with _gateway(echo.url) as client:
        before = len(echo.seen)
        anonymous = await client.post(path.replace("/a/", "/"), content=b'{"x":1}')
        reader = await client.post(path, content=b'{"x":1}', headers=_auth(kind, READER))
        assert echo.seen[before:] == []  # refused before the backend
        assert anonymous.status_code in (401, 403) and reader.status_code in (401, 403)
        assert reader.status_code == 403
        writer = await client.post(
            path,
            content=b'{"x":1}',
            headers={**_auth(kind, WRITER), "Content-Type": "application/json"},
        )
    assert writer.status_code == 201
    probe = "/a/accounts/self/capabilities"  # Gerrit's client learns the auth scheme first
    assert [s for s in echo.seen[before:] if s[1] != probe] == [
        ("POST", upstream, _mapped(kind), b'{"x":1}')
    ]


async def test_allow_list_narrows_and_is_bounded_by_the_api_root(echo: Echo) -> None:
    async with _gateway(echo.url, allow=["/api/v1/search"], only="abf") as client:
        before = len(echo.seen)
        ok = await client.get("/rest/abf/api/v1/search.json", headers=_auth("abf", READER))
        refused = await client.get("/rest/abf/api/v1/arches.json", headers=_auth("abf", READER))
    assert ok.status_code == 200
    _native_404("abf", refused)
    assert [s[1] for s in echo.seen[before:]] == ["/api/v1/search.json"]
    assert passthrough.check_prefixes("abf", _roots("abf"), ["/"]) is not None
    assert passthrough.check_prefixes("gerrit", _roots("gerrit"), ["/a/"]) is not None
    assert passthrough.check_prefixes("patchwork", _roots("patchwork"), ["/api/1.3/"]) is None
    with pytest.raises(ConfigError, match="outside the abf API"):
        _settings(echo.url, allow=["/users/"], only="abf")
    assert not passthrough.allowed("users/sign_in", None, roots=_roots("abf"))
    gerrit = COMPAT_ROUTERS["gerrit"]
    assert passthrough.allowed(
        "a/config/server/version", None, roots=gerrit.roots, auth_prefix=gerrit.auth_prefix
    )
    assert not passthrough.allowed("a/config/server/version", None, roots=gerrit.roots)


def _roots(kind: str) -> tuple[str, ...]:
    return COMPAT_ROUTERS[kind].roots


async def test_hop_by_hop_headers_are_dropped() -> None:
    from starlette.requests import Request

    from adapters.compat import Caller, CompatCall
    from adapters.http import Response as Upstream

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/rest/x/api/a",
        "raw_path": b"/rest/x/api/a",
        "query_string": b"",
        "headers": [],
    }
    call = CompatCall(Request(scope), "http://gw/rest/x", "api/a", Caller())
    headers = [
        ("Connection", "close, X-Private"),
        ("X-Private", "1"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("WWW-Authenticate", "Basic"),
        ("X-Fine", "1"),
    ]
    from multidict import CIMultiDict, CIMultiDictProxy

    upstream = Upstream(200, "http://b/api/a", CIMultiDictProxy(CIMultiDict(headers)), b"hi")
    resp = passthrough.respond(call, upstream, "http://b")
    names = {n.decode().lower() for n, _ in resp.raw_headers}
    assert names == {"content-length", "x-fine"}


async def test_abf_gateway_answers_keep_rosa_build_header_names(echo: Echo) -> None:
    async with _gateway(echo.url) as client:
        missing = await client.get("/rest/abf/users/sign_in")
        anonymous = await client.get(
            "/rest/abf/api/v1/arches.json", headers={"Authorization": "Basic Og=="}
        )
    names = [n for n, _ in missing.headers.raw]
    assert b"Content-Type" in names and b"content-type" not in names
    # an empty Basic credential is anonymous on ABF (not an invalid token): passed through
    # without a credential
    assert anonymous.status_code == 200
    assert echo.seen[-1][1:3] == ("/api/v1/arches.json", None)
