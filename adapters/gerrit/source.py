"""A Gerrit backend instance: reads and the batch function; the documented writes are
mixed in from ``writes.py``.

Implements ``Source``, ``ProjectReader``, ``ChangeLister`` and ``EventReader``
(``adapters/base.py``) plus Gerrit's own reads below and writes, and ``ChangeActor``
(``actions.py``). Method names follow the
REST endpoints; change ids may be given in every form Gerrit accepts (number, Change-Id,
``project~branch~Change-Id``) and revision ids as ``current``, a sha, an abbreviated sha or a
patch-set number.

Batching: ``get_changes`` resolves N change numbers with ``q=change:1 OR change:2 …`` — one
request per chunk of at most ``batch_size`` (the server's ``queryLimit`` when known); if the
server still cuts a chunk short (``_more_changes``), the missing numbers are asked again.

Paging: Gerrit ≥ 2.9 pages with ``S=<offset>``; Gerrit ≤ 2.8 only resumes after a change's
``_sortkey`` (``N=``). Which one a server speaks is learnt from its first answer (``_sortkey``
present, or ``S`` rejected with 400); the sort keys seen per query are remembered so that the
next page is one request, and an unseen offset is reached by walking from the nearest one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from adapters.base import ChangeFilter, EventFilter, PooledSource, fetch_each
from adapters.errors import BadRequest, NotFound
from adapters.gerrit import federation, links, mapping, people
from adapters.gerrit.actions import GerritActions
from adapters.gerrit.client import GerritClient, file_path
from adapters.gerrit.ports import REVISION_OPTIONS
from adapters.gerrit.query import QueryError, validate
from adapters.gerrit.records import (
    BinaryContent,
    Capabilities,
    Commit,
    Diff,
    FileChange,
    GerritChange,
    IncludedIn,
    InlineComment,
    Mergeable,
    Message,
    Reviewer,
    SuggestedReviewer,
)
from adapters.gerrit.writes import GerritWrites
from adapters.http import HttpClient, Params, Response
from adapters.links import Linked, LinkKeys, LinkQuery
from adapters.model import ChangeRecord, Event, Page, PageRequest, Person, Project
from adapters.passthrough import ANSWERED, Forward
from adapters.paths import seg
from adapters.people import KeyCache

KIND = "gerrit"
T = TypeVar("T")

# What a change needs for the common Change fields and its check rollup, in one request.
LIST_OPTIONS = ("LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "CURRENT_REVISION")
DEFAULT_BATCH = 100
# Ascending lists read the whole result (Gerrit only sorts newest first); this bounds it.
MAX_ASCENDING = 5000
_SORTKEY_MEMORY = 2000


class GerritSource(PooledSource, GerritWrites, GerritActions):
    """One configured Gerrit server."""

    kind = KIND

    def __init__(
        self, name: str, url: str, http: HttpClient, client: GerritClient, batch_size: int = 100
    ) -> None:
        self.name = name
        self.url = url
        self.http = http
        self.client = client
        self.batch_size = max(1, batch_size)
        self.legacy_paging: bool | None = None  # learnt from the first query answer
        self._learnt_limit: int | None = None  # the query limit, once an answer was capped
        self._sortkeys: OrderedDict[tuple[str, tuple[str, ...], int], str] = OrderedDict()
        self._anonymous_client: GerritClient | None = None  # pass-through, anonymous callers
        self._anonymous: GerritSource | None = None
        self.account_ids = KeyCache()  # account key → id (people.py)

    def anonymous_view(self) -> GerritSource:
        """This backend as an anonymous user sees it (no draft or private changes), on the
        same client; one view per source (``adapters/gerrit/anonymous.py``)."""
        if self._anonymous is None:
            from adapters.gerrit.anonymous import AnonymousGerritSource  # subclasses this one

            self._anonymous = AnonymousGerritSource(self)
        return self._anonymous

    def with_token(self, token: str) -> GerritSource:
        """This backend as another user (REST compat ``backend_tokens``): ``token`` is
        ``user:http-password``, on the same pooled session (see ``CallerCredentials``)."""
        user, sep, password = token.partition(":")
        if not sep:
            raise ValueError("a Gerrit backend token is 'username:http-password'")
        creds = replace(self.http.config.credentials, token=None, username=user, password=password)
        http = self.http.with_credentials(creds)
        return GerritSource(self.name, self.url, http, GerritClient(http), self.batch_size)

    async def passthrough(self, forward: Forward, *, anonymous: bool) -> Response:
        """One raw exchange for a route the compat router does not model
        (``adapters/passthrough.py``): under ``/a/`` as this source's user (basic or
        digest, as for modelled routes), or anonymously without ``/a/``."""
        client = self.client
        if anonymous:
            client = self._anonymous_client or GerritClient(self.http.anonymous())
            self._anonymous_client = client
        return await client.forward(forward, allow_status=ANSWERED)

    async def compat_get(self, rest: str, params: Params) -> Response:
        """Gerrit's answer to one compat GET (a documented path), its refusals too."""
        return await self.client.get(rest, params, allow_status=REFUSALS)

    async def compat_send(
        self, method: str, rest: str, body: Mapping[str, Any] | None, params: Params
    ) -> Response:
        """Gerrit's answer to one compat write, sent exactly once."""
        return await self.client.send(method, rest, body, params, allow_status=REFUSALS)

    async def ping(self) -> None:
        """One cheap request for readiness probes (``GET /config/server/version``)."""
        await self.client.get_json("/config/server/version")

    # --- people ----------------------------------------------------------------------------

    async def search_people(self, term: str, limit: int) -> list[Person]:
        """Accounts matching ``term`` (``people.py``)."""
        return await people.search(self, term, limit)

    def author_keys(self, emails: Sequence[str], accounts: Sequence[str]) -> tuple[str, ...]:
        """Everything: ``owner:`` resolves an email, a username or an account id."""
        return tuple(dict.fromkeys([*emails, *accounts]))

    # --- projects and capabilities ---------------------------------------------------------

    async def projects(self, prefix: str | None = None, descriptions: bool = True) -> list[Project]:
        """``/projects/`` (``/projects/<prefix>/`` to filter by prefix), with ``d``."""
        rest = "/projects/" if not prefix else f"/projects/{self._path(seg, prefix.strip('/'))}/"
        params = {"d": ""} if descriptions else None
        d = await self.client.get_json(rest, params)
        return mapping.guarded(self.name, "projects", lambda: mapping.projects(self.name, d))

    async def list_projects(self, page: PageRequest) -> Page[Project]:
        """Projects in name order (Gerrit answers the whole map at once)."""
        return _window(await self.projects(), page)

    async def get_projects(self, ids: Sequence[str]) -> list[Project | None]:
        """Projects by name (one ``/projects/`` request for the lot)."""
        by_name = {p.name: p for p in await self.projects()}
        return [by_name.get(i) for i in ids]

    async def capabilities(self, only: Sequence[str] = ()) -> Capabilities:
        """The caller's global capabilities (``q`` filters them)."""
        d = await self.client.capabilities(only)
        return mapping.guarded(self.name, "capabilities", lambda: mapping.capabilities(d))

    async def _batch_limit(self) -> int:
        """Chunk size for multi-change queries: ``batch_size`` capped by the query limit."""
        size = self.batch_size
        d = self.client._capabilities
        if d is not None:
            limit = mapping.capabilities(d).query_limit
            if limit and limit[1] > 0:
                size = min(size, limit[1])
        if self._learnt_limit:
            size = min(size, self._learnt_limit)
        return size

    # --- queries ---------------------------------------------------------------------------

    def _validate(self, query: str) -> str:
        try:
            return validate(query)
        except QueryError as exc:
            raise BadRequest(self.name, f"invalid Gerrit query: {exc}") from None

    def _remember(
        self, key: tuple[str, tuple[str, ...]], offset: int, items: Sequence[GerritChange]
    ) -> None:
        for i, item in enumerate(items):
            if item.sortkey:
                self._sortkeys[(*key, offset + i)] = item.sortkey
                self._sortkeys.move_to_end((*key, offset + i))
        while len(self._sortkeys) > _SORTKEY_MEMORY:
            self._sortkeys.popitem(last=False)

    def _changes(self, d: Any) -> tuple[GerritChange, ...]:
        return tuple(mapping.changes(self.name, d, self.url))

    async def _fetch(
        self,
        query: str,
        options: Sequence[str],
        limit: int,
        *,
        start: int = 0,
        after: str | None = None,
    ) -> list[GerritChange]:
        found = list(
            await self.client.query_mapped(
                query,
                ("changes", self.name, self.url),
                self._changes,
                limit=limit,
                options=options,
                start=start or None,
                after_sortkey=after,
            )
        )
        if found and self.legacy_paging is None:
            self.legacy_paging = any(c.sortkey for c in found)
        return found

    async def _legacy_window(
        self, query: str, options: tuple[str, ...], offset: int, count: int
    ) -> list[GerritChange]:
        key = (query, options)
        pos = offset - 1
        while pos >= 0 and (*key, pos) not in self._sortkeys:
            pos -= 1
        while pos < offset - 1:  # walk forward to the item before the window
            after = self._sortkeys.get((*key, pos)) if pos >= 0 else None
            step = min(500, offset - 1 - pos)
            items = await self._fetch(query, options, step, after=after)
            self._remember(key, pos + 1, items)
            if len(items) < step or not items[-1].more_changes:
                return []
            pos += len(items)
        after = self._sortkeys.get((*key, offset - 1)) if offset else None
        items = await self._fetch(query, options, count, after=after)
        self._remember(key, offset, items)
        return items

    async def query_changes(
        self, query: str, page: PageRequest, options: Sequence[str] = LIST_OPTIONS
    ) -> Page[GerritChange]:
        """Changes matching a native query, most recently updated first."""
        query = self._validate(query)
        opts = tuple(options)
        if page.offset and self.legacy_paging:
            items = await self._legacy_window(query, opts, page.offset, page.count)
        else:
            try:
                items = await self._fetch(query, opts, page.count, start=page.offset)
            except BadRequest as exc:
                # Gerrit <= 2.8 rejects S: switch to sort keys for good.
                if not page.offset or "S" not in exc.message:
                    raise
                self.legacy_paging = True
                items = await self._legacy_window(query, opts, page.offset, page.count)
            self._remember((query, opts), page.offset, items)
        has_next = bool(items) and items[-1].more_changes
        total = page.offset + len(items) if not has_next else None
        return Page(items=tuple(items), offset=page.offset, has_next=has_next, total=total)

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        """``ChangeLister``: the common filter pushed down to ``q=`` (``federation``).

        Gerrit sorts newest first only, so an ascending list reads the whole result (up to
        ``MAX_ASCENDING`` changes) and windows it from the oldest end.
        """
        if flt.people:  # as account ids: owner:<unknown> fails the whole query (people.py)
            flt = replace(flt, people=await people.owner_ids(self, flt.people))
            if not flt.people:
                return Page(items=(), offset=page.offset, has_next=False, total=0)
        try:
            query = federation.change_query(flt)
        except QueryError as exc:
            raise BadRequest(self.name, f"invalid gerritQuery: {exc}") from None
        if query is None:  # only states Gerrit never has
            return Page(items=(), offset=page.offset, has_next=False, total=0)
        if descending:
            found = await self.query_changes(query, page)
            return Page(items=found.items, offset=found.offset, has_next=found.has_next)
        everything: list[GerritChange] = []
        step = await self._batch_limit()
        while len(everything) < MAX_ASCENDING:
            part = await self.query_changes(query, PageRequest(len(everything), step))
            everything += part.items
            if not part.has_next or not part.items:
                break
        everything.reverse()
        return _window(everything, page)

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        """``EventReader``: each change's latest update (by update time), newest first."""
        query = federation.event_query(flt)
        if query is None or flt.patch or flt.series or flt.cover:  # no Gerrit event has those
            return Page(items=(), offset=page.offset, has_next=False, total=0)
        found = await self.query_changes(query, page)
        events = tuple(federation.event_of(c) for c in found.items)
        return Page(items=events, offset=page.offset, has_next=found.has_next)

    async def query_many(
        self, queries: Sequence[str], limit: int | None = None, options: Sequence[str] = ()
    ) -> list[list[GerritChange]]:
        """Several queries in one request (``q`` repeated): one result list per query."""
        if not queries:
            return []
        checked = [self._validate(q) for q in queries]
        d = await self.client.query(checked, limit=limit, options=options)
        return mapping.change_lists(self.name, d, len(checked), self.url)

    async def get_changes(
        self, ids: Sequence[str], options: Sequence[str] = LIST_OPTIONS
    ) -> list[GerritChange | None]:
        """Changes by id; numbers are batched into ``change:1 OR change:2 …`` queries."""
        ids = [str(int(i)) if _number(i) else i for i in ids]  # "007" is change 7
        numbers = list(dict.fromkeys(i for i in ids if _number(i)))
        others = list(dict.fromkeys(i for i in ids if not _number(i)))
        size = await self._batch_limit()
        found: dict[str, GerritChange] = {}

        async def chunk(part: list[str]) -> None:
            query = " OR ".join(f"change:{n}" for n in part)
            d = await self.client.query([query], limit=len(part), options=options)
            got = mapping.changes(self.name, d, self.url)
            for c in got:
                found[c.id] = c
            if got and got[-1].more_changes:
                # The server capped the answer: that is its query limit. Ask the rest in
                # chunks of that size, in parallel, and remember it for the next batch.
                self._learnt_limit = len(got)
                rest = [n for n in part if n not in found]
                if len(rest) >= len(part):  # nothing asked came back: do not loop
                    return
                step = len(got)
                await asyncio.gather(
                    *(chunk(rest[i : i + step]) for i in range(0, len(rest), step))
                )

        async def single(change: str) -> None:
            with contextlib.suppress(NotFound):
                found[change] = await self.change(change, options)

        chunks = [numbers[i : i + size] for i in range(0, len(numbers), size)]
        await asyncio.gather(*(chunk(c) for c in chunks), *(single(o) for o in others))
        return [found.get(i) for i in ids]

    async def link_keys(self, changes: Sequence[Any]) -> list[LinkKeys]:
        """``LinkKeyReader`` (``links.py``)."""
        return await links.link_keys(self, changes)

    async def find_linked(self, query: LinkQuery) -> list[Linked]:
        """``LinkFinder`` (``links.py``)."""
        return await links.find_linked(self, query)

    # --- one change ------------------------------------------------------------------------

    async def change(self, change: str, options: Sequence[str] = ()) -> GerritChange:
        """``GET /changes/{id}`` with ``o`` options."""
        params = {"o": list(options)} if options else None
        d = await self.client.get_json(self._change(change), params)
        return mapping.change(self.name, d, self.url)

    async def change_detail(self, change: str) -> GerritChange:
        """``/detail``: labels, detailed labels and accounts, messages."""
        d = await self.client.get_json(f"{self._change(change)}/detail")
        return mapping.change(self.name, d, self.url)

    async def change_revisions(self, change: str) -> GerritChange:
        """The change with every patch set (commits, files, fetch commands) and messages."""
        return await self.change(change, REVISION_OPTIONS)

    async def topic(self, change: str) -> str | None:
        """``/topic``; ``None`` when the change has none (Gerrit answers ``""``)."""
        d = await self.client.get_json(f"{self._change(change)}/topic")
        return mapping.string(self.name, d, "topic") or None

    async def included_in(self, change: str) -> IncludedIn:
        """``/in``: branches and tags the change is part of."""
        d = await self.client.get_json(f"{self._change(change)}/in")
        return mapping.included_in(self.name, d)

    async def messages(self, change: str) -> list[Message]:
        """The change's messages (from ``/detail``)."""
        return list((await self.change_detail(change)).messages or ())

    async def get_people(self, ids: Sequence[str]) -> list[Person | None]:
        """Accounts by id (``/accounts/{id}``, one request each: ``node(id)`` of a Person)."""

        async def fetch(native_id: str) -> Person:
            d = await self.client.get_json(f"/accounts/{self._path(seg, native_id)}")
            return mapping.guarded(self.name, "account", lambda: mapping.account(self.name, d))

        return await fetch_each(ids, fetch)

    async def reviewers(self, change: str) -> list[Reviewer]:
        """``/reviewers/``."""
        d = await self.client.get_json(f"{self._change(change)}/reviewers/")
        return mapping.reviewers(self.name, d)

    async def reviewer(self, change: str, account: str) -> Reviewer:
        """``/reviewers/{account}``."""
        d = await self.client.get_json(
            f"{self._change(change)}/reviewers/{self._path(seg, account)}"
        )
        return mapping.guarded(self.name, "reviewer", lambda: mapping.reviewer(self.name, d))

    async def suggest_reviewers(
        self, change: str, query: str, limit: int | None = None
    ) -> list[SuggestedReviewer]:
        """``/suggest_reviewers?q=…&n=…``."""
        params: dict[str, str | int] = {"q": query}
        if limit is not None:
            params["n"] = limit
        d = await self.client.get_json(f"{self._change(change)}/suggest_reviewers", params)
        return mapping.suggested_reviewers(self.name, d)

    # --- revisions -------------------------------------------------------------------------

    async def commit(self, change: str, revision: str) -> Commit:
        """``/revisions/{rev}/commit``."""
        d = await self.client.get_json(f"{self._rev(change, revision)}/commit")
        return mapping.commit(self.name, d)

    async def review(self, change: str, revision: str) -> GerritChange:
        """``/revisions/{rev}/review``: the change with detailed labels and that revision."""
        d = await self.client.get_json(f"{self._rev(change, revision)}/review")
        return mapping.change(self.name, d, self.url)

    async def files(self, change: str, revision: str) -> list[FileChange]:
        """``/revisions/{rev}/files/``."""
        d = await self.client.get_json(f"{self._rev(change, revision)}/files/")
        return mapping.files(self.name, d)

    async def reviewed_files(self, change: str, revision: str) -> list[str]:
        """``/files/?reviewed``: paths the caller marked as reviewed."""
        d = await self.client.get_json(f"{self._rev(change, revision)}/files/", {"reviewed": ""})
        return mapping.reviewed_files(self.name, d)

    async def file_content(self, change: str, revision: str, path: str) -> BinaryContent:
        """``/files/{path}/content`` (base64 on the wire), decoded."""
        resp = await self.client.get(f"{self._path(file_path, change, revision, path)}/content")
        ctype = resp.headers.get("X-FYI-Content-Type")
        return mapping.base64_content(self.name, resp.body, ctype)

    async def diff(
        self,
        change: str,
        revision: str,
        path: str,
        *,
        base: str | None = None,
        intraline: bool = False,
        context: str | None = None,
        ignore_whitespace: str | None = None,
    ) -> Diff:
        """``/files/{path}/diff`` (``base``, ``intraline``, ``context``, ``ignore-whitespace``)."""
        params: dict[str, str] = {}
        if base:
            params["base"] = base
        if intraline:
            params["intraline"] = ""
        if context is not None:
            if context != "ALL" and not context.isdigit():
                raise BadRequest(self.name, "context must be ALL or a number of lines")
            params["context"] = context
        if ignore_whitespace is not None:
            if ignore_whitespace not in ("NONE", "TRAILING", "CHANGED", "ALL"):
                raise BadRequest(
                    self.name, "ignore-whitespace must be NONE, TRAILING, CHANGED or ALL"
                )
            params["ignore-whitespace"] = ignore_whitespace
        rest = f"{self._path(file_path, change, revision, path)}/diff"
        d = await self.client.get_json(rest, params or None)
        return mapping.diff(self.name, d)

    async def patch(self, change: str, revision: str, *, zip: bool = False) -> BinaryContent:
        """``/patch`` (base64) or ``/patch?zip``: the formatted patch, decoded."""
        rest = f"{self._rev(change, revision)}/patch"
        if zip:
            resp = await self.client.get(rest, {"zip": ""})
            return mapping.zipped_content(self.name, resp.body)
        resp = await self.client.get(rest)
        return mapping.base64_content(self.name, resp.body, resp.headers.get("X-FYI-Content-Type"))

    async def mergeable(self, change: str, revision: str) -> Mergeable:
        """``/mergeable``."""
        d = await self.client.get_json(f"{self._rev(change, revision)}/mergeable")
        return mapping.mergeable(self.name, d)

    async def submit_type(self, change: str, revision: str) -> str:
        """``/submit_type``."""
        d = await self.client.get_json(f"{self._rev(change, revision)}/submit_type")
        return mapping.string(self.name, d, "submit type")

    async def drafts(self, change: str, revision: str) -> list[InlineComment]:
        """``/drafts/``: the caller's draft comments."""
        return await self._inline(change, revision, "drafts")

    async def draft(self, change: str, revision: str, draft_id: str) -> InlineComment:
        """``/drafts/{id}``."""
        return await self._inline_one(change, revision, "drafts", draft_id)

    async def comments(self, change: str, revision: str) -> list[InlineComment]:
        """``/comments/``: published inline comments."""
        return await self._inline(change, revision, "comments")

    async def comment(self, change: str, revision: str, comment_id: str) -> InlineComment:
        """``/comments/{id}``."""
        return await self._inline_one(change, revision, "comments", comment_id)

    async def _inline(self, change: str, revision: str, which: str) -> list[InlineComment]:
        d = await self.client.get_json(f"{self._rev(change, revision)}/{which}/")
        return mapping.comment_map(self.name, d)

    async def _inline_one(
        self, change: str, revision: str, which: str, comment_id: str
    ) -> InlineComment:
        rest = f"{self._rev(change, revision)}/{which}/{self._path(seg, comment_id)}"
        return mapping.one_comment(self.name, await self.client.get_json(rest))


def _window(everything: Sequence[T], page: PageRequest) -> Page[T]:
    """The window ``page`` asks for of a list read whole."""
    return Page(
        items=tuple(everything[page.offset : page.offset + page.count]),
        offset=page.offset,
        has_next=page.offset + page.count < len(everything),
        total=len(everything),
    )


def _number(value: str) -> bool:
    return value.isascii() and value.isdigit()


# Gerrit's own answers to a bad request, re-served by the compat layer as they are.
REFUSALS = (400, 403, 404, 405, 409, 412, 422)


def create_source(
    name: str, url: str, http: HttpClient, *, page_size: int = DEFAULT_BATCH
) -> GerritSource:
    """The factory ``adapters.registry`` calls for ``kind = "gerrit"``."""
    return GerritSource(name, url, http, GerritClient(http), batch_size=page_size)
