"""Pass-through: a compat route the kind does not model is forwarded to the backend.

Real clients call far more of a forge's API than any compat router models (ABF's console
client searches and lists build platforms, Gerrit clients read accounts and config). Every
kind's router answers what it models from records; for any other path inside the backend's
allow-list it asks its source for a *raw* exchange (``PassThrough.passthrough``: only the
adapter's client speaks HTTP) and re-serves the answer with ``respond``:

- the allow-list: the backend setting ``passthrough`` (path prefixes under the mount, e.g.
  ``["/api/"]``), default the kind's documented API root (``CompatKind.roots``), never
  outside it, so the gateway is not an open proxy; ``[]`` turns pass-through off. Outside it
  the kind answers its native 404 without asking the backend. Gerrit's ``/a/`` (its authenticated
  twin of every path) is matched without the ``a``;
- the caller: a read goes upstream as the caller's mapped credential (an authenticated
  caller without one: the backend's configured credential, as modelled routes), an
  anonymous caller goes upstream *anonymously* — the gateway cannot filter an answer it
  does not model, so it must not lend its own credential to it; a write (any method but
  GET/HEAD/OPTIONS) only for callers that may write, refused by the kind before the backend
  is asked. Rate limits, body caps and authentication are the mount's (``gateway/compat.py``
  and the Guard), as for modelled routes;
- the request: the raw (still percent-encoded) path and query as sent, the body, and only
  ``Accept`` and ``Content-Type`` of the client's headers (never its ``Authorization`` or
  cookies: the backend sees the caller's mapped credential instead). Conditional requests
  are answered here from the backend's ``ETag`` (the response cache keys and refreshes its
  own validators);
- the answer: status (redirects and 4xx are answers, 5xx the kind's 502), headers with
  their names as the backend wrote them minus hop-by-hop ones (RFC 9110 §7.6.1 and those
  ``Connection`` names) and those that belong to the upstream exchange (``Set-Cookie``:
  the backend session of the mapped credential; ``WWW-Authenticate``: a challenge for that
  credential; ``Content-Encoding``/``Content-Length``: aiohttp decoded the body, which may be
  rewritten; ``Date``/``Server``: the gateway's server writes its own), and the body with
  every backend-absolute URL (also JSON's ``\\/`` spelling) moved to the gateway's mount,
  as ``Location``, ``Content-Location`` and ``Link`` (absolute or path-absolute). Secrets
  are scrubbed from everything that leaves the gateway by ``gateway/scrub.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from adapters.compat import CompatCall
from adapters.http import Response as Upstream

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Redirects and client errors are the backend's answers, re-served; 5xx stay errors.
ANSWERED: tuple[int, ...] = tuple(range(300, 500))
FORWARDED_REQUEST_HEADERS = ("Accept", "Content-Type")
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_DROPPED = HOP_BY_HOP | {
    "set-cookie",
    "set-cookie2",
    "www-authenticate",
    "content-encoding",
    "content-length",
    "date",
    "server",
}
_URL_HEADERS = frozenset({"location", "content-location", "link"})
_TEXTUAL = ("json", "text/", "xml", "javascript", "x-www-form-urlencoded")


@dataclass(frozen=True, slots=True)
class Forward:
    """One request to pass through, as the adapter's client sends it."""

    method: str  # HEAD goes upstream as GET (the body is dropped here)
    target: str  # the raw path (percent-encoding kept) and query, from "/"
    headers: Mapping[str, str]
    body: bytes | None


@runtime_checkable
class PassThrough(Protocol):
    """A source that can pass one raw request to its backend."""

    async def passthrough(self, forward: Forward, *, anonymous: bool) -> Upstream:
        """The backend's answer to ``forward``: as the source's credential, or with none.

        Statuses in ``ANSWERED`` are answers; others raise ``UpstreamError`` as usual.
        """
        ...


