"""The values of the upstream HTTP client (``adapters/http.py``): ``Credentials``,
``HttpConfig``, the fully read ``Response`` and its ``Link`` header parser."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from adapters.errors import BadPayload

Params = Mapping[str, str | int | Sequence[str | int]]
RequestHook = Callable[[str, str, int | None, float], None]


@dataclass(frozen=True)
class Credentials:
    """How to authenticate to one backend. ``repr`` only says which secrets are set."""

    token: str | None = None
    username: str | None = None
    password: str | None = None
    token_scheme: str = "Token"

    def __repr__(self) -> str:
        token = "<set>" if self.token else None
        password = "<set>" if self.password else None
        return (
            f"Credentials(token={token}, username={self.username!r}, "
            f"password={password}, token_scheme={self.token_scheme!r})"
        )

    def secrets(self) -> list[str]:
        """The secret strings that must never appear in a message."""
        return [s for s in (self.token, self.password) if s]


@dataclass(frozen=True)
class HttpConfig:
    """One backend's connection settings."""

    backend: str
    base_url: str
    credentials: Credentials = field(default_factory=Credentials)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.2
    max_backoff: float = 5.0
    max_body_bytes: int = 50 * 1024 * 1024
    user_agent: str = "revgate/0.1"
    total_timeout: float | None = None  # per attempt; None: connect_timeout + 2 * read_timeout

    @property
    def attempt_deadline(self) -> float:
        """Seconds one attempt may take from connecting to the last byte of the answer."""
        if self.total_timeout is not None:
            return self.total_timeout
        return self.connect_timeout + 2 * self.read_timeout

    cache_ttl: float = 0.0  # seconds a GET answer stays fresh; 0 = no response cache
    content_memo: bool = True  # uncached answers get content stamps (adapters.stamps)
    coalesce_reads: bool = True  # identical uncached GETs in flight share one exchange

    def __repr__(self) -> str:
        return (
            f"HttpConfig(backend={self.backend!r}, base_url={_safe_url(self.base_url)!r}, "
            f"credentials={self.credentials!r}, connect_timeout={self.connect_timeout}, "
            f"read_timeout={self.read_timeout}, retries={self.retries}, "
            f"backoff={self.backoff}, max_backoff={self.max_backoff}, "
            f"max_body_bytes={self.max_body_bytes}, user_agent={self.user_agent!r}, "
            f"total_timeout={self.total_timeout}, cache_ttl={self.cache_ttl}, "
            f"content_memo={self.content_memo}, coalesce_reads={self.coalesce_reads})"
        )


@dataclass(frozen=True)
class Response:
    """A fully read upstream answer."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes
    backend: str = ""
    # Names this answer's content (``adapters.stamps``): the response-cache entry it is, or,
    # uncached, its content stamp (200 GETs with ``content_memo``); None otherwise.
    cache_stamp: str | None = None

    def json(self) -> Any:
        """The body decoded as JSON; ``BadPayload`` when it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise BadPayload(
                self.backend,
                f"invalid JSON from upstream (HTTP {self.status})",
                status=self.status,
            ) from None

    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def links(self) -> Mapping[str, str]:
        """The RFC 5988 ``Link`` header as ``{rel: absolute URL}`` (read-only); empty without
        one."""
        if isinstance(self.headers, CIMultiDictProxy | CIMultiDict):
            values: list[str] = list(self.headers.getall("Link", []))
        else:
            value = self.headers.get("Link")
            values = [value] if value else []
        return _parsed_links(", ".join(values), self.url) if values else _NO_LINKS


_NO_LINKS: Mapping[str, str] = MappingProxyType({})


@lru_cache(maxsize=512)
def _parsed_links(value: str, base: str) -> Mapping[str, str]:
    # a list's pages answer the same Link header on every read (a pure function of text)
    return MappingProxyType(parse_link_header(value, base))


_LINK = re.compile(r'<([^>]*)>\s*((?:;(?:[^;,"]|"[^"]*")*)*)')
_LINK_PARAM = re.compile(r';\s*([^\s=;,]+)\s*=\s*(?:"([^"]*)"|([^\s;,]*))')


def parse_link_header(value: str, base: str = "") -> dict[str, str]:
    """Parse a ``Link`` header value; relative targets are resolved against ``base``."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(value):
        target = match.group(1).strip()
        if base:
            target = str(URL(base).join(URL(target)))
        for param in _LINK_PARAM.finditer(match.group(2)):
            if param.group(1).lower() != "rel":
                continue
            rels = param.group(2) if param.group(2) is not None else param.group(3)
            for rel in rels.split():
                links.setdefault(rel.lower(), target)
    return links


def _safe_url(url: str) -> str:
    try:
        return str(URL(url).with_user(None))
    except (ValueError, TypeError):
        return "<invalid URL>"


def _with_params(url: URL, params: Params | None) -> URL:
    if not params:
        return url
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if type(value) is str:  # most values: no sequence test, no bool test
            pairs.append((key, value))
            continue
        if type(value) is int:
            pairs.append((key, str(value)))
            continue
        values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        pairs.extend((key, _param(v)) for v in values)
    return url.extend_query(pairs)


def _param(value: str | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _basic(username: str, password: str) -> str:
    """An HTTP basic ``Authorization`` value (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
