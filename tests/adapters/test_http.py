"""adapters.http against a real aiohttp server on 127.0.0.1: retries, error mapping, URL rule."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import adapters.http as http_module
from adapters.errors import (
    BadPayload,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Timeout,
    Unavailable,
    UpstreamError,
)
from adapters.http import (
    Credentials,
    HttpClient,
    HttpConfig,
    _parse_retry_after,
)

SECRET = "s3cr3t-Zq9xW-never-show-me"


@dataclass
class Upstream:
    """The test server, its base URL and what it saw."""

    url: str = ""
    port: int = 0
    hits: dict[str, int] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def config(self, **overrides: Any) -> HttpConfig:
        values: dict[str, Any] = {"backend": "pw", "base_url": self.url, "backoff": 0.001}
        values.update(overrides)
        return HttpConfig(**values)


def _json(body: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


def build_app(up: Upstream) -> web.Application:
    def count(request: web.Request) -> int:
        key = request.path
        up.hits[key] = up.hits.get(key, 0) + 1
        return up.hits[key]

    async def ok(request: web.Request) -> web.Response:
        base = f"http://{request.host}/json"
        link = f'<{base}?page=3>; rel="next", <{base}?page=1>; rel="prev"'
        return _json({"ok": True}, Link=link)

    async def echo(request: web.Request) -> web.Response:
        resp = _json(
            {
                "method": request.method,
                "query": [[k, v] for k, v in request.query.items()],
                "authorization": request.headers.get("Authorization"),
                "user_agent": request.headers.get("User-Agent"),
                "content_type": request.headers.get("Content-Type"),
                "cookie": request.headers.get("Cookie"),
                "body": (await request.read()).decode(),
            }
        )
        resp.headers["Set-Cookie"] = "sessionid=for-whoever-asked; Path=/"
        return resp

    async def status(request: web.Request) -> web.Response:
        count(request)
        code = int(request.match_info["code"])
        return _json({"detail": f"backend says {code}"}, status=code)

    async def flaky(request: web.Request) -> web.Response:
        n = count(request)
        code = int(request.match_info["code"])
        if n <= int(request.match_info["times"]):
            return _json({"detail": "try later"}, status=code, **{"Retry-After": "0"})
        return _json({"attempt": n})

    async def slow(request: web.Request) -> web.Response:
        count(request)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(up.release.wait(), 5)
        return _json({})

    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=b"{not json", content_type="application/json")

    app = web.Application()
    app.router.add_get("/json", ok)
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/flaky/{code}/{times}", flaky)
    app.router.add_route("*", "/slow", slow)
    app.router.add_get("/garbage", garbage)
    _error_routes(app)
    return app


def _error_routes(app: web.Application) -> None:
    """Large and compressed bodies, redirects and error pages."""

    async def big(request: web.Request) -> web.Response:
        return _json({"blob": "x" * 5000})

    async def big_stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        await resp.prepare(request)
        for _ in range(10):
            await resp.write(b" " * 1000)
        await resp.write(b"{}")
        await resp.write_eof()
        return resp

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(orjson.dumps({"zipped": "yes" * 100}))
        return web.Response(
            body=body, content_type="application/json", headers={"Content-Encoding": "gzip"}
        )

    async def echo_auth_error(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return _json({"detail": f"Invalid token {auth}"}, status=401)

    async def redirect_in(request: web.Request) -> web.Response:
        raise web.HTTPFound("/json")

    async def redirect_out(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://example.invalid/steal")

    async def long_error(request: web.Request) -> web.Response:
        return web.Response(status=400, text="e" * 5000)

    async def html_error(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html><body>Bad gateway</body></html>")

    app.router.add_get("/big", big)
    app.router.add_get("/big-stream", big_stream)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/auth-error", echo_auth_error)
    app.router.add_get("/redirect-in", redirect_in)
    app.router.add_get("/redirect-out", redirect_out)
    app.router.add_get("/long-error", long_error)
    app.router.add_get("/html-error", html_error)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()
    server = TestServer(build_app(up), host="127.0.0.1", port=0)
    await server.start_server()
    assert server.port is not None
    up.port = server.port
    up.url = str(server.make_url("")).rstrip("/")
    try:
        yield up
    finally:
        up.release.set()
        await server.close()


Attempts = list[tuple[str, str, int | None, float]]
MakeClient = Callable[..., Awaitable[tuple[HttpClient, Attempts]]]


@pytest.fixture
async def make_client(upstream: Upstream) -> AsyncIterator[MakeClient]:
    clients: list[HttpClient] = []

    async def make(**overrides: Any) -> tuple[HttpClient, Attempts]:
        attempts: Attempts = []
        client = HttpClient(
            upstream.config(**overrides),
            on_request=lambda m, u, s, t: attempts.append((m, u, s, t)),
        )
        await client.open()
        clients.append(client)
        return client, attempts

    yield make
    for client in clients:
        await client.close()


async def test_get_json_ok(make_client: MakeClient, upstream: Upstream) -> None:
    client, attempts = await make_client()
    body, resp = await client.get_json("/json")
    assert body == {"ok": True}
    assert resp.status == 200
    assert resp.url == f"{upstream.url}/json"
    assert resp.headers["content-type"].startswith("application/json")
    assert client.request_count == 1
    assert [(m, u, s) for m, u, s, _ in attempts] == [("GET", f"{upstream.url}/json", 200)]


async def test_link_header_parsed(make_client: MakeClient, upstream: Upstream) -> None:
    client, _ = await make_client()
    resp = await client.get("json")
    assert resp.links() == {
        "next": f"{upstream.url}/json?page=3",
        "prev": f"{upstream.url}/json?page=1",
    }
    nxt = await client.get(resp.links()["next"])
    assert nxt.status == 200
    # a page's answers repeat their Link header: parsed once, shared, so read-only
    again = await client.get("json")
    assert again.links() is resp.links()
    with pytest.raises(TypeError):
        resp.links()["next"] = "elsewhere"  # type: ignore[index]


async def test_params_including_repeated_keys(make_client: MakeClient) -> None:
    client, _ = await make_client()
    body, _ = await client.get_json(
        "/echo", {"q": "a b&c", "state": ["new", "accepted"], "page": 2, "archived": [0]}
    )
    assert body["query"] == [
        ["q", "a b&c"],
        ["state", "new"],
        ["state", "accepted"],
        ["page", "2"],
        ["archived", "0"],
    ]


async def test_token_auth_and_user_agent_sent(make_client: MakeClient) -> None:
    client, _ = await make_client(credentials=Credentials(token=SECRET))
    body, _ = await client.get_json("/echo")
    assert body["authorization"] == f"Token {SECRET}"
    assert body["user_agent"] == "revgate/0.1"


async def test_cookies_set_upstream_are_never_sent_back(upstream: Upstream) -> None:
    # The pooled session is shared by every caller credential (with_credentials): one
    # caller's session cookie must not ride along on another caller's request. (By host
    # name: a cookie jar keeps no cookies of a bare IP address anyway.)
    config = upstream.config(credentials=Credentials(token=SECRET))
    client = HttpClient(replace(config, base_url=f"http://localhost:{upstream.port}"))
    other = client.with_credentials(Credentials(token="someone-else"))
    try:
        first, resp = await client.get_json("/echo")
        assert "sessionid" in resp.headers["Set-Cookie"] and first["cookie"] is None
        again, _ = await other.get_json("/echo")
        assert again["cookie"] is None and again["authorization"] == "Token someone-else"
        mine, _ = await client.get_json("/echo")
        assert mine["cookie"] is None
    finally:
        await client.close()


async def test_basic_auth_sent(make_client: MakeClient) -> None:
    client, _ = await make_client(credentials=Credentials(username="alice", password=SECRET))
    body, _ = await client.get_json("/echo")
    expected = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert body["authorization"] == f"Basic {expected}"


async def test_no_credentials_no_authorization(make_client: MakeClient) -> None:
    client, _ = await make_client()
    body, _ = await client.get_json("/echo")
    assert body["authorization"] is None


@pytest.mark.parametrize(
    "code, error",
    [
        (400, BadRequest),
        (401, Forbidden),
        (403, Forbidden),
        (404, NotFound),
        (405, BadRequest),
        (409, Conflict),
        (418, BadRequest),
        (422, BadRequest),
    ],
)
async def test_client_errors_mapped_with_backend_detail(
    make_client: MakeClient, upstream: Upstream, code: int, error: type[UpstreamError]
) -> None:
    client, attempts = await make_client()
    with pytest.raises(error) as info:
        await client.get(f"/status/{code}")
    assert type(info.value) is error
    assert info.value.status == code
    assert info.value.backend == "pw"
    assert f"backend says {code}" in info.value.message
    assert f"HTTP {code}" in info.value.message
    assert str(info.value).startswith("pw: ")
    assert "127.0.0.1" not in info.value.message
    assert len(attempts) == 1


async def test_allow_status_returns_response(make_client: MakeClient) -> None:
    client, _ = await make_client()
    resp = await client.get("/status/404", allow_status=(404,))
    assert resp.status == 404
    assert resp.json() == {"detail": "backend says 404"}


async def test_write_error_mapped(make_client: MakeClient) -> None:
    client, _ = await make_client()
    with pytest.raises(Conflict, match="backend says 409") as info:
        await client.send("PATCH", "/status/409", json={"state": "accepted"})
    assert info.value.status == 409


async def test_long_error_text_truncated(make_client: MakeClient) -> None:
    client, _ = await make_client()
    with pytest.raises(BadRequest) as info:
        await client.get("/long-error")
    assert "eeee" in info.value.message
    assert len(info.value.message) < 300


async def test_html_error_page_not_quoted(make_client: MakeClient) -> None:
    client, _ = await make_client(retries=0)
    with pytest.raises(Unavailable) as info:
        await client.get("/html-error")
    assert "<html>" not in info.value.message
    assert info.value.status == 502


async def test_503_then_200_is_retried(make_client: MakeClient, upstream: Upstream) -> None:
    client, attempts = await make_client(retries=3)
    body, _ = await client.get_json("/flaky/503/2")
    assert body == {"attempt": 3}
    assert [s for _, _, s, _ in attempts] == [503, 503, 200]
    assert client.request_count == 3


async def test_429_with_retry_after_zero_is_retried(make_client: MakeClient) -> None:
    client, attempts = await make_client(retries=1, backoff=10.0)
    body, _ = await client.get_json("/flaky/429/1")
    assert body == {"attempt": 2}
    assert [s for _, _, s, _ in attempts] == [429, 200]


async def test_429_exhausted_is_unavailable(make_client: MakeClient) -> None:
    client, attempts = await make_client(retries=1)
    with pytest.raises(Unavailable) as info:
        await client.get("/flaky/429/5")
    assert info.value.status == 429
    assert len(attempts) == 2


async def test_500_unavailable_after_retries(make_client: MakeClient, upstream: Upstream) -> None:
    client, attempts = await make_client(retries=2)
    with pytest.raises(Unavailable, match="backend says 500") as info:
        await client.get("/status/500")
    assert info.value.status == 500
    assert len(attempts) == 3
    assert upstream.hits["/status/500"] == 3


async def test_post_to_503_is_not_retried(make_client: MakeClient, upstream: Upstream) -> None:
    client, attempts = await make_client(retries=3)
    with pytest.raises(Unavailable) as info:
        await client.send("POST", "/status/503", json={"x": 1})
    assert info.value.status == 503
    assert len(attempts) == 1
    assert upstream.hits["/status/503"] == 1


async def test_send_json_and_form_bodies(make_client: MakeClient) -> None:
    client, _ = await make_client()
    resp = await client.send("post", "/echo", json={"a": [1, 2]}, params={"p": 1})
    body = resp.json()
    assert body["method"] == "POST"
    assert body["content_type"] == "application/json"
    assert orjson.loads(body["body"]) == {"a": [1, 2]}
    assert body["query"] == [["p", "1"]]
    form = (await client.send("PUT", "/echo", data={"k": "v w"})).json()
    assert form["content_type"] == "application/x-www-form-urlencoded"
    assert form["body"] == "k=v+w"


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    attempts: Attempts = []
    client = HttpClient(
        HttpConfig(backend="pw", base_url=f"http://127.0.0.1:{port}", retries=1, backoff=0.001),
        on_request=lambda m, u, s, t: attempts.append((m, u, s, t)),
    )
    await client.open()
    try:
        with pytest.raises(Unavailable, match="cannot reach the backend") as info:
            await client.get("/x")
    finally:
        await client.close()
    assert info.value.status is None
    assert [s for _, _, s, _ in attempts] == [None, None]


async def test_read_timeout_is_timeout(make_client: MakeClient, upstream: Upstream) -> None:
    client, attempts = await make_client(read_timeout=0.2, retries=1)
    with pytest.raises(Timeout, match="timed out") as info:
        await client.get("/slow")
    assert info.value.status is None
    assert len(attempts) == 2
    assert upstream.hits["/slow"] == 2


async def test_write_timeout_not_retried(make_client: MakeClient, upstream: Upstream) -> None:
    client, attempts = await make_client(read_timeout=0.2, retries=3)
    upstream.hits.clear()
    with pytest.raises(Timeout, match="may or may not have been applied"):
        await client.send("POST", "/slow", json={})
    assert len(attempts) == 1


async def test_garbage_json_is_bad_payload(make_client: MakeClient) -> None:
    client, _ = await make_client()
    with pytest.raises(BadPayload, match="invalid JSON from upstream") as info:
        await client.get_json("/garbage")
    assert info.value.status == 200


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
async def test_oversized_body_is_bad_payload(make_client: MakeClient, path: str) -> None:
    client, attempts = await make_client(max_body_bytes=1000)
    with pytest.raises(BadPayload, match="larger than 1000 bytes"):
        await client.get(path)
    assert len(attempts) == 1


async def test_gzip_response_decoded(make_client: MakeClient) -> None:
    client, _ = await make_client()
    body, resp = await client.get_json("/gzip")
    assert body == {"zipped": "yes" * 100}
    assert resp.headers["Content-Encoding"] == "gzip"


async def test_resolve_relative_and_same_origin(upstream: Upstream) -> None:
    client = HttpClient(upstream.config(base_url=upstream.url + "/"))
    assert client.resolve("/api/1.3/") == f"{upstream.url}/api/1.3/"
    assert client.resolve("api/1.3/") == f"{upstream.url}/api/1.3/"
    assert client.resolve(f"{upstream.url}/api/?page=2") == f"{upstream.url}/api/?page=2"
    prefixed = HttpClient(upstream.config(base_url=f"{upstream.url}/patchwork"))
    assert prefixed.resolve("/api/") == f"{upstream.url}/patchwork/api/"


async def test_resolved_paths_are_kept_and_refusals_are_not(upstream: Upstream) -> None:
    client = HttpClient(upstream.config(base_url=upstream.url))
    first = client.resolve("/api/1.3/patches/44/")
    assert client.resolve("/api/1.3/patches/44/") == first
    for _ in range(2):  # a refused path is refused every time, never kept
        with pytest.raises(BadRequest, match="refusing the request"):
            client.resolve("/api/1.3/patches/%2e%2e/users/")
    for n in range(http_module.RESOLVED_PATHS + 5):  # bounded: the table starts over
        assert client.resolve(f"/api/1.3/patches/{n}/") == f"{upstream.url}/api/1.3/patches/{n}/"
    assert len(client._resolved) <= http_module.RESOLVED_PATHS


@pytest.mark.parametrize(
    "foreign",
    [
        "http://example.invalid/api/",
        "https://127.0.0.1:{port}/api/",
        "http://127.0.0.1:1/api/",
        "http://localhost:{port}/api/",
        "//example.invalid/api/",
        "file:///etc/passwd",
    ],
)
async def test_resolve_refuses_foreign_urls(
    make_client: MakeClient, upstream: Upstream, foreign: str
) -> None:
    client, attempts = await make_client()
    url = foreign.format(port=upstream.port)
    with pytest.raises(BadRequest, match="refusing to follow URL outside the backend"):
        client.resolve(url)
    with pytest.raises(BadRequest, match="outside the backend"):
        await client.get(url)
    assert attempts == []


async def test_same_origin_redirect_followed(make_client: MakeClient) -> None:
    client, attempts = await make_client()
    body, resp = await client.get_json("/redirect-in")
    assert body == {"ok": True}
    assert resp.url.endswith("/json")
    assert [s for _, _, s, _ in attempts] == [302, 200]


async def test_foreign_redirect_refused(make_client: MakeClient) -> None:
    client, attempts = await make_client()
    with pytest.raises(BadRequest, match="redirect outside the backend") as info:
        await client.get("/redirect-out")
    assert "example.invalid" not in str(info.value)
    assert len(attempts) == 1


async def test_credentials_never_shown(
    make_client: MakeClient, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    creds = Credentials(token=SECRET, username="alice", password=SECRET + "-pw")
    assert SECRET not in repr(creds)
    assert SECRET not in str(creds)
    assert SECRET not in repr(HttpConfig(backend="pw", base_url="http://h", credentials=creds))
    caplog.set_level(logging.DEBUG, logger="revgate.upstream")
    client, _ = await make_client(credentials=creds)
    with pytest.raises(Forbidden) as info:
        await client.get("/auth-error")
    assert "Invalid token" in info.value.message
    assert SECRET not in str(info.value)
    assert SECRET not in info.value.message
    assert "GET" in caplog.text and "/auth-error" in caplog.text
    assert SECRET not in caplog.text


async def test_basic_auth_echo_scrubbed(make_client: MakeClient) -> None:
    client, _ = await make_client(credentials=Credentials(username="alice", password=SECRET))
    with pytest.raises(Forbidden) as info:
        await client.get("/auth-error")
    encoded = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    assert encoded not in str(info.value)
    assert SECRET not in str(info.value)


async def test_userinfo_in_base_url_stripped(upstream: Upstream) -> None:
    host = upstream.url.removeprefix("http://")
    attempts: Attempts = []
    client = HttpClient(
        HttpConfig(backend="pw", base_url=f"http://bob:{SECRET}@{host}", retries=0),
        on_request=lambda m, u, s, t: attempts.append((m, u, s, t)),
    )
    assert SECRET not in repr(client.config)
    await client.open()
    try:
        body, resp = await client.get_json("/echo")
        with pytest.raises(Forbidden) as info:
            await client.get("/auth-error")
    finally:
        await client.close()
    assert body["authorization"].startswith("Basic ")
    assert SECRET not in resp.url
    assert all(SECRET not in url and "bob" not in url for _, url, _, _ in attempts)
    assert SECRET not in str(info.value)


async def test_injected_session_not_closed(upstream: Upstream) -> None:
    async with aiohttp.ClientSession() as session:
        client = HttpClient(upstream.config(), session=session)
        await client.open()
        body, _ = await client.get_json("/json")
        await client.close()
        assert not session.closed
    assert body == {"ok": True}


async def test_lazy_open(upstream: Upstream) -> None:
    client = HttpClient(upstream.config())
    try:
        body, _ = await client.get_json("/json")
    finally:
        await client.close()
    assert body == {"ok": True}


def test_retry_after_parsing() -> None:
    assert _parse_retry_after(None, 20) is None
    assert _parse_retry_after("0", 20) == 0.0
    assert _parse_retry_after("7", 20) == 7.0
    assert _parse_retry_after("3600", 20) == 20.0
    assert _parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 20) == 0.0
    assert _parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT", 20) == 20.0
    assert _parse_retry_after("soon", 20) is None
