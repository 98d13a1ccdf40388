"""HTTP access to one Gerrit server's REST API. Speaks HTTP (through ``HttpClient``); knows no
records.

- **Bodies**: every JSON answer starts with the ``)]}'`` line, stripped here over
  ``Response.body`` (and tolerated when absent) before decoding; see ``lenient.py``.
- **Auth**: anonymous requests use the documented paths; with credentials every path gets the
  ``/a/`` prefix and HTTP basic auth. Gerrit 2.x servers default to digest auth: when an
  authenticated request is answered ``401`` with a ``WWW-Authenticate: Digest`` challenge the
  client switches to RFC 7616 digest (MD5 or SHA-256, ``qop=auth``) for the rest of its life,
  and retries that request once (a 401 means the server did nothing, so even a write may be
  sent again). A first write probes ``/a/accounts/self/capabilities`` to learn the scheme.
- **Errors**: ``HttpClient`` maps 404/409/401… to ``NotFound``/``Conflict``/``Forbidden`` with
  Gerrit's own short text body (``change is merged``, ``blocked by Verified``) in the message.
- **Paging**: ``query`` sends ``q`` (repeatable: the answer is then a list of lists), ``n``,
  ``o`` and either ``S`` (start offset, Gerrit ≥ 2.9) or ``N``/``P`` (the ``_sortkey`` to
  resume after/before, Gerrit ≤ 2.8).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

from yarl import URL

from adapters.errors import BadPayload, Forbidden
from adapters.gerrit import lenient
from adapters.http import HttpClient, Params, Response
from adapters.http import _with_params as with_params  # the exact query HttpClient sends
from adapters.passthrough import Forward
from adapters.paths import seg
from adapters.stamps import StampMemo, derived

__all__ = ["GerritClient", "change_path", "file_path", "revision_path"]

T = TypeVar("T")
MAPPED_ENTRIES = 32  # query answers' records kept by stamp, per client …
MAPPED_BYTES = 16 * 1024 * 1024  # … and at most this many bytes of their answers


def change_path(change: str) -> str:
    """``/changes/<id>`` for any change id form (number, Change-Id, project~branch~Change-Id).

    The triplet's project and branch are URL-encoded (``packages%2Ftest~master~I…``); an id
    given already encoded, as Gerrit's own ``id`` field is, is not encoded twice.
    """
    if not change.strip():
        raise ValueError("empty change id")
    return "/changes/" + seg(unquote(change))  # '~' stays as it is (unreserved)


def revision_path(change: str, revision: str) -> str:
    """``/changes/<id>/revisions/<rev>``; ``rev`` is current, a (short) sha or a number."""
    if not re.fullmatch(r"current|[0-9a-fA-F]{4,40}|\d+", revision):
        raise ValueError(
            f"invalid revision id {revision[:60]!r}: use current, a commit sha (at least 4 "
            "hex digits) or a patch set number"
        )
    return f"{change_path(change)}/revisions/{revision}"


def file_path(change: str, revision: str, path: str) -> str:
    """``…/files/<path>`` with the path URL-encoded as one segment."""
    if not path:
        raise ValueError("empty file path")
    return f"{revision_path(change, revision)}/files/{seg(path)}"


@dataclass
class _Digest:
    realm: str
    nonce: str
    qop: str | None
    opaque: str | None
    algorithm: str
    count: int = 0


_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_digest_challenge(value: str) -> _Digest | None:
    """A ``WWW-Authenticate: Digest …`` challenge, or ``None`` for any other scheme."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _CHALLENGE_PARAM.finditer(rest)
    }
    if "nonce" not in params:
        return None
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    return _Digest(
        realm=params.get("realm", ""),
        nonce=params["nonce"],
        qop="auth" if "auth" in qops else None,
        opaque=params.get("opaque"),
        algorithm=params.get("algorithm", "MD5").upper(),
    )


def _hash(algorithm: str, text: str) -> str:
    name = "sha256" if algorithm.startswith("SHA-256") else "md5"
    return hashlib.new(name, text.encode()).hexdigest()


