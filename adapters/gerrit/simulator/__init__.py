"""A reference simulator of the documented Gerrit REST API (changes, revisions, reviewers,
projects, capabilities) and of what real clients call besides (server version and info,
accounts, groups, branches: ``meta.py``) over in-memory data, served by aiohttp.web, and
git's smart HTTP read-only for every project (``git.py``: ``git fetch``, ``git review -d``).
Modules by role: ``routes`` (paths), ``api`` (request context, reads), ``writes``, ``meta``,
``render`` (JSON entities, queries), ``data`` (the seed), ``git`` (smart HTTP).

Speaks like a real server: ``)]}'`` before every JSON body with ``application/json;
charset=UTF-8``, gzip when asked, text/plain error bodies (``409 change is merged``), the
``/a/`` prefix for authenticated calls with HTTP basic or digest (``auth="digest"``, the
Gerrit 2.x default) and anonymous access without it. ``legacy=True`` makes it a Gerrit 2.8:
``kind`` and ``_sortkey`` in the output, ``N``/``P`` paging, and ``S`` rejected.

``python -m adapters.gerrit.simulator --port 8810`` serves the seed (accounts ``admin`` /
``secret``, ``jdoe`` / ``jdoe-secret``, ``ci-bot`` / ``ci-secret``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from adapters import simulator_common
from adapters.gerrit import smart_http
from adapters.gerrit.simulator import git
from adapters.gerrit.simulator.api import ApiError, json_body
from adapters.gerrit.simulator.data import GerritData
from adapters.gerrit.simulator.routes import handle

__all__ = [
    "SIM_STATE",
    "GerritData",
    "RunningSimulator",
    "SimulatorState",
    "json_body",
    "start_simulator",
]

REALM = "Gerrit Code Review"


@dataclass
class SimulatorState:
    """Data, mode and the request log of a running simulator."""

    data: GerritData
    auth: str = "basic"  # or "digest"
    legacy: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    mirror: git.GitMirror | None = None  # the projects' repositories (``git.py``)


SIM_STATE = web.AppKey("SIM_STATE", SimulatorState)


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=text, content_type="text/plain", charset="UTF-8", headers=headers
    )


def _challenge(state: SimulatorState) -> web.Response:
    nonce = os.urandom(12).hex()
    state.nonces.add(nonce)
    header = f'Digest realm="{REALM}", domain="/", qop="auth", nonce="{nonce}", algorithm=MD5'
    return _text(401, "Unauthorized", {"WWW-Authenticate": header})


def _parse_auth_params(value: str) -> dict[str, str]:
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in re.finditer(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', value)
    }


def _account_for(state: SimulatorState, username: str) -> dict[str, Any] | None:
    return next((a for a in state.data.accounts.values() if a.get("username") == username), None)


def authenticate(request: web.Request, state: SimulatorState) -> int | web.Response:
    """The caller's account id for an ``/a/`` request, or the 401 to answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, rest = header.partition(" ")
    if state.auth == "digest":
        if scheme.lower() != "digest":
            return _challenge(state)
        p = _parse_auth_params(rest)
        acct = _account_for(state, p.get("username", ""))
        if acct is None or "http_password" not in acct or p.get("nonce") not in state.nonces:
            return _challenge(state)
        ha1 = hashlib.md5(f"{acct['username']}:{REALM}:{acct['http_password']}".encode())
        ha2 = hashlib.md5(f"{request.method}:{p.get('uri', '')}".encode()).hexdigest()
        if p.get("uri") != request.raw_path:
            return _challenge(state)
        expected = hashlib.md5(
            f"{ha1.hexdigest()}:{p['nonce']}:{p.get('nc')}:{p.get('cnonce')}:{p.get('qop')}:{ha2}".encode()
        ).hexdigest()
        if p.get("response") != expected:
            return _challenge(state)
        return int(acct["_account_id"])
    if scheme.lower() != "basic":
        return _text(401, "Unauthorized", {"WWW-Authenticate": f'Basic realm="{REALM}"'})
    try:
        username, _, password = base64.b64decode(rest).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return _text(401, "Unauthorized")
    acct = _account_for(state, username)
    if acct is None or acct.get("http_password") != password:
        return _text(401, "Unauthorized", {"WWW-Authenticate": f'Basic realm="{REALM}"'})
    return int(acct["_account_id"])


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[SIM_STATE]
    state.requests.append((request.method, request.path_qs))
    raw = request.raw_path.split("?", 1)[0]
    caller: int | None = None
    if raw == "/a" or raw.startswith("/a/"):
        who = authenticate(request, state)
        if isinstance(who, web.Response):
            return who
        caller = who
        raw = raw[2:] or "/"
    base = f"{request.scheme}://{request.host}"
    try:
        segments = [unquote(p) for p in raw.strip("/").split("/")]
        smart = smart_http.classify(segments, request.method, request.query.get("service"))
        if smart is not None and state.mirror is not None:
            return await git.serve(request, state.mirror, smart)
        resp = await handle(request, state.data, raw, caller, state.legacy, base)
    except ApiError as exc:
        return _text(exc.status, exc.text)
    compressible = isinstance(resp, web.Response) and resp.body and resp.status != 204
    if compressible and "gzip" in request.headers.get("Accept-Encoding", ""):
        resp.enable_compression(web.ContentCoding.gzip)
    return resp


def create_app(
    data: GerritData | None = None, *, auth: str = "basic", legacy: bool = False
) -> web.Application:
    """The simulator as an aiohttp application; ``app[SIM_STATE]`` holds its state."""
    app = web.Application()
    state = SimulatorState(
        data if data is not None else GerritData.from_seed(), auth=auth, legacy=legacy
    )
    state.mirror = git.GitMirror(state.data)
    app[SIM_STATE] = state
    app.on_cleanup.append(state.mirror.close)
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


# A running simulator of this kind (see adapters/simulator_common.py).
RunningSimulator = simulator_common.RunningSimulator[SimulatorState]


async def start_simulator(
    data: GerritData | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    auth: str = "basic",
    legacy: bool = False,
    latency_ms: float = 0.0,
) -> RunningSimulator:
    """Start on ``host:port`` (0: any free port); the URL has no trailing slash.
    ``latency_ms``: every request (Gerrit's REST API is the whole server) is answered that
    late."""
    app = create_app(data, auth=auth, legacy=legacy)
    simulator_common.add_latency(app, latency_ms)
    return await simulator_common.serve(app, SIM_STATE, host, port)


def main(argv: Iterable[str] | None = None) -> None:
    """``python -m adapters.gerrit.simulator [--port P] [--generated N] [--digest] [--legacy]
    [--latency-ms N] [--demo]``."""
    parser = simulator_common.command_line("Gerrit REST API simulator", 8810)
    parser.add_argument("--generated", type=int, default=0, help="add N generated changes")
    parser.add_argument("--digest", action="store_true", help="digest instead of basic auth")
    parser.add_argument("--legacy", action="store_true", help="behave like Gerrit 2.8")
    args = parser.parse_args(list(argv) if argv is not None else None)
    data = GerritData.generated(args.generated) if args.generated else GerritData.from_seed()
    if args.demo:
        from adapters.gerrit.simulator.demo import DEMO_CHANGES, demo_data

        data = demo_data(generated=args.generated or DEMO_CHANGES)
    app = create_app(data, auth="digest" if args.digest else "basic", legacy=args.legacy)
    simulator_common.run(app, args)
