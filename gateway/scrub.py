"""The last thing every response passes through: no secret leaves the gateway.

``ScrubSecrets`` is the outermost ASGI middleware. Whatever produced an answer — GraphQL
data, errors and extensions, a compat body re-served from the backend or rendered from
records (memoised or not), a refusal, ``/readyz``, ``/metrics`` — its status line is ours,
and its headers and body are scrubbed through ``adapters.secrets.SECRETS`` before a byte is
sent; so are websocket frames and close reasons. One place, so that no new route or kind can
forget it.

- Bodies are masked in place (``*`` for each character of a secret's form): the length is
  unchanged, so ``Content-Length`` stays right and a streamed body (an mbox) is scrubbed
  chunk by chunk; the last ``longest form - 1`` bytes of each chunk are held back until the
  next one, so a secret cut across two chunks is still found.
- A ``gzip``/``deflate`` body (Gerrit's compat answers) is held whole, decoded and scanned;
  only when a secret is found is it masked, re-encoded and its ``Content-Length`` fixed.
- Header values (``Location``, ``Link``, ``WWW-Authenticate``, ``Set-Cookie``…) are masked.

A clean answer costs one scan of its header values and body (``Secrets.found_bytes``: one
substring test per needle; figures in docs/security.md) plus the middleware's own; memoised
renders stay unscrubbed in their memo and are scrubbed on every way out, so a memo can
never serve a secret, nor a scrubbed copy be taken for the original.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.secrets import MIN_FORM, SECRETS, Secrets

log = logging.getLogger("revgate")

_ENCODED = (b"gzip", b"deflate", b"x-gzip")


class ScrubSecrets:
    """ASGI middleware: every response header, body and websocket frame is scrubbed."""

    def __init__(self, app: ASGIApp, secrets: Secrets = SECRETS) -> None:
        self.app = app
        self.secrets = secrets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.secrets:  # nothing configured (yet): nothing to hide
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self.app(scope, receive, _HttpScrubber(self.secrets, send).send)
        elif scope["type"] == "websocket":
            await self.app(scope, receive, _socket_send(self.secrets, send))
        else:
            await self.app(scope, receive, send)


def _headers(secrets: Secrets, headers: Any) -> Any:
    # One scan over every value (a clean answer is the common case), then mask one by one.
    if not secrets.found_bytes(b"\n".join(value for _, value in headers)):
        return headers
    return [(name, secrets.mask(value)) for name, value in headers]


class _HttpScrubber:
    """One response's ``send``: headers masked, body masked chunk by chunk (or whole).

    The start message is held until the first body message, so that a whole answer (the
    common case: one body message) is checked in one scan of its header values and body.
    """

    def __init__(self, secrets: Secrets, send: Send) -> None:
        self.secrets = secrets
        self.inner = send
        self.start: Message | None = None  # held until the first body message
        self.encoding: bytes | None = None
        self.held = b""  # the tail of the last chunk (identity) or the whole body (encoded)

    async def _flush_start(self) -> None:
        if self.start is not None:
            start, self.start = self.start, None
            raw = start.get("headers", ())
            headers = _headers(self.secrets, raw)
            await self.inner(start if headers is raw else {**start, "headers": headers})

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            for name, value in message.get("headers", ()):
                if name.lower() == b"content-encoding" and value.strip().lower() in _ENCODED:
                    self.encoding = value.strip().lower()
            self.start = message
            return
        if kind != "http.response.body":
            await self._flush_start()
            await self.inner(message)
            return
        more = bool(message.get("more_body", False))
        body = bytes(message.get("body", b""))
        if self.encoding is not None:
            self.held += body
            if not more:
                await self._send_encoded()
            return
        if self.start is not None and not more:
            # A whole answer: one scan of header values and body; clean is the common case.
            values = [v for _, v in self.start.get("headers", ())]
            if not self.secrets.found_bytes(b"\n".join([*values, body])):
                start, self.start = self.start, None
                await self.inner(start)
                await self.inner(message)
                return
        await self._flush_start()
        data = self.held + body if self.held else body  # no copy of a whole body
        masked = self.secrets.mask(data)
        if not more:
            self.held = b""
            await self.inner(message if masked is body else {**message, "body": masked})
            return
        cut = max(0, len(masked) - max(0, self.secrets.longest - 1))
        self.held = masked[cut:]
        if cut:
            await self.inner({**message, "body": masked[:cut]})

    async def _send_encoded(self) -> None:
        assert self.start is not None and self.encoding is not None
        raw = self.start.get("headers", ())
        headers = _headers(self.secrets, raw)
        start = self.start if headers is raw else {**self.start, "headers": headers}
        self.start, body = None, self.held
        try:
            plain = _decode(body, self.encoding)
        except zlib.error:
            plain = None
        if plain is None:
            body = self.secrets.mask(body)  # not decodable: at least the raw bytes are scanned
        elif self.secrets.found_bytes(plain):
            body = _encode(self.secrets.mask(plain), self.encoding)
            start = {
                **start,
                "headers": [
                    (n, str(len(body)).encode() if n.lower() == b"content-length" else v)
                    for n, v in start["headers"]
                ],
            }
        await self.inner(start)
        await self.inner({"type": "http.response.body", "body": body, "more_body": False})


def _decode(body: bytes, encoding: bytes) -> bytes:
    if not body:
        return body
    wbits = 16 + zlib.MAX_WBITS if encoding in (b"gzip", b"x-gzip") else zlib.MAX_WBITS
    return zlib.decompress(body, wbits)


def _encode(body: bytes, encoding: bytes) -> bytes:
    wbits = 16 + zlib.MAX_WBITS if encoding in (b"gzip", b"x-gzip") else zlib.MAX_WBITS
    compressor = zlib.compressobj(wbits=wbits)
    return compressor.compress(body) + compressor.flush()


def _socket_send(secrets: Secrets, send: Send) -> Send:
    async def scrubbed(message: Message) -> None:
        if secrets:
            message = dict(message)
            if isinstance(message.get("text"), str):
                message["text"] = secrets.scrub(message["text"])
            if isinstance(message.get("bytes"), bytes):
                message["bytes"] = secrets.mask(message["bytes"])
            if isinstance(message.get("reason"), str):
                message["reason"] = secrets.scrub(message["reason"])
            if "headers" in message:
                message["headers"] = _headers(secrets, message["headers"])
        await send(message)

    return scrubbed


def register_settings(settings: Any, secrets: Secrets = SECRETS) -> None:
    """Register every credential ``settings`` (a ``gateway.settings.Settings``) holds: the
    backends', the API keys' and compat tokens' own backend tokens, and the passwords of the
    cache and rate-store URLs. Warns about a secret too short to be scrubbed on its own."""
    short: list[str] = []

    def add(secret: str | None, what: str, user: str | None = None) -> None:
        if secret and not secrets.add(secret, user):
            short.append(what)

    for backend in settings.backends:
        add(backend.token, f"backend {backend.name!r} token", backend.username)
        add(backend.password, f"backend {backend.name!r} password", backend.username)
        secrets.add_url(backend.url)
    for key in settings.api_keys:
        for name, token in key.backend_tokens:
            add(token, f"API key {key.name!r} token for {name!r}")
    for compat in settings.compat.tokens:
        for name, token in compat.backend_tokens:
            add(token, f"compat token {compat.name!r} token for {name!r}")
    secrets.add_url(settings.cache.url)
    secrets.add_url(settings.limits.store)
    for what in short:
        log.warning(
            "%s is shorter than %d characters: only its encoded forms (Basic, Token…) are "
            "scrubbed from answers and logs, not the bare value",
            what,
            MIN_FORM,
        )
