"""An upstream that hands back whatever credential it was sent: the echo fault, for any kind.

``start_echo_proxy(target)`` listens on ``127.0.0.1:0`` in front of a backend (a simulator
of any kind) and echoes each request's ``Authorization`` header, URL and query back — in the
body and in the headers an upstream could plausibly set (``WWW-Authenticate``, ``Location``,
``Set-Cookie``, ``Link``, ``X-Echo``):

- ``mode = "pass"``: the backend's answer, untouched (so that version probes succeed);
- ``mode = "200"``: the backend's answer (forwarded with the caller's credential) with the
  echo appended to every free-text JSON field (``name``, ``subject``, ``message``…), to the
  end of a text body (an mbox), and in the headers: data the gateway maps and re-serves;
- ``mode = "<status>"`` (``"403"``, ``"500"``…): that status without asking the backend, with a
  JSON body whose ``detail``/``message`` echo the credential and the URL.

It records each ``Authorization`` it saw (``authorizations``) and counts requests by path.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import aiohttp
import orjson
from aiohttp import web

GERRIT_PREFIX = b")]}'\n"
FREE_TEXT = frozenset(
    {"name", "title", "subject", "message", "description", "content", "commit_message", "body"}
)
_HOP = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}
)
ERROR_MODES = ("400", "401", "403", "404", "422", "500", "503")
MODES = ("200", *ERROR_MODES)


def echo_of(request: web.Request) -> str:
    """What the upstream echoes: the credential it was sent and where it lives."""
    auth = request.headers.get("Authorization", "")
    return f"[auth {auth} at {request.url} query {request.query_string}]"


def echo_headers(request: web.Request) -> dict[str, str]:
    """The echo in every header an upstream could set."""
    auth = request.headers.get("Authorization", "")
    url = str(request.url.with_query(None))
    return {
        "WWW-Authenticate": f'Basic realm="{auth}"',
        "Location": f"{url}?t={quote_plus(auth)}",
        "Set-Cookie": f"session={quote(auth, safe='')}; Path=/",
        "Link": f'<{url}?t={quote(auth, safe="")}>; rel="alternate"',
        "X-Echo": auth,
        # headers the compat layer forwards from some answers (downloads)
        "Content-Disposition": f'attachment; filename="{auth}.mbox"',
        "X-FYI-Content-Type": f"text/plain; echo={auth}",
    }


def _inject(value: Any, echo: str) -> Any:
    if isinstance(value, dict):
        return {
            k: (f"{v} {echo}" if k in FREE_TEXT and isinstance(v, str) else _inject(v, echo))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_inject(v, echo) for v in value]
    return value


def inject_body(body: bytes, echo: str) -> bytes:
    """``body`` with ``echo`` in every free-text JSON field (or appended to text)."""
    prefix = b""
    if body.startswith(GERRIT_PREFIX):
        prefix, body = GERRIT_PREFIX, body[len(GERRIT_PREFIX) :]
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        if b"\0" in body:
            return prefix + body  # binary: left alone
        return prefix + body + b"\n" + echo.encode() + b"\n"
    return prefix + orjson.dumps(_inject(parsed, echo))


@dataclass
class EchoProxy:
    """A running echo proxy: set ``mode`` to change how it answers."""

    target: str
    mode: str = "pass"
    url: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    authorizations: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Stop listening and close the forwarding session."""
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("authorization", "content-type", "accept", "if-none-match")
        }
        async with self._session.request(
            request.method,
            self.target + request.rel_url.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as resp:
            body = await resp.read()
            kept = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP}
            return resp.status, kept, body

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        auth = request.headers.get("Authorization")
        if auth:
            self.authorizations.append(auth)
        mode = self.mode
        if mode == "pass":
            status, headers, body = await self._forward(request)
            return web.Response(status=status, headers=headers, body=body)
        echo = echo_of(request)
        if mode == "200":
            status, headers, body = await self._forward(request)
            if status < 300:
                body = inject_body(body, echo)
            headers.update(echo_headers(request))
            return web.Response(status=status, headers=headers, body=body)
        body = orjson.dumps({"detail": f"Invalid credentials: {echo}", "message": echo})
        headers = {"Content-Type": "application/json", **echo_headers(request)}
        return web.Response(status=int(mode), headers=headers, body=body)


async def start_echo_proxy(target: str) -> EchoProxy:
    """An echo proxy on ``127.0.0.1`` (any free port) in front of ``target``."""
    proxy = EchoProxy(target.rstrip("/"))
    proxy._session = aiohttp.ClientSession(auto_decompress=True)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy._handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = getattr(site._server, "sockets", None)
    assert sockets, "echo proxy did not bind"
    proxy.url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    proxy._runner = runner
    return proxy