def digest_authorization(
    state: _Digest, username: str, password: str, method: str, uri: str, cnonce: str | None = None
) -> str:
    """The ``Authorization: Digest …`` value for one request (RFC 7616)."""
    state.count += 1
    nc = f"{state.count:08x}"
    cnonce = cnonce or os.urandom(8).hex()
    ha1 = _hash(state.algorithm, f"{username}:{state.realm}:{password}")
    if state.algorithm.endswith("-SESS"):
        ha1 = _hash(state.algorithm, f"{ha1}:{state.nonce}:{cnonce}")
    ha2 = _hash(state.algorithm, f"{method}:{uri}")
    if state.qop:
        response = _hash(state.algorithm, f"{ha1}:{state.nonce}:{nc}:{cnonce}:{state.qop}:{ha2}")
    else:
        response = _hash(state.algorithm, f"{ha1}:{state.nonce}:{ha2}")
    parts = [
        f'username="{username}"',
        f'realm="{state.realm}"',
        f'nonce="{state.nonce}"',
        f'uri="{uri}"',
        f"algorithm={state.algorithm}",
        f'response="{response}"',
    ]
    if state.qop:
        parts += [f"qop={state.qop}", f"nc={nc}", f'cnonce="{cnonce}"']
    if state.opaque is not None:
        parts.append(f'opaque="{state.opaque}"')
    return "Digest " + ", ".join(parts)


