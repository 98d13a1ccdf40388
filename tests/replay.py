"""A replay server: answers requests with the real Patchwork 3.2.1 recordings.

Requests are matched on method, path and query (order-insensitive; ``page=1`` and
``per_page=30`` — the server's defaults — are dropped first). Recorded hyperlinks and ``Link``
headers are rewritten from the recording host to this server, so a client following them stays
here. Unmatched requests get a 599 so that a test sees at once what it asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).parent / "fixtures" / "patchwork-3.2.1"
RECORDED_ORIGIN = "http://127.0.0.1:8800"
DEFAULTS = {("page", "1"), ("per_page", "30")}


def normalize(method: str, path: str, query: str) -> tuple[str, str, str]:
    """The key a request is matched on."""
    pairs = sorted(p for p in parse_qsl(query, keep_blank_values=True) if p not in DEFAULTS)
    return method.upper(), path, urlencode(pairs)


@dataclass
class Recording:
    """One recorded response."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class ReplayState:
    """The recordings by request key, and what was asked."""

    recordings: dict[tuple[str, str, str], Recording]
    requests: list[str] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)


def load_recordings() -> dict[tuple[str, str, str], Recording]:
    """Every recorded response with its request key (non-anonymous ones too)."""
    meta: dict[str, dict[str, Any]] = json.loads((FIXTURES / "_meta.json").read_text())
    out: dict[tuple[str, str, str], Recording] = {}
    for name, m in meta.items():
        parts = urlsplit(m["url"])
        key = normalize(m["method"], parts.path, parts.query)
        if key in out and m["auth"] != "anonymous":
            continue  # keep the anonymous variant where both exist
        headers = {
            k: v for k, v in m["headers"].items() if k in ("Link", "Content-Type", "Location")
        }
        out[key] = Recording(m["status"], headers, (FIXTURES / name).read_bytes())
    return out


STATE_KEY = web.AppKey("replay", ReplayState)


async def _handle(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    state.requests.append(f"{request.method} {request.path_qs}")
    if any(request.path.startswith(h) for h in state.hidden):
        return web.Response(status=404, text="<h1>Not Found</h1>", content_type="text/html")
    key = normalize(request.method, request.path, request.query_string)
    rec = state.recordings.get(key)
    if rec is None:  # the client chose its own page size where the recording used the default
        query = "&".join(
            p for p in request.query_string.split("&") if not p.startswith("per_page=")
        )
        rec = state.recordings.get(normalize(request.method, request.path, query))
    if rec is None:
        return web.Response(status=599, text=f"not recorded: {key}")
    origin = f"{request.scheme}://{request.host}"
    body = rec.body.replace(RECORDED_ORIGIN.encode(), origin.encode())
    headers = {k: v.replace(RECORDED_ORIGIN, origin) for k, v in rec.headers.items()}
    content_type = headers.pop("Content-Type", "application/json")
    resp = web.Response(status=rec.status, body=body, headers=headers)
    resp.content_type = content_type.split(";")[0]
    return resp


async def start_replay() -> tuple[TestServer, ReplayState]:
    """Start the replay server on 127.0.0.1 (caller closes the server)."""
    state = ReplayState(load_recordings())
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", _handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, state
