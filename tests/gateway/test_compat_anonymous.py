"""What an empty or partial credential means on each kind's compat mount (issue 22).

Each kind's server has its own convention, applied by its ``presented``
(docs/compat.md "Anonymous, per kind"): DRF (both Patchworks) tries HTTP basic on any basic
header, so an empty login is a failed login, and words its refusals by the header's shape;
Gerrit looks the login up on ``/a/`` and ignores credentials elsewhere; Devise (ABF) only
tries HTTP auth with a login, so an empty one is anonymous. Each case is observed where it
matters: anonymous callers go upstream with no credential, authenticated ones with one,
refused ones not at all.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from adapters import simulator_common
from gateway.settings import settings_from_dict
from tests.gateway.compat_support import settings_client

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "c9" * 20  # a gateway compat token
SEEN = web.AppKey("SEEN", list)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SHAPES: dict[str, str | None] = {
    "missing": None,
    "basic-empty": "Basic Og==",  # ":": what clients send before a login is configured
    "basic-password-only": f"Basic {_b64(':' + TOKEN)}",
    "basic-login-and-token": f"Basic {_b64('me:' + TOKEN)}",
    "basic-token-as-login": f"Basic {_b64(TOKEN + ':')}",
    "basic-malformed": "Basic !!not-base64!!",
    "token-empty": "Token ",
    "token-with-spaces": f"Token {TOKEN} extra",
    "token": f"Token {TOKEN}",
    "bearer": f"Bearer {TOKEN}",
}

ANON = "anonymous"
AUTH = "authenticated"
INVALID_UP = b'{"detail":"Invalid username/password."}'
# kind -> shape -> ANON / AUTH / (status, body) of the refusal
EXPECTED: dict[str, dict[str, str | tuple[int, bytes]]] = {
    "patchwork": {
        "missing": ANON,
        "basic-empty": (403, INVALID_UP),
        "basic-password-only": (403, INVALID_UP),
        "basic-login-and-token": AUTH,
        "basic-token-as-login": (403, INVALID_UP),
        "basic-malformed": (
            403,
            b'{"detail":"Invalid basic header. Credentials not correctly base64 encoded."}',
        ),
        "token-empty": (403, b'{"detail":"Invalid token header. No credentials provided."}'),
        "token-with-spaces": (
            403,
            b'{"detail":"Invalid token header. Token string should not contain spaces."}',
        ),
        "token": AUTH,
        "bearer": ANON,  # DRF ignores schemes it has no authenticator for
    },
    "patchwork-fdo": {
        "missing": ANON,
        "basic-empty": (401, INVALID_UP),
        "basic-password-only": (401, INVALID_UP),
        "basic-login-and-token": AUTH,
        "basic-token-as-login": (401, INVALID_UP),
        "basic-malformed": (
            401,
            b'{"detail":"Invalid basic header. Credentials not correctly base64 encoded."}',
        ),
        "token-empty": (401, INVALID_UP),
        "token-with-spaces": (401, INVALID_UP),
        "token": AUTH,
        "bearer": ANON,
    },
    "gerrit": {  # on /a/: every failure is Jetty's 401 with the challenge
        "missing": (401, b"Unauthorized"),
        "basic-empty": (401, b"Unauthorized"),
        "basic-password-only": (401, b"Unauthorized"),
        "basic-login-and-token": AUTH,
        "basic-token-as-login": (401, b"Unauthorized"),
        "basic-malformed": (401, b"Unauthorized"),
        "token-empty": (401, b"Unauthorized"),
        "token-with-spaces": (401, b"Unauthorized"),
        "token": (401, b"Unauthorized"),
        "bearer": (401, b"Unauthorized"),
    },
    "abf": {
        "missing": ANON,
        "basic-empty": ANON,  # Devise needs a login to try HTTP auth
        "basic-password-only": ANON,
        "basic-login-and-token": AUTH,
        "basic-token-as-login": AUTH,  # ABF's own token style
        "basic-malformed": (401, b'{"error":"You need to sign in or sign up before continuing."}'),
        "token-empty": ANON,
        "token-with-spaces": ANON,
        "token": ANON,
        "bearer": ANON,
    },
}
ROUTES = {
    "patchwork": ("pw", "api/1.4/things/"),
    "patchwork-fdo": ("fdo", "api/1.0/people/"),
    "gerrit": ("ger", "a/accounts/self/detail"),
    "abf": ("abf", "api/v1/search.json"),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def backend() -> AsyncIterator[tuple[str, list[str | None]]]:
    """Records the Authorization header each forwarded request carried."""

    async def handle(request: web.Request) -> web.Response:
        request.app[SEEN].append(request.headers.get("Authorization"))
        return web.json_response({"ok": True})

    app = web.Application()
    app[SEEN] = []
    app.router.add_route("*", "/{tail:.*}", handle)
    running = await simulator_common.serve(app, SEEN)
    try:
        yield running.url, running.state
    finally:
        await running.close()


def _settings(url: str) -> Any:
    own = {"token_env": "T"}
    return settings_from_dict(
        {
            "backends": [
                {"name": "pw", "kind": "patchwork", "url": url, **own},
                {"name": "fdo", "kind": "patchwork-fdo", "url": url, **own},
                {"name": "abf", "kind": "abf", "url": url, **own},
                {"name": "ger", "kind": "gerrit", "url": url}
                | {"username_env": "U", "password_env": "T"},
            ],
            "compat": {
                "tokens": [{"name": "c", "sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}]
            },
        },
        env={"T": "gateway-own-credential", "U": "gateway-user"},
    )


CASES = [(kind, shape) for kind in EXPECTED for shape in SHAPES]


@pytest.mark.parametrize(("kind", "shape"), CASES)
async def test_credential_shapes_follow_the_kinds_convention(
    backend: tuple[str, list[str | None]], kind: str, shape: str
) -> None:
    url, seen = backend
    name, route = ROUTES[kind]
    header = SHAPES[shape]
    headers = {"Authorization": header} if header is not None else {}
    before = len(seen)
    async with settings_client(_settings(url)) as client:
        resp = await client.get(f"/rest/{name}/{route}", headers=headers)
    expected = EXPECTED[kind][shape]
    forwarded = seen[before:]
    if expected == ANON:
        assert resp.status_code == 200, resp.text
        assert forwarded == [None]  # no credential lent to an anonymous caller
    elif expected == AUTH:
        assert resp.status_code == 200, resp.text
        assert len(forwarded) == 1 and forwarded[0] is not None
        assert TOKEN not in (forwarded[0] or "")  # the backend's credential, not the caller's
    else:
        assert not isinstance(expected, str)
        assert (resp.status_code, resp.content) == expected
        assert forwarded == []
        if expected[0] == 401:
            assert "www-authenticate" in resp.headers


async def test_gerrit_ignores_credentials_without_a(
    backend: tuple[str, list[str | None]],
) -> None:
    """Without ``/a/`` Gerrit serves its anonymous user whatever the header says."""
    url, seen = backend
    async with settings_client(_settings(url)) as client:
        for header in SHAPES.values():
            before = len(seen)
            headers = {"Authorization": header} if header is not None else {}
            resp = await client.get("/rest/ger/accounts/1000000", headers=headers)
            assert resp.status_code == 200, (header, resp.text)
            assert seen[before:] == [None]