def check_prefixes(kind: str, roots: Sequence[str], prefixes: Sequence[str]) -> str | None:
    """Why ``prefixes`` cannot be the pass-through allow-list of a backend of ``kind``, whose
    documented API roots are ``roots`` (``CompatKind.roots``), or None."""
    for prefix in prefixes:
        if not prefix.startswith("/"):
            return f"passthrough prefix {prefix[:60]!r} must start with '/'"
        parts = prefix.strip("/").split("/")
        if any(p in ("", ".", "..") or p != unquote(p) for p in parts if prefix != "/"):
            return f"passthrough prefix {prefix[:60]!r}: empty, dot or encoded segment"
        if not any(prefix.startswith(root) for root in roots):
            where = ", ".join(roots)
            return f"passthrough prefix {prefix[:60]!r} is outside the {kind} API ({where})"
    return None


def allowed(
    path: str, prefixes: Sequence[str] | None, *, roots: Sequence[str], auth_prefix: str = ""
) -> bool:
    """Whether ``path`` (decoded, under the mount, no leading '/') may be passed through.

    ``roots`` are the kind's documented API roots as path prefixes under the mount: the
    default allow-list (``prefixes`` None) and the bound of a configured one. ``auth_prefix``
    is what the kind's clients put before any path to ask for it authenticated (Gerrit's
    ``/a``), matched without it."""
    key = "/" + path
    if auth_prefix and key.startswith(auth_prefix + "/"):
        key = key[len(auth_prefix) :]
    chosen = roots if prefixes is None else prefixes
    # A configured prefix is bounded by the roots again (check-config refuses others).
    return any(key.startswith(p) for p in chosen) and any(key.startswith(r) for r in roots)


def raw_target(call: CompatCall, strip: str = "") -> str:
    """The request's path under the mount as the client encoded it, plus its raw query.

    The gateway's ``path`` is decoded (``a%2Fb`` and ``a/b`` look alike), so the raw path
    is re-served: the part after ``/rest/<backend>/``. ``strip`` removes a leading prefix
    (Gerrit's ``/a``, which its client adds itself when it has a credential).
    """
    raw = call.request.scope.get("raw_path")
    text = raw.decode("latin-1") if isinstance(raw, bytes) else call.request.url.path
    text = text.split("?", 1)[0]
    pieces = text.split("/", 3)  # "", "rest", "<backend>", the rest
    rest = "/" + (pieces[3] if len(pieces) == 4 else "")
    if unquote(rest) != "/" + call.path:  # a mount not at /rest/<backend>/: use the decoded
        rest = "/" + call.path
    if strip and (rest == strip or rest.startswith(strip + "/")):
        rest = rest[len(strip) :] or "/"
    query = call.request.url.query
    return f"{rest}?{query}" if query else rest


async def forward_of(call: CompatCall, strip: str = "") -> Forward:
    """The ``Forward`` for this compat request."""
    request = call.request
    headers = {
        name: value
        for name in FORWARDED_REQUEST_HEADERS
        if (value := request.headers.get(name)) is not None
    }
    method = request.method.upper()
    body = None if method in ("GET", "HEAD") else await request.body()
    if method in ("GET", "HEAD"):
        headers.pop("Content-Type", None)
    return Forward("GET" if method == "HEAD" else method, raw_target(call, strip), headers, body)


