"""CORS for browser pages on other origins: off by default (same-origin only), exact origins
and ``*.`` patterns when configured, refusals in JSON, the websocket ``Origin`` check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from adapters.patchwork.simulator import start_simulator
from gateway.settings import ConfigError, Settings, settings_from_dict
from tests.gateway.guarded import ALICE_KEY, bearer, guarded
from tests.reliability.harness import ADMIN_TOKEN, ServedGateway

DASH = "https://dash.example.org"
EVIL = "https://evil.example.com"
QUERY = "{ backends { name } }"


def preflight(origin: str, method: str = "POST", headers: str = "content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


async def test_cors_default_is_same_origin_only() -> None:
    async with guarded() as gw:
        refused = await gw.client.options("/graphql", headers=preflight(EVIL))
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "CORS_REFUSED"
        assert "access-control-allow-origin" not in refused.headers
        # The request itself is answered (a non-browser client sends Origin too), but without
        # the header a browser needs to hand the answer to the page.
        answered = await gw.client.post("/graphql", json={"query": QUERY}, headers={"Origin": EVIL})
        assert answered.status_code == 200 and "access-control-allow-origin" not in answered.headers


@pytest.mark.parametrize("path", ["/graphql", "/rest/pw/api/"])
async def test_cors_configured_origin_is_allowed_everywhere(path: str) -> None:
    server = {"cors_origins": [DASH], "cors_max_age": 120}
    async with guarded(server=server) as gw:
        pre = await gw.client.options(path, headers=preflight(DASH, "POST", "authorization"))
        assert pre.status_code == 200, pre.text
        assert pre.headers["access-control-allow-origin"] == DASH
        assert "POST" in pre.headers["access-control-allow-methods"]
        assert "authorization" in pre.headers["access-control-allow-headers"]
        assert pre.headers["access-control-max-age"] == "120"
        assert "access-control-allow-credentials" not in pre.headers
        get = await gw.client.get(path, headers={"Origin": DASH, **bearer(ALICE_KEY)})
        assert get.headers["access-control-allow-origin"] == DASH
        assert "Origin" in get.headers["vary"]
        assert "X-Request-Id" in get.headers["access-control-expose-headers"]
        other = await gw.client.options(path, headers=preflight(EVIL))
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


async def test_cors_refusals_of_the_guard_are_readable_by_the_page() -> None:
    async with guarded(server={"cors_origins": [DASH], "anonymous": False}) as gw:
        resp = await gw.client.post("/graphql", json={"query": QUERY}, headers={"Origin": DASH})
        assert resp.status_code == 401
        assert resp.headers["access-control-allow-origin"] == DASH
        assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://dash.example.org", True),
        ("https://a.b.example.org", True),
        ("https://example.org", False),
        ("https://evil-example.org", False),
        ("https://dash.example.org.evil.com", False),
        ("http://dash.example.org", False),
        ("https://dash.example.org:8443", False),
        ("null", False),
    ],
)
async def test_cors_patterns_match_whole_labels(origin: str, allowed: bool) -> None:
    async with guarded(server={"cors_origins": ["https://*.example.org"]}) as gw:
        resp = await gw.client.options("/graphql", headers=preflight(origin))
        assert (resp.status_code == 200) is allowed
        assert (resp.headers.get("access-control-allow-origin") == origin) is allowed


async def test_cors_credentials_flag() -> None:
    async with guarded(server={"cors_origins": [DASH], "cors_allow_credentials": True}) as gw:
        pre = await gw.client.options("/graphql", headers=preflight(DASH))
        assert pre.headers["access-control-allow-credentials"] == "true"
        assert pre.headers["access-control-allow-origin"] == DASH


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"cors_origins": "https://a.org"}, "cors_origins must be a list of origins"),
        ({"cors_origins": ["https://a.org/"]}, "must be an origin"),
        ({"cors_origins": ["https://a.org/path"]}, "must be an origin"),
        ({"cors_origins": ["a.org"]}, "must be an origin"),
        ({"cors_origins": ["https://*"]}, "must be an origin"),
        ({"cors_origins": ["*"], "cors_allow_credentials": True}, "needs explicit cors_origins"),
        ({"cors_allow_credentials": "yes"}, "must be true or false"),
        ({"cors_max_age": -1}, "cors_max_age must be seconds"),
    ],
)
def test_cors_settings_refuse_bad_values(server: dict[str, Any], message: str) -> None:
    config = {
        "server": server,
        "backends": [{"name": "pw", "kind": "patchwork", "url": "http://127.0.0.1:9"}],
    }
    with pytest.raises(ConfigError) as caught:
        settings_from_dict(config, env={})
    assert message in str(caught.value)


def _setup(
    server: dict[str, Any],
) -> Callable[[], Awaitable[tuple[Settings, Callable[[], Awaitable[None]]]]]:
    async def setup() -> tuple[Settings, Callable[[], Awaitable[None]]]:
        sim = await start_simulator()
        backend = {"name": "pw", "kind": "patchwork", "url": sim.url, "token_env": "PW_TOKEN"}
        settings = settings_from_dict(
            {"server": server, "backends": [backend]}, env={"PW_TOKEN": ADMIN_TOKEN}
        )
        return settings, sim.close

    return setup


async def _socket(url: str, origin: str | None) -> str:
    """Open the GraphQL websocket with ``origin``; 'ack', or how it was refused."""
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(
                url.replace("http", "ws") + "/graphql",
                protocols=["graphql-transport-ws"],
                headers=headers,
            ) as ws:
                await ws.send_json({"type": "connection_init"})
                message = await ws.receive(timeout=5)
                if message.type == aiohttp.WSMsgType.TEXT:
                    return str(message.json()["type"])
                return f"closed {ws.close_code}"
        except aiohttp.WSServerHandshakeError as exc:
            return f"handshake {exc.status}"


async def test_cors_websocket_origin_check() -> None:
    with ServedGateway(_setup({"cors_origins": [DASH]})) as gw:
        own = gw.url  # GraphiQL served by this gateway opens its socket from here
        assert await _socket(gw.url, None) == "connection_ack"
        assert await _socket(gw.url, own) == "connection_ack"
        assert await _socket(gw.url, DASH) == "connection_ack"
        assert await _socket(gw.url, EVIL) == "handshake 403"
        assert await _socket(gw.url, "null") == "handshake 403"


async def test_cors_leaves_answers_without_origin_untouched() -> None:
    """Compat clients compare headers with the forge's own: no ``Vary: Origin`` is added to
    an answer for a request that carries no ``Origin``."""
    async with guarded(server={"cors_origins": [DASH]}) as gw:
        resp = await gw.client.get("/rest/pw/api/1.3/projects/")
        assert "Origin" not in resp.headers.get("vary", "")
        assert "access-control-allow-origin" not in resp.headers
