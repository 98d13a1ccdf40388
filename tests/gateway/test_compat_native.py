"""Every answer the gateway gives *itself* on a compat mount is the kind's own (issue 22).

One table (``EXPECTED``, the same as docs/compat.md "Answers the gateway gives itself"):
per kind and reason, the status, the body bytes and the response header names as that
kind's server writes them. Each row is driven through the real app over HTTP (httpx's
ASGI transport keeps header names as sent), with every method the row applies to — HEAD
gets the same status and headers and no body. The texts are literals here, not read from
``adapters/native.py``, so a change there that leaves the server's words fails.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from aiohttp import web

from adapters import simulator_common
from gateway.settings import settings_from_dict
from tests.gateway.compat_support import settings_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

READER = "r7" * 20  # a compat token that may only read
CAP = 64  # [server] max_body_bytes here

NAMES = {"patchwork": "pw", "patchwork-fdo": "fdo", "abf": "abf", "gerrit": "ger"}
# A route no kind models, inside its pass-through allow-list; one outside it.
INSIDE = {
    "patchwork": "api/1.4/things/",
    "patchwork-fdo": "api/1.0/people/",
    "abf": "api/v1/search.json",
    "gerrit": "a/accounts/self/detail",
}
OUTSIDE = {
    "patchwork": "static/x/",
    "patchwork-fdo": "admin/",
    "abf": "users/sign_in",
    "gerrit": "Documentation/index.html",
}

PW = ["Content-Type", "Vary"]
GERRIT = ["Content-Type"]
ABF = ["Content-Type"]
NOT_AUTH = b'{"detail":"Authentication credentials were not provided."}'
NO_PERM = b'{"detail":"You do not have permission to perform this action."}'


def _pw_page(path: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta http-equiv="Content-Type" '
        'content="text/html; charset=UTF-8"/>\n    <title>404: File not found - Patchwork</title>\n'
        "  </head>\n  <body>\n    <h1>404: File not found</h1>\n"
        f"<p>The page URL requested (<code>{path}</code>) does not exist.</p>\n"
        "  </body>\n</html>\n"
    ).encode()


Row = tuple[int, str, bytes, list[str]]
CHALLENGED = ["Content-Type", "Vary", "WWW-Authenticate"]
# What Patchwork and its fork (both DRF) say alike.
DRF_ROWS: dict[str, Row] = {
    "read_only": (403, "application/json", NO_PERM, PW),
    "method": (405, "application/json", b'{"detail":"Method \\"{method}\\" not allowed."}', PW),
    "too_large": (413, "application/json", b'{"detail":"request body larger than 64 bytes"}', PW),
    "rate_limited": (
        429,
        "application/json",
        b'{"detail":"Request was throttled. Expected available in {retry} seconds."}',
        [*PW, "Retry-After"],
    ),
}

# kind -> reason -> (status, content type, body ("{retry}": the Retry-After, "{method}": the
# request's), header names in order). The docs table lists the same.
EXPECTED: dict[str, dict[str, Row]] = {
    "patchwork": {
        **DRF_ROWS,
        "no_credentials": (403, "application/json", NOT_AUTH, PW),
        "bad_credentials": (403, "application/json", b'{"detail":"Invalid token."}', PW),
        "anonymous_write": (403, "application/json", NOT_AUTH, PW),
        "not_found": (
            404,
            "text/html; charset=utf-8",
            _pw_page("/rest/pw/static/x/"),
            ["Content-Type"],
        ),
    },
    "patchwork-fdo": {
        **DRF_ROWS,
        "no_credentials": (401, "application/json", NOT_AUTH, CHALLENGED),
        "bad_credentials": (
            401,
            "application/json",
            b'{"detail":"Invalid username/password."}',
            CHALLENGED,
        ),
        "anonymous_write": (401, "application/json", NOT_AUTH, CHALLENGED),
        "not_found": (404, "text/html; charset=utf-8", b"<h1>Not Found</h1>", ["Content-Type"]),
    },
    "gerrit": {
        "no_credentials": (
            401,
            "text/plain; charset=ISO-8859-1",
            b"Unauthorized",
            ["Content-Type", "WWW-Authenticate"],
        ),
        "bad_credentials": (
            401,
            "text/plain; charset=ISO-8859-1",
            b"Unauthorized",
            ["Content-Type", "WWW-Authenticate"],
        ),
        "anonymous_write": (403, "text/plain; charset=UTF-8", b"Authentication required\n", GERRIT),
        "read_only": (403, "text/plain; charset=UTF-8", b"not permitted\n", GERRIT),
        "not_found": (404, "text/plain; charset=UTF-8", b"Not found\n", GERRIT),
        "method": (405, "text/plain; charset=UTF-8", b"Method Not Allowed\n", GERRIT),
        "too_large": (
            413,
            "text/plain; charset=UTF-8",
            b"request body larger than 64 bytes\n",
            GERRIT,
        ),
        "rate_limited": (
            429,
            "text/plain; charset=UTF-8",
            b"Quota limit reached\n",
            [*GERRIT, "Retry-After"],
        ),
    },
    "abf": {
        "no_credentials": (
            401,
            "application/json; charset=utf-8",
            b'{"error":"You need to sign in or sign up before continuing."}',
            ["Content-Type", "WWW-Authenticate"],
        ),
        "bad_credentials": (
            401,
            "application/json; charset=utf-8",
            b'{"error":"You need to sign in or sign up before continuing."}',
            ["Content-Type", "WWW-Authenticate"],
        ),
        "anonymous_write": (
            401,
            "application/json; charset=utf-8",
            b'{"error":"You need to sign in or sign up before continuing."}',
            ["Content-Type", "WWW-Authenticate"],
        ),
        "read_only": (
            403,
            "application/json; charset=utf-8",
            b'{"message":"Access violation to this page!"}',
            ABF,
        ),
        "not_found": (
            404,
            "application/json; charset=utf-8",
            b'{"status":404,"message":"Error 404. Resource not found!"}',
            ABF,
        ),
        "method": (
            404,
            "application/json; charset=utf-8",
            b'{"status":404,"message":"Error 404. Resource not found!"}',
            ABF,
        ),
        "too_large": (
            413,
            "application/json; charset=utf-8",
            b'{"status":413,"message":"request body larger than 64 bytes"}',
            ABF,
        ),
        "rate_limited": (
            403,
            "application/json; charset=utf-8",
            b'{"message":"403 Forbidden | Rate Limit Exceeded"}',
            [*ABF, "Retry-After"],
        ),
    },
}
CHALLENGES = {
    "patchwork-fdo": 'Basic realm="api"',
    "gerrit": 'Basic realm="Gerrit Code Review"',
    "abf": 'Basic realm="Application"',
}
# Which methods each reason is asked with (HEAD only where the reason can be a read).
METHODS = {
    "no_credentials": ("GET", "HEAD", "POST", "PUT", "DELETE"),
    "bad_credentials": ("GET", "HEAD", "POST", "PUT", "DELETE"),
    "anonymous_write": ("POST", "PUT", "DELETE"),
    "read_only": ("POST", "PUT", "DELETE"),
    "not_found": ("GET", "HEAD", "POST", "PUT", "DELETE"),
    "method": ("PROPFIND", "TRACE"),
    "too_large": ("POST", "PUT"),
    "rate_limited": ("GET", "HEAD", "POST", "PUT", "DELETE"),
}


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _basic(login: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def _settings(url: str, timeout: float = 30.0, **top: Any) -> Any:
    backends: list[dict[str, Any]] = [
        {"name": "pw", "kind": "patchwork", "url": url, "token_env": "T"},
        {"name": "fdo", "kind": "patchwork-fdo", "url": url, "token_env": "T"},
        {"name": "abf", "kind": "abf", "url": url, "token_env": "T"},
        {"name": "ger", "kind": "gerrit", "url": url, "username_env": "U", "password_env": "T"},
    ]
    for b in backends:
        b.update(retries=0, timeout=timeout)
    return settings_from_dict(
        {
            "backends": backends,
            "server": {"max_body_bytes": CAP, **top.pop("server", {})},
            "compat": {
                "tokens": [{"name": "reader", "sha256": _sha(READER), "write": False}],
                **top.pop("compat", {}),
            },
            **top,
        },
        env={"T": "gateway-own-secret-credential", "U": "gateway-user"},
    )


SEEN = web.AppKey("SEEN", list)


async def _serve(handle: Any) -> simulator_common.RunningSimulator[list[str]]:
    app = web.Application()
    app[SEEN] = []
    app.router.add_route("*", "/{tail:.*}", handle)
    return await simulator_common.serve(app, SEEN)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def backend() -> AsyncIterator[tuple[str, list[str]]]:
    """A backend that records what reaches it (nothing should, for these refusals)."""

    async def handle(request: web.Request) -> web.Response:
        request.app[SEEN].append(f"{request.method} {request.path}")
        return web.json_response({"ok": True})

    running = await _serve(handle)
    try:
        yield running.url, running.state
    finally:
        await running.close()


def _request(kind: str, reason: str, method: str) -> tuple[str, dict[str, str], bytes | None]:
    """(path, headers, body) that makes the gateway refuse for ``reason``."""
    name = NAMES[kind]
    path = f"/rest/{name}/{INSIDE[kind]}"
    headers: dict[str, str] = {}
    body = b"{}" if method in ("POST", "PUT") else None
    token_header = (
        {"Authorization": f"Token {READER}"}
        if kind.startswith("patchwork")
        else {"Authorization": _basic("me", READER)}
    )
    if reason == "bad_credentials":
        wrong = "wrong-token-value"
        headers = (
            {"Authorization": f"Token {wrong}"}
            if kind.startswith("patchwork")
            else {"Authorization": _basic("me", wrong)}
        )
    elif reason == "read_only":
        headers = token_header
    elif reason == "anonymous_write" and kind == "gerrit":
        path = f"/rest/{name}/accounts/self/detail"  # without /a/: Gerrit's anonymous user
    elif reason == "not_found":
        path = f"/rest/{name}/{OUTSIDE[kind]}"
    elif reason == "too_large":
        body = b"x" * (CAP * 4)
    return path, headers, body


def _check(
    kind: str, reason: str, method: str, resp: httpx.Response, seen_before: int, seen: list[str]
) -> None:
    status, ctype, body, names = EXPECTED[kind][reason]
    assert resp.status_code == status, (kind, reason, method, resp.text)
    got_names = [n.decode() for n, _ in resp.headers.raw]
    # The gateway's own headers (request id, rate-limit counters) come after the kind's.
    kinds_names = [
        n for n in got_names if not n.lower().startswith("x-") and n.lower() != "content-length"
    ]
    assert kinds_names == names, (kind, reason, got_names)
    assert resp.headers["content-type"] == ctype
    retry = resp.headers.get("retry-after", "")
    expected = body.replace(b"{retry}", retry.encode()).replace(b"{method}", method.encode())
    assert resp.content == (b"" if method == "HEAD" else expected), (kind, reason, method)
    if "WWW-Authenticate" in names:
        assert resp.headers["www-authenticate"] == CHALLENGES[kind]
    assert seen[seen_before:] == []  # refused without asking the backend
    assert "gateway-own-secret-credential" not in resp.text


ROWS = [
    (kind, reason, method)
    for kind in EXPECTED
    for reason in EXPECTED[kind]
    if reason != "rate_limited"
    for method in METHODS[reason]
]


@pytest.mark.parametrize(("kind", "reason", "method"), ROWS)
async def test_refusal_is_the_kinds_own(
    backend: tuple[str, list[str]], kind: str, reason: str, method: str
) -> None:
    url, seen = backend
    anonymous = reason not in ("no_credentials",)
    settings = _settings(url, compat={"anonymous_reads": anonymous})
    path, headers, body = _request(kind, reason, method)
    before = len(seen)
    async with settings_client(settings) as client:
        resp = await client.request(method, path, headers=headers, content=body)
    _check(kind, reason, method, resp, before, seen)


@pytest.mark.parametrize("method", METHODS["rate_limited"])
@pytest.mark.parametrize("kind", list(EXPECTED))
async def test_guard_rate_limit_is_the_kinds_own(
    backend: tuple[str, list[str]], kind: str, method: str
) -> None:
    url, seen = backend
    settings = _settings(url, limits={"requests_per_minute": 1})
    path = f"/rest/{NAMES[kind]}/{OUTSIDE[kind]}"  # the first one is a (native) 404
    async with settings_client(settings) as client:
        await client.get(path)
        before = len(seen)
        resp = await client.request(method, path, content=b"{}" if method == "POST" else None)
    _check(kind, "rate_limited", method, resp, before, seen)
    assert int(resp.headers["retry-after"]) >= 1


async def test_refusals_elsewhere_stay_the_gateways(backend: tuple[str, list[str]]) -> None:
    """Off the compat mounts the Guard's refusals keep the gateway's coded JSON."""
    url, _ = backend
    async with settings_client(_settings(url)) as client:
        resp = await client.post("/graphql", content=b"x" * (CAP * 4))
    assert resp.status_code == 413
    assert resp.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


BODY_TIMEOUT = {
    "patchwork": (b'{"detail":"request body not received within 0.2 s"}', "application/json"),
    "patchwork-fdo": (b'{"detail":"request body not received within 0.2 s"}', "application/json"),
    "gerrit": (b"request body not received within 0.2 s\n", "text/plain; charset=UTF-8"),
    "abf": (
        b'{"status":408,"message":"request body not received within 0.2 s"}',
        "application/json; charset=utf-8",
    ),
}


@pytest.mark.parametrize("kind", list(BODY_TIMEOUT))
async def test_guard_body_timeout_is_the_kinds_own(
    backend: tuple[str, list[str]], kind: str
) -> None:
    """A body that never completes: 408 in the kind's form, and the connection closed."""
    url, _ = backend

    async def stalled() -> AsyncIterator[bytes]:
        yield b"{"
        await asyncio.sleep(30)  # never more: the Guard's body_timeout (0.2 s) ends it

    path = f"/rest/{NAMES[kind]}/{INSIDE[kind]}"
    async with settings_client(_settings(url, server={"body_timeout": 0.2})) as client:
        # generous bound (the machine is shared); the Guard's own is 0.2 s
        resp = await asyncio.wait_for(client.post(path, content=stalled()), 10)
    assert resp.status_code == 408
    assert (resp.content, resp.headers["content-type"]) == BODY_TIMEOUT[kind]
    assert resp.headers["connection"] == "close"