class Rewriter:
    """Moves the backend's URLs onto the gateway's mount (bodies and URL headers)."""

    def __init__(self, backend_url: str, base: str) -> None:
        upstream = backend_url.rstrip("/")
        self.base = base.rstrip("/")
        parts = urlsplit(upstream)
        forms = {upstream}
        default = {"http": ":80", "https": ":443"}.get(parts.scheme, "")
        host = parts.netloc.rsplit("@", 1)[-1]
        if default and host.endswith(default):  # the same origin with its port left out
            forms.add(f"{parts.scheme}://{host[: -len(default)]}{parts.path}")
        elif default and not host.endswith("]") and ":" not in host:
            forms.add(f"{parts.scheme}://{host}{default}{parts.path}")
        # A form ends where a URL's authority or path could not go on (":800" is another
        # port, "/gerrit2" another path); JSON may spell "/" as "\/".
        alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
        end = r"(?=[/?#\"'\s<>),;]|\\/|$)"
        self._text = re.compile(f"(?:{alternatives}){end}")
        escaped = "|".join(
            re.escape(f.replace("/", "\\/")) for f in sorted(forms, key=len, reverse=True)
        )
        self._bytes = re.compile(f"(?:{alternatives}){end}".encode())
        self._escaped = re.compile(f"(?:{escaped}){end}".encode())
        self._base_escaped = self.base.replace("/", "\\/").encode()
        self.upstream_path = parts.path.rstrip("/")
        self.mount_path = urlsplit(self.base).path.rstrip("/")

    def body(self, body: bytes) -> bytes:
        """``body`` with every backend-absolute URL on the mount."""
        base = self.base.encode()
        body = self._bytes.sub(lambda _: base, body)
        return self._escaped.sub(lambda _: self._base_escaped, body)

    def header(self, value: str) -> str:
        """A ``Location``/``Content-Location``/``Link`` value on the mount."""
        value = self._text.sub(lambda _: self.base, value)
        # Path-absolute references ("/api/…", "</api/…>" in Link) are on the backend too.
        up, mount = self.upstream_path + "/", self.mount_path + "/"
        if value.startswith(up) and not value.startswith("//"):
            return mount + value[len(up) :]
        return re.sub(r"<" + re.escape(up) + r"(?!/)", lambda _: "<" + mount, value)


def is_write(request: Request) -> bool:
    """Whether the request may change something (only callers who may write pass it on)."""
    return request.method.upper() not in SAFE_METHODS


async def forward(
    call: CompatCall,
    source: PassThrough,
    backend_url: str,
    *,
    strip: str = "",
    rewrite_body: Callable[[bytes, str], bytes] | None = None,
) -> Response:
    """Pass ``call`` through ``source`` and re-serve the answer (the kind has checked the
    allow-list and the caller's right to write). Anonymous callers go upstream anonymously."""
    upstream = await source.passthrough(
        await forward_of(call, strip), anonymous=not call.caller.authenticated
    )
    return respond(call, upstream, backend_url, rewrite_body)


def _textual(content_type: str) -> bool:
    lowered = content_type.lower()
    return any(mark in lowered for mark in _TEXTUAL)


def _etag_matches(wanted: str, etag: str) -> bool:
    """``If-None-Match`` against an ETag, weakly (RFC 9110 §13.1.2)."""
    tags = [t.strip() for t in wanted.split(",")]
    return "*" in tags or etag.removeprefix("W/") in (t.removeprefix("W/") for t in tags)


def respond(
    call: CompatCall,
    upstream: Upstream,
    backend_url: str,
    rewrite_body: Callable[[bytes, str], bytes] | None = None,
) -> Response:
    """The backend's answer re-served under the mount (see the module docstring)."""
    request = call.request
    rewriter = Rewriter(backend_url, call.base)
    pairs: list[tuple[str, str]] = list(upstream.headers.items())
    connection = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    headers: list[tuple[str, str]] = []
    content_type = ""
    etag = None
    for name, value in pairs:
        lowered = name.lower()
        if lowered in _DROPPED or lowered in connection:
            continue
        if lowered in _URL_HEADERS:
            value = rewriter.header(value)
        elif lowered == "content-type":
            content_type = value
        elif lowered == "etag":
            etag = value
        headers.append((name, value))
    body = upstream.body
    if body and _textual(content_type):
        body = rewriter.body(body)
        if rewrite_body is not None:
            body = rewrite_body(body, content_type)
    status = upstream.status
    wanted = request.headers.get("if-none-match")
    if status == 200 and etag is not None and wanted and _etag_matches(wanted, etag):
        keep = {"etag", "cache-control", "vary", "expires", "content-location", "last-modified"}
        headers = [(n, v) for n, v in headers if n.lower() in keep]
        status, body = 304, b""
    if request.method == "HEAD":
        body = b""
    response = Response(body, status)
    response.raw_headers.extend(
        (n.encode("latin-1"), v.encode("latin-1", "replace")) for n, v in headers
    )
    return response
