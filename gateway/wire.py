"""uvicorn's fast HTTP/1.1 protocol (httptools) with response header names kept as written.

REST compat clients match some header names case-sensitively (Patchwork's ``Link``, see
docs/compat.md), so compat responses put their headers in ``raw_headers`` spelled as the
backend spells them. uvicorn's ``h11`` protocol writes names as given, but it is pure Python
and measurably slower (bench/README.md: compat); its ``httptools`` protocol writes
``name.lower()``. ``CasedHttpToolsProtocol`` is the httptools protocol whose app sees a
``send`` that hands uvicorn every mixed-case header name as a ``CasedName``: a ``bytes``
whose ``lower()`` is itself, so it reaches the wire as spelled.

The names uvicorn acts on (``content-length``, ``transfer-encoding``, ``connection``) are
always passed lower-cased, so framing and keep-alive work exactly as before. Everything
else about the protocol is uvicorn's own, but for one bound uvicorn lacks: a request head
(request line and headers) must arrive within ``header_timeout`` seconds of the connection
opening or of the previous response (``[server] header_timeout``; ``http_protocol`` makes
the class for a value), else the connection is closed — uvicorn's keep-alive timer stops at
the first byte, so a client sending a head byte by byte could hold a connection forever.
``tests/gateway/test_wire_protocol.py``, the compat wire tests and
``tests/reliability/test_slow_clients.py`` read a real server's bytes, so a uvicorn change
that breaks this shows.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

log = logging.getLogger("revgate.access")
HEADER_TIMEOUT = 10.0  # seconds; the default of [server] header_timeout

# Header names uvicorn inspects after lower-casing them: always sent lower-case.
FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection"})


class CasedName(bytes):
    """A header name that stays as spelled when uvicorn lower-cases it."""

    __slots__ = ()

    def lower(self) -> bytes:
        return self


def cased(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with each mixed-case, non-framing name wrapped in ``CasedName``."""
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lower = name.lower()
        if lower != name and lower not in FRAMING:
            name = CasedName(name)
        elif lower != name:
            name = lower
        out.append((name, value))
    return out


def keep_header_case(app: ASGIApp) -> ASGIApp:
    """``app`` whose HTTP response headers reach httptools' writer with their spelling."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_cased(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers")
                if headers:
                    message = {**message, "headers": cased(list(headers))}
            await send(message)

        await app(scope, receive, send_cased)

    return wrapped


class CasedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing response header names as the app spelled them,
    with a deadline on each request head (see the module docstring)."""

    header_timeout: float = HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.app = keep_header_case(self.app)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's head is due now, unless a pipelined one is already parsed.
        if not self.pipeline and not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            log.info("connection closed: no complete request head within %g s", self.header_timeout)
            self.transport.close()


def http_protocol(header_timeout: float = HEADER_TIMEOUT) -> type[CasedHttpToolsProtocol]:
    """``CasedHttpToolsProtocol`` with its own request-head deadline (uvicorn instantiates
    the class it is given, so the setting travels as a class attribute)."""
    return type(
        "CasedHttpToolsProtocol", (CasedHttpToolsProtocol,), {"header_timeout": header_timeout}
    )