BAD_PATH = {
    "patchwork": (400, b'{"detail":"Invalid path: \'?\' in a path segment."}'),
    "abf": (400, b'{"status":400,"message":"Invalid path: \'?\' in a path segment."}'),
    "gerrit": (404, b"Not found\n"),  # Gerrit answers a path it cannot route "Not found"
}


@pytest.mark.parametrize("kind", list(BAD_PATH))
async def test_bad_path_is_the_kinds_own(backend: tuple[str, list[str]], kind: str) -> None:
    url, seen = backend
    before = len(seen)
    async with settings_client(_settings(url)) as client:
        resp = await client.get(f"/rest/{NAMES[kind]}/api/%3F/x")
    assert (resp.status_code, resp.content) == BAD_PATH[kind]
    assert seen[before:] == []


# -- the backend fails: 502 (it failed), 503 (cannot be reached), 504 (too slow) --------------

UPSTREAM_SHAPES: dict[str, tuple[str, Callable[[bytes], str]]] = {
    "patchwork": ("application/json", lambda b: orjson.loads(b)["detail"]),
    "patchwork-fdo": ("application/json", lambda b: orjson.loads(b)["detail"]),
    "gerrit": ("text/plain; charset=UTF-8", lambda b: b.decode().removesuffix("\n")),
    "abf": ("application/json; charset=utf-8", lambda b: orjson.loads(b)["message"]),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def failing() -> AsyncIterator[str]:
    """A backend whose /fail… paths answer 500 and /slow… paths hang."""

    async def handle(request: web.Request) -> web.Response:
        if "slow" in request.path:
            await asyncio.sleep(20)
        return web.Response(
            status=500, text="<h1>Server Error (500)</h1>", content_type="text/html"
        )

    running = await _serve(handle)
    try:
        yield running.url
    finally:
        await running.close()


def _closed_port() -> str:

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


UPSTREAM_PATHS = {
    "patchwork": "api/1.4/{what}/",
    "patchwork-fdo": "api/1.0/{what}/",
    "abf": "api/v1/{what}.json",
    "gerrit": "accounts/{what}",
}


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("kind", list(UPSTREAM_SHAPES))
@pytest.mark.parametrize("status", [502, 503, 504])
async def test_upstream_failure_is_the_kinds_own(
    failing: str, kind: str, status: int, method: str
) -> None:
    url = _closed_port() if status == 503 else failing
    what = "slow" if status == 504 else "fail"
    settings = _settings(url, timeout=0.3)  # a short upstream timeout for the 504
    path = f"/rest/{NAMES[kind]}/{UPSTREAM_PATHS[kind].format(what=what)}"
    async with settings_client(settings) as client:
        resp = await client.request(method, path)
    ctype, message_of = UPSTREAM_SHAPES[kind]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == ctype
    if method == "HEAD":
        assert resp.content == b""
        return
    message = message_of(resp.content)
    assert message.startswith(f"{NAMES[kind]}: ")  # names the backend, never where it is
    assert url.split("//")[1] not in resp.text and "gateway-own-secret" not in resp.text
    if kind == "abf":
        assert orjson.loads(resp.content)["status"] == status