class GerritClient:
    """The REST API of one Gerrit server."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        creds = http.config.credentials
        self._username = creds.username
        self._password = creds.password
        self.authenticated = bool(creds.username and creds.password is not None) or bool(
            creds.token
        )
        self._digest: _Digest | None = None
        self._probed = False
        self._probe_lock = asyncio.Lock()
        self._capabilities: Any = None
        # Query answers' records by (stamp, route), each with its answer's size.
        self._mapped: StampMemo[tuple[tuple[Any, ...], int]] = StampMemo(
            lambda kept: kept[1], entries=MAPPED_ENTRIES, budget=MAPPED_BYTES
        )

    @property
    def backend(self) -> str:
        """The backend instance name, for errors."""
        return self.http.config.backend

    @property
    def auth_scheme(self) -> str:
        """``anonymous``, ``basic`` or ``digest`` (as learnt from the server)."""
        if not self.authenticated:
            return "anonymous"
        return "digest" if self._digest is not None else "basic"

    def path(self, rest: str) -> str:
        """A documented path (``/changes/…``) with the ``/a/`` prefix when authenticated."""
        return f"/a{rest}" if self.authenticated else rest

    def decode(self, resp: Response) -> Any:
        """The JSON of a Gerrit answer, ``)]}'`` stripped; ``BadPayload`` when it is not JSON."""
        try:
            return lenient.loads(resp.body)
        except ValueError:
            raise BadPayload(
                self.backend, f"invalid JSON from Gerrit (HTTP {resp.status})", status=resp.status
            ) from None

    # -- requests ---------------------------------------------------------------------------

    def _auth_header(self, method: str, url: str) -> dict[str, str]:
        if self._digest is None or self._username is None:
            return {}
        uri = URL(url).raw_path_qs
        return {
            "Authorization": digest_authorization(
                self._digest, self._username, self._password or "", method, uri
            )
        }

    def _challenge(self, resp: Response) -> bool:
        """Adopt a digest challenge from a 401; whether there was one."""
        values = resp.headers.get("WWW-Authenticate", "")
        state = parse_digest_challenge(values) if values else None
        if state is None:
            return False
        self._digest = state
        return True

    def _denied(self, resp: Response) -> Forbidden:
        text = self.http.scrub(" ".join(resp.text().split())[:200])
        detail = f": {text}" if text and not text.startswith("<") else ""
        return Forbidden(self.backend, f"authentication failed (HTTP 401){detail}", status=401)

    async def get(
        self, rest: str, params: Params | None = None, *, allow_status: Collection[int] = ()
    ) -> Response:
        """GET a documented path (retried by ``HttpClient``); a status in ``allow_status`` is
        an answer, not an error (the REST compat layer re-serves Gerrit's own refusals)."""
        path = self.path(rest)
        if not self.authenticated:
            return await self.http.get(path, params, allow_status=allow_status)
        url = self.http.resolve(path)
        for attempt in range(2):
            full = _with_query(url, params)
            resp = await self.http.get(
                path,
                params,
                self._auth_header("GET", full),
                allow_status=(401, *allow_status),
            )
            if resp.status != 401:
                self._probed = True
                return resp
            if attempt == 0 and self._challenge(resp):
                continue
            break
        raise self._denied(resp)

    async def get_json(self, rest: str, params: Params | None = None) -> Any:
        """GET and decode."""
        return self.decode(await self.get(rest, params))

    async def _probe(self) -> None:
        """Learn the auth scheme before a first write (writes must not be sent blind)."""
        if self._probed or not self.authenticated:
            return
        async with self._probe_lock:
            if not self._probed:
                self._capabilities = await self.get_json("/accounts/self/capabilities")

    async def send(
        self,
        method: str,
        rest: str,
        body: Mapping[str, Any] | None = None,
        params: Params | None = None,
        *,
        allow_status: Collection[int] = (),
    ) -> Response:
        """A write: one attempt (plus one after a digest challenge, which the server refused
        without doing anything)."""
        await self._probe()
        path = self.path(rest)
        url = _with_query(self.http.resolve(path), params)
        allowed = {*allow_status, 401} if self.authenticated else set(allow_status)
        for attempt in range(2):
            resp = await self.http.send(
                method,
                path,
                json=body,
                params=params,
                headers=self._auth_header(method.upper(), url),
                allow_status=allowed,
            )
            if resp.status != 401 or 401 in allow_status:
                return resp
            if attempt == 0 and self._challenge(resp):
                continue
            break
        raise self._denied(resp)

    async def forward(self, forward: Forward, *, allow_status: Collection[int]) -> Response:
        """One pass-through exchange (``adapters/passthrough.py``): ``forward.target`` is a
        path without ``/a`` (added when authenticated), answered as ``get``/``send`` do,
        including the one retry after a digest challenge."""
        method = forward.method
        if method not in ("GET", "HEAD", "OPTIONS"):
            await self._probe()
        path = self.path(forward.target)
        url = self.http.resolve(path)
        allowed = {*allow_status, 401} if self.authenticated else set(allow_status)
        for attempt in range(2):
            headers = {**forward.headers, **self._auth_header(method, url)}
            resp = await self.http.forward(method, path, headers, forward.body, allowed)
            if resp.status != 401 or not self.authenticated:
                return resp
            if attempt == 0 and self._challenge(resp):
                continue
            break
        raise self._denied(resp)

    async def send_json(
        self,
        method: str,
        rest: str,
        body: Mapping[str, Any] | None = None,
        params: Params | None = None,
    ) -> Any:
        """A write whose answer is JSON; ``None`` for ``204 No Content`` or an empty body."""
        resp = await self.send(method, rest, body, params)
        if resp.status == 204 or not resp.body.strip():
            return None
        return self.decode(resp)

    async def capabilities(self, only: Sequence[str] = ()) -> Any:
        """``/accounts/self/capabilities`` (``q`` filters; cached when unfiltered)."""
        if not only and self._capabilities is not None:
            return self._capabilities
        params = {"q": list(only)} if only else None
        d = await self.get_json("/accounts/self/capabilities", params)
        if not only:
            self._capabilities = d
        return d

    async def query(
        self,
        queries: Sequence[str],
        *,
        limit: int | None = None,
        options: Sequence[str] = (),
        start: int | None = None,
        after_sortkey: str | None = None,
        before_sortkey: str | None = None,
    ) -> Any:
        """``GET /changes/?q=…`` — one list, or a list of lists for several queries."""
        params = _query_params(queries, limit, options, start, after_sortkey, before_sortkey)
        return await self.get_json("/changes/", params)

    async def query_mapped(
        self,
        query: str,
        kind: Hashable,
        parse: Callable[[Any], tuple[T, ...]],
        *,
        limit: int,
        options: Sequence[str],
        start: int | None = None,
        after_sortkey: str | None = None,
    ) -> tuple[T, ...]:
        """One query's answer mapped by ``parse`` (``kind`` names what it makes, a pure
        function of the answer): an answer byte-identical to an earlier one of this client
        (same stamp, ``adapters.stamps``) gives back what ``parse`` made of it then, without
        decoding or mapping it again. The records are immutable and the tuple is shared:
        never modify it."""
        params = _query_params([query], limit, options, start, after_sortkey, None)
        resp = await self.get("/changes/", params)
        route = ("changes", kind)  # a stamp names one URL's answer: the query is in it
        return derived(
            self._mapped, resp.cache_stamp, route, len(resp.body), lambda: parse(self.decode(resp))
        )


def _query_params(
    queries: Sequence[str],
    limit: int | None,
    options: Sequence[str],
    start: int | None,
    after_sortkey: str | None,
    before_sortkey: str | None,
) -> dict[str, str | int | Sequence[str | int]]:
    params: dict[str, str | int | Sequence[str | int]] = {"q": list(queries)}
    if limit is not None:
        params["n"] = limit
    if options:
        params["o"] = list(options)
    if start:
        params["S"] = start
    if after_sortkey:
        params["N"] = after_sortkey
    if before_sortkey:
        params["P"] = before_sortkey
    return params


def _with_query(url: str, params: Params | None) -> str:
    return str(with_params(URL(url), params))
