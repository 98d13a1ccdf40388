"""How an upstream exchange failed, for the HTTP client (``adapters/http.py``): the status →
``UpstreamError`` mapping, the backend's short error text, ``Retry-After``, and safe
descriptions of transport errors (how, never where) plus the spellings of where."""

from __future__ import annotations

import email.utils
import errno
import re
import socket
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from yarl import URL

from adapters.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Timeout,
    Unavailable,
    UpstreamError,
)
from adapters.http_model import HttpConfig, Response

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
DETAIL_LIMIT = 200


class _Failure(Exception):
    """One failed attempt: the error to raise if it is the last, and whether to try again."""

    def __init__(
        self, error: UpstreamError, *, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after


def _classify(status: int) -> tuple[type[UpstreamError], str]:
    if status in (401, 403):
        return Forbidden, "access denied" if status == 403 else "authentication failed"
    if status == 404:
        return NotFound, "not found"
    if status == 409:
        return Conflict, "conflict"
    if status == 408:
        return Timeout, "backend timed out"
    if status == 429:
        return Unavailable, "rate limited"
    if status >= 500:
        return Unavailable, "backend error"
    if status == 405:
        return BadRequest, "method not allowed"
    return BadRequest, "request rejected"


def _detail(resp: Response) -> str:
    """The backend's own short error text from an error body, or ``""``."""
    body = resp.body.strip()
    if not body:
        return ""
    ctype = resp.headers.get("Content-Type", "").lower()
    text = ""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        if "html" in ctype or body.startswith(b"<"):
            return ""
        text = body.decode("utf-8", "replace")
    else:
        text = _json_detail(parsed)
    text = " ".join(text.split())
    if len(text) > DETAIL_LIMIT:
        text = text[: DETAIL_LIMIT - 1].rstrip() + "…"
    return text


def _json_detail(parsed: Any) -> str:
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, list):
        return "; ".join(_json_detail(item) for item in parsed if _json_detail(item))
    if isinstance(parsed, dict):
        for key in ("detail", "message", "error", "error_description"):
            value = parsed.get(key)
            if isinstance(value, str):
                return value
        parts = []
        for key, value in parsed.items():
            text = _json_detail(value)
            if text:
                parts.append(f"{key}: {text}")
        return "; ".join(parts)
    return ""


def _parse_retry_after(value: str | None, cap: float) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds or HTTP-date), within ``[0, cap]``."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, cap))


def _describe(exc: BaseException) -> str:
    """How a transport failed (refused, reset, DNS…), never where: safe for a client.

    An ``OSError``'s text names the address (``Connect call failed ('127.0.0.1', 9)``), so
    the description comes from the error's type and errno only.
    """
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "TLS handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "name resolution failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        exc = exc.os_error
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server disconnected"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError | aiohttp.ClientConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return "name resolution failed"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"network error ({errno.errorcode.get(exc.errno, exc.errno)})"
    return "connection failed"


def _where(exc: BaseException) -> str:
    """Where a transport error happened (``host:port``), for the log only."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"{exc.host}:{exc.port}"
    return str(exc) or type(exc).__name__


def _located(base: URL) -> re.Pattern[str]:
    """Spellings of ``base``'s location in an upstream's error text: a URL on its host (path
    and query included), ``host:port`` and Python's ``('host', port)``."""
    host = re.escape(base.raw_host or "")
    port = base.explicit_port
    port_part = rf":{port}(?!\d)" if port is not None else r"(?::\d+)?"
    spellings = [
        rf"[a-z][a-z0-9+.-]*://(?:[^@\s/]*@)?{host}{port_part}[^\s\"'<>]*",
        rf"{host}{port_part}",
    ]
    if port is not None:
        spellings.append(rf"\('{host}', {port}\)")
    return re.compile("|".join(spellings), re.IGNORECASE)


def timeout_error(
    config: HttpConfig, method: str, exc: BaseException, *, whole: bool = False
) -> Timeout:
    """The ``Timeout`` of an attempt: which limit ran out, and for a write that it may have
    been applied anyway."""
    connecting = not whole and isinstance(exc, aiohttp.ConnectionTimeoutError)
    if whole:
        what, limit = "waiting for the whole answer", config.attempt_deadline
    elif connecting:
        what, limit = "connecting", config.connect_timeout
    else:
        what, limit = "waiting for the answer", config.read_timeout
    message = f"timed out {what} ({limit:g}s)"
    if method != "GET" and not connecting:
        message += "; the change may or may not have been applied"
    return Timeout(config.backend, message)
