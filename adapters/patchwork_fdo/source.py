"""A freedesktop Patchwork backend instance: reads, batch functions, polling and writes.

Implements ``Source``, ``ProjectReader``, ``PatchReader``, ``SeriesReader``,
``PersonReader``, ``EventReader``, ``ChangeLister``, ``RevisionReader``, ``ResultReporter``
and ``EventPoller`` (see ``adapters/base.py``); ``ChangeActor`` in ``actions.py``.

- **Projects** are few and referenced by id from every series, patch and event: the source
  reads the whole project list in one request and keeps it ``PROJECT_TTL`` seconds, so a page
  of series resolves all its projects with at most one extra request.
- **People**: the API documents no people entry point and sends submitters as bare ids. A
  person is named from the ``From:`` of the mbox of one of their patches, one request when a
  patch of theirs was seen in a list, and kept an hour (``people.py``). The GraphQL layer
  calls this through a per-request DataLoader, only when a name or email is selected.
- **Events** have no id (``mapping.event_id`` derives one) and ``since`` is strictly newer
  than a microsecond timestamp; ``poll_events`` asks from 1 µs before its cursor and drops the
  events already delivered at the cursor's timestamp, so a poll loses and repeats nothing.
  Events are per project: without a project, every project's log is read and merged.
- **Order**: the API documents no ordering, so the federated lists (series by date, events
  newest first, patches as changes by ``last_updated``) read the filtered list whole and sort
  it here, once per walk (see ``_snapshot``).
- **Checks**: test results belong to revisions; a patch's checks are those of the latest
  revision holding it (see ``revisions.patch_revisions``).
- Filters are pushed down to the fork's own query parameters; patch filters it does not have
  raise ``BadRequest`` instead of being dropped.

Layout: this module holds the class and the reads of projects, patches, series and people;
``events.py`` the event log reads, ``revisions.py`` revision placement (issued concurrently:
see its doc) and test results, ``keys.py`` the helpers they share.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from adapters.base import (
    ChangeFilter,
    EventFilter,
    PatchFilter,
    PooledSource,
    SeriesFilter,
    TrackedPatchFilter,
    TrackedSeriesFilter,
    fetch_each,
)
from adapters.errors import BadPayload, BadRequest, SignInRequired
from adapters.http import HttpClient, Params, Response
from adapters.links import Linked, LinkKeys, LinkQuery
from adapters.model import (
    Check,
    Comment,
    Cover,
    Event,
    EventCursor,
    NewTestResult,
    Page,
    PageRequest,
    Patch,
    Person,
    Project,
    Revision,
    TrackedPatch,
    TrackedSeries,
)
from adapters.passthrough import ANSWERED, Forward
from adapters.patchwork_common import format_date, format_server_date, set_time_zone
from adapters.patchwork_fdo import events, links, mapping, people, revisions
from adapters.patchwork_fdo.actions import FdoActions
from adapters.patchwork_fdo.client import FdoClient
from adapters.patchwork_fdo.keys import ONE_MICROSECOND
from adapters.patchwork_fdo.keys import numeric as _numeric
from adapters.patchwork_fdo.keys import numeric_key as _numeric_key
from adapters.patchwork_fdo.keys import revision_key as _revision_key
from adapters.patchwork_fdo.keys import window as _window
from adapters.patchwork_fdo.placement import Placement
from adapters.paths import BadSegment, digits, seg

T = TypeVar("T")
R = TypeVar("R")

KIND = "patchwork-fdo"
PROJECT_TTL = 60.0
SEEN_PATCHES = 20_000  # patches remembered for placing them in revisions (LRU)
TEST_STATE_VALUES = frozenset({"pending", "info", "success", "warning", "failure", "null"})
SNAPSHOT_TTL = 60.0  # how long a walk's later windows may reuse the list its first read
SNAPSHOTS = 32  # sorted lists kept at most


class FdoSource(PooledSource, FdoActions):
    """One configured freedesktop Patchwork server."""

    kind = KIND
    anonymous = False  # the view for anonymous callers (no signed-in user)
    LIST_WAVES = 4  # the patch list, then placement.py's series lists, revisions, test results

    def __init__(self, name: str, url: str, http: HttpClient, client: FdoClient) -> None:
        self.name = name
        self.url = url
        self.http = http
        self.client = client
        self._projects: dict[str, Project] = {}
        self._projects_at = -PROJECT_TTL
        self._projects_lock = asyncio.Lock()
        self._snapshots: dict[tuple[Any, ...], tuple[float, list[Any]]] = {}
        # Patches seen in lists or details, for placing them in revisions without reading
        # each again: only their project, submitter and date are used, which never change.
        self._seen: OrderedDict[str, Patch] = OrderedDict()
        self.people = people.PeopleCache()  # named submitters (people.py)
        self._anonymous: FdoSource | None = None

    async def ping(self) -> None:
        """One cheap request for readiness probes (the API root, ``GET /api/1.0/``)."""
        await self.client.get("")

    def anonymous_view(self) -> FdoSource:
        """This backend for anonymous callers (``schema/context.py``): ``submitter=self``
        would name the gateway's account, so it is refused; everything else is shared."""
        if self._anonymous is None:
            self._anonymous = AnonymousFdoSource(self)
        return self._anonymous

    def with_token(self, token: str) -> FdoSource:
        """This backend as the user owning ``token`` (``Authorization: Token …``), on the same
        pooled session (see ``CallerCredentials``); used by the REST compat layer."""
        creds = replace(self.http.config.credentials, token=token, username=None, password=None)
        http = self.http.with_credentials(creds)
        return FdoSource(self.name, self.url, http, FdoClient(http, self.client.page_cap))

    async def passthrough(self, forward: Forward, *, anonymous: bool) -> Response:
        """One raw exchange for a route the compat router does not model
        (``adapters/passthrough.py``): as this source's credential, or with none."""
        http = self.http.anonymous() if anonymous else self.http
        return await http.forward(
            forward.method, forward.target, forward.headers, forward.body, ANSWERED
        )

    async def compat_get(self, rel: str, params: Params) -> Response:
        """The fork's answer to one compat GET (``rel`` under ``/api/1.0/``), refusals too."""
        return await self.client.compat_get(rel, params)

    async def compat_post(self, rel: str, body: Mapping[str, Any]) -> Response:
        """The fork's answer to one compat write, sent exactly once."""
        return await self.client.compat_post(rel, body)

    async def api_revision(self) -> int:
        """The API revision the server reports (``GET /api/1.0/``)."""
        return mapping.api_revision(self.name, await self.client.get(""))

    async def _page(
        self, rel: str, params: Params, page: PageRequest, parse: Callable[[dict[str, Any]], T]
    ) -> Page[T]:
        window = await self.client.window(rel, params, page.offset, page.count)
        items = tuple(parse(d) for d in window.items)
        return Page(items=items, offset=page.offset, has_next=window.has_next, total=window.total)

    async def _snapshot(
        self, key: tuple[Any, ...], offset: int, load: Callable[[], Awaitable[list[T]]]
    ) -> list[T]:
        """A whole list the API cannot order, sorted here: read afresh when a walk starts
        (offset 0), and reused for ``SNAPSHOT_TTL`` seconds by that walk's later windows, so
        paging through it neither re-reads the list nor sees it shift."""
        now = time.monotonic()
        hit = self._snapshots.get(key)
        if offset > 0 and hit is not None and now - hit[0] < SNAPSHOT_TTL:
            return hit[1]
        items = await load()
        self._snapshots.pop(key, None)
        self._snapshots[key] = (now, items)
        while len(self._snapshots) > SNAPSHOTS:
            del self._snapshots[next(iter(self._snapshots))]
        return items

    # --- projects ----------------------------------------------------------------------

    async def _project_table(self) -> dict[str, Project]:
        """Every project by id, re-read after ``PROJECT_TTL`` seconds (one request)."""
        async with self._projects_lock:
            if time.monotonic() - self._projects_at >= PROJECT_TTL:
                items = await self.client.all_items("projects/")
                self._projects = {p.id: p for p in (mapping.project(self.name, d) for d in items)}
                self._projects_at = time.monotonic()
            return self._projects

    async def _project_of(self, d: dict[str, Any]) -> Project | None:
        pid = mapping.project_id(self.name, d)
        if pid is None:
            return None
        return (await self._project_table()).get(pid)

    async def list_projects(self, page: PageRequest) -> Page[Project]:
        """Projects in the server's order."""
        return await self._page("projects/", {}, page, lambda d: mapping.project(self.name, d))

    async def get_projects(self, ids: Sequence[str]) -> list[Project | None]:
        """Projects by id or link name: one list request for the whole batch."""
        table = await self._project_table()
        by_link = {p.link_name: p for p in table.values()}

        async def fetch(key: str) -> Project:
            found = table.get(key) or by_link.get(key)
            if found is not None:
                return found
            d = await self.client.get(f"projects/{await self._project_key(key)}/")  # newer
            return mapping.project(self.name, d)

        return await fetch_each(ids, fetch)

    async def _project_key(self, key: str) -> str:
        """A project id or link name as one encoded path segment (either works upstream)."""
        if "/" in key:
            raise BadRequest(self.name, f"invalid project {key[:40]!r}")
        try:
            return seg(key)
        except BadSegment as exc:
            raise BadRequest(self.name, f"invalid project: {exc}") from None

    # --- patches -----------------------------------------------------------------------

    def _submitter(self, submitters: Sequence[str]) -> str | None:
        value = self._any_submitter(submitters)
        if value == "self" and self.anonymous:
            raise SignInRequired(
                self.name, "submitter 'self' is the signed-in user: send an API key"
            )
        return value

    def _any_submitter(self, submitters: Sequence[str]) -> str | None:
        if not submitters:
            return None
        if len(submitters) > 1:
            raise BadRequest(self.name, "the fdo API filters by one submitter id (or 'self')")
        value = submitters[0]
        if value != "self" and digits(value) is None:
            raise BadRequest(
                self.name, f"submitter must be a person id or 'self', not {value!r:.40}"
            )
        return value

    def _patch_params(self, flt: PatchFilter) -> dict[str, Any]:
        unsupported = [
            name
            for name, value in (
                ("states", flt.states),
                ("archived", flt.archived),
                ("delegate", flt.delegate),
                ("series", flt.series),
                ("q", flt.q),
                ("msgid", flt.msgid),
                ("hash", flt.hash),
            )
            if value not in (None, ())
        ]
        if unsupported:
            raise BadRequest(
                self.name, f"the fdo API cannot filter patches by {', '.join(unsupported)}"
            )
        params: dict[str, Any] = {}
        if (submitter := self._submitter(flt.submitters)) is not None:
            params["submitter"] = submitter
        if flt.since:
            params["submitted_since"] = format_date(flt.since)
        if flt.before:
            params["submitted_before"] = format_date(flt.before)
        if isinstance(flt, TrackedPatchFilter):
            if flt.name:
                params["name"] = flt.name
            if flt.updated_since:
                params["updated_since"] = format_server_date(flt.updated_since, self.name)
            if flt.updated_before:
                params["updated_before"] = format_server_date(flt.updated_before, self.name)
        return params

    async def _patches(self, items: Sequence[dict[str, Any]]) -> list[TrackedPatch]:
        table = await self._project_table()
        out = []
        for d in items:
            pid = mapping.project_id(self.name, d)
            proj = table.get(pid or "")
            if proj is None:
                raise BadPayload(self.name, f"patch refers to unknown project {pid!r}")
            mbox = self.client.url(f"patches/{d.get('id')}/mbox/")
            out.append(mapping.patch(self.name, d, proj, mbox, self._web_url(d)))
        self._remember(out)
        return out

    def _web_url(self, d: Mapping[str, Any]) -> str:
        """The fork's own page of a patch (``<site>/patch/<id>/``, as its mbox links name it)."""
        return f"{self.url.rstrip('/')}/patch/{d.get('id')}/"

    def _remember(self, patches: Sequence[Patch | None]) -> None:
        for p in patches:
            if p is not None:
                self._seen[p.id] = p
                self._seen.move_to_end(p.id)
                if p.submitter is not None:
                    self.people.saw(p.submitter.id, p.id)
        while len(self._seen) > SEEN_PATCHES:
            self._seen.popitem(last=False)

    async def list_patches(self, flt: PatchFilter, page: PageRequest) -> Page[TrackedPatch]:
        """Patches matching ``flt``: a project's (``projects/<p>/patches/``) or all."""
        params = self._patch_params(flt)
        rel = (
            f"projects/{await self._project_key(flt.project)}/patches/"
            if flt.project
            else "patches/"
        )
        if flt.order:
            # The API documents no order: a date order (the merged root ``patches``) reads
            # the filtered list whole and sorts it here, as series are.
            order = flt.order.strip().removesuffix(",id")
            if order not in ("-date", "date"):
                raise BadRequest(self.name, f"patch order must be -date or date, not {order!r:.40}")

            async def load() -> list[TrackedPatch]:
                found = await self._patches(await self.client.all_items(rel, params))
                found.sort(key=lambda x: (x.date, _numeric_key(x.id)), reverse=order == "-date")
                return found

            key = ("patches", rel, tuple(sorted(params.items())), order)
            return _window(await self._snapshot(key, page.offset, load), page)
        window = await self.client.window(rel, params, page.offset, page.count)
        items = tuple(await self._patches(window.items))
        return Page(items=items, offset=page.offset, has_next=window.has_next, total=window.total)

    async def get_patches(self, ids: Sequence[str]) -> list[TrackedPatch | None]:
        """Patch details, one request each (the API has no multi-id lookup)."""

        async def fetch(native_id: str) -> dict[str, Any]:
            d = await self.client.get(f"patches/{_numeric(native_id, self.name)}/")
            if not isinstance(d, dict):
                raise BadPayload(self.name, "expected a patch object")
            return d

        found = await fetch_each(ids, fetch)
        if not any(found):
            return [None] * len(ids)
        table = await self._project_table()
        out: list[TrackedPatch | None] = []
        for d in found:
            if d is None:
                out.append(None)
                continue
            pid = mapping.project_id(self.name, d)
            proj = table.get(pid) if pid else None
            if proj is None and pid is None and len(table) == 1:
                # The documented detail example omits ``project``; with one project it is
                # unambiguous, otherwise the payload is unusable for a Patch record.
                proj = next(iter(table.values()))
            if proj is None:
                raise BadPayload(self.name, f"patch {d.get('id')} has no known project")
            mbox = self.client.url(f"patches/{d.get('id')}/mbox/")
            out.append(mapping.patch(self.name, d, proj, mbox, self._web_url(d)))
        self._remember(out)
        return out

    # A patch's latest revision, its checks, a request's placement: revisions.py, placement.py
    patch_checks = revisions.patch_checks
    patch_revisions = revisions.patch_revisions

    def placement(self) -> Placement:
        return Placement(self)

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[TrackedPatch]:
        """Patches as changes, ordered by ``last_updated`` (sorted here: the API documents no
        order). One project and the update window are pushed down; the gateway checks every
        filter again."""
        rel = "patches/"
        if len(flt.projects) == 1:
            rel = f"projects/{await self._project_key(flt.projects[0])}/patches/"
        params: dict[str, Any] = {}
        if flt.updated_since:
            # "newer than": 1 µs earlier keeps the bound inclusive, as the filter means it.
            params["updated_since"] = format_server_date(
                flt.updated_since - ONE_MICROSECOND, self.name
            )
        if flt.updated_before:
            params["updated_before"] = format_server_date(flt.updated_before, self.name)

        # people: the API filters by one submitter id; several are one list each (together)
        submitters = tuple(k for k in flt.people if k.isdigit())
        if flt.people and not submitters:
            return Page(items=(), offset=page.offset, has_next=False)

        async def load() -> list[TrackedPatch]:
            asks = [{**params, "submitter": k} for k in submitters] or [params]
            reads = [self.client.all_items(rel, p) for p in asks]  # one: no task, sent at once
            lists = [await reads[0]] if len(reads) == 1 else await asyncio.gather(*reads)
            found = await self._patches([d for items in lists for d in items])
            found.sort(key=lambda x: (x.updated_at, _numeric_key(x.id)), reverse=descending)
            return found

        key = ("changes", rel, tuple(sorted(params.items())), submitters, descending)
        return _window(await self._snapshot(key, page.offset, load), page)

    async def patch_comments(self, patch_id: str, page: PageRequest) -> Page[Comment]:
        """The API exposes no comments: always empty."""
        return Page(items=(), offset=page.offset, has_next=False, total=0)

    async def link_keys(self, changes: Sequence[Any]) -> list[LinkKeys]:
        """``LinkKeyReader`` (``links.py``)."""
        return await links.link_keys(self, changes)

    async def find_linked(self, query: LinkQuery) -> list[Linked]:
        """``LinkFinder`` (``links.py``)."""
        return await links.find_linked(self, query)

    async def patch_mbox(self, patch_id: str, link: str | None = None) -> str:
        """``GET patches/<id>/mbox/`` (``?link=<tag>`` adds a link to each commit message)."""
        params = {"link": link} if link else None
        return await self.client.text(f"patches/{_numeric(patch_id, self.name)}/mbox/", params)

    # --- series ------------------------------------------------------------------------

    def _series_params(self, flt: SeriesFilter) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if (submitter := self._submitter(flt.submitters)) is not None:
            params["submitter"] = submitter
        if flt.since:
            params["submitted_since"] = format_server_date(flt.since, self.name)
        if flt.before:
            params["submitted_before"] = format_server_date(flt.before, self.name)
        if isinstance(flt, TrackedSeriesFilter):
            if flt.name:
                params["name"] = flt.name
            if flt.reviewer:
                if flt.reviewer != "null" and digits(flt.reviewer) is None:
                    raise BadRequest(self.name, "reviewer must be a person id or 'null'")
                params["reviewer"] = flt.reviewer
            if flt.updated_since:
                params["updated_since"] = format_server_date(flt.updated_since, self.name)
            if flt.updated_before:
                params["updated_before"] = format_server_date(flt.updated_before, self.name)
            if flt.test_states:
                bad = sorted(set(flt.test_states) - TEST_STATE_VALUES)
                if bad:
                    raise BadRequest(
                        self.name,
                        f"unknown test state(s) {', '.join(bad)[:80]}; expected "
                        f"{', '.join(sorted(TEST_STATE_VALUES))}",
                    )
                params["test_state"] = ",".join(flt.test_states)
        return params

    def _series(self, d: dict[str, Any], table: dict[str, Project]) -> TrackedSeries:
        pid = mapping.project_id(self.name, d)
        version = d.get("version") or 1
        mbox = self.client.url(f"series/{d.get('id')}/revisions/{version}/mbox/")
        return mapping.series(self.name, d, table.get(pid or ""), mbox)

    async def list_series(self, flt: SeriesFilter, page: PageRequest) -> Page[TrackedSeries]:
        """Series matching ``flt``: a project's (``projects/<p>/series/``) or all.

        Without ``order`` and ``q`` the window is read in the server's order; with them (the
        API documents neither) the whole filtered list is read, searched and sorted here by
        submission date (``"-date"``, newest first, or ``"date"``).
        """
        params = self._series_params(flt)
        rel = (
            f"projects/{await self._project_key(flt.project)}/series/" if flt.project else "series/"
        )
        if flt.order or flt.q:
            order = (flt.order or "-date").strip()
            if order not in ("-date", "date"):
                raise BadRequest(
                    self.name, f"series order must be -date or date, not {order!r:.40}"
                )
            needle = (flt.q or "").casefold()

            async def load() -> list[TrackedSeries]:
                items = await self.client.all_items(rel, params)
                table = await self._project_table() if items else {}
                found = [self._series(d, table) for d in items]
                found = [x for x in found if needle in (x.name or "").casefold()]
                found.sort(key=lambda x: (x.date, _numeric_key(x.id)), reverse=order == "-date")
                return found

            key = ("series", rel, tuple(sorted(params.items())), order, needle)
            return _window(await self._snapshot(key, page.offset, load), page)
        window = await self.client.window(rel, params, page.offset, page.count)
        table = await self._project_table() if window.items else {}
        items = tuple(self._series(d, table) for d in window.items)
        return Page(items=items, offset=page.offset, has_next=window.has_next, total=window.total)

    async def get_series(self, ids: Sequence[str]) -> list[TrackedSeries | None]:
        """Series by id, one request each."""

        async def fetch(native_id: str) -> TrackedSeries:
            d = await self.client.get(f"series/{_numeric(native_id, self.name)}/")
            if not isinstance(d, dict):
                raise BadPayload(self.name, "expected a series object")
            table = await self._project_table() if "project" in d else {}
            return self._series(d, table)

        return await fetch_each(ids, fetch)

    async def get_covers(self, ids: Sequence[str]) -> list[Cover | None]:
        """Cover letters are text inside revisions here, never objects of their own."""
        return [None for _ in ids]

    async def cover_comments(self, cover_id: str, page: PageRequest) -> Page[Comment]:
        """No comments in this API."""
        return Page(items=(), offset=page.offset, has_next=False, total=0)

    # --- revisions and test results -----------------------------------------------------

    def _revision(self, series_id: str, d: dict[str, Any]) -> Revision:
        version = d.get("version")
        mbox = self.client.url(f"series/{series_id}/revisions/{version}/mbox/")
        return mapping.revision(self.name, series_id, d, mbox)

    async def series_revisions(self, series_ids: Sequence[str]) -> list[list[Revision]]:
        """Every revision of each series (one list request per series)."""

        async def fetch(series_id: str) -> list[Revision]:
            rel = f"series/{_numeric(series_id, self.name)}/revisions/"
            items = await self.client.all_items(rel)
            return sorted((self._revision(series_id, d) for d in items), key=lambda r: r.version)

        found = await fetch_each(series_ids, fetch)
        return [revs or [] for revs in found]

    async def get_revisions(self, keys: Sequence[str]) -> list[Revision | None]:
        """Revisions by ``"<series>/<version>"``, one request each."""

        async def fetch(key: str) -> Revision:
            series_id, version = _revision_key(key, self.name)
            d = await self.client.get(f"series/{series_id}/revisions/{version}/")
            if not isinstance(d, dict):
                raise BadPayload(self.name, "expected a revision object")
            return self._revision(series_id, d)

        return await fetch_each(keys, fetch)

    async def revision_test_results(self, keys: Sequence[str]) -> list[list[Check]]:
        """Each revision's test results (one request per revision)."""

        async def fetch(key: str) -> list[Check]:
            series_id, version = _revision_key(key, self.name)
            body = await self.client.get(f"series/{series_id}/revisions/{version}/test-results/")
            return mapping.test_results(self.name, key, body)

        found = await fetch_each(keys, fetch)
        return [results or [] for results in found]

    async def revision_mbox(self, key: str, link: str | None = None) -> str:
        """The revision's mbox, ready for ``git am``."""
        series_id, version = _revision_key(key, self.name)
        params = {"link": link} if link else None
        return await self.client.text(f"series/{series_id}/revisions/{version}/mbox/", params)

    async def report_test_result(self, key: str, result: NewTestResult) -> Check:
        """``POST …/test-results/``, the stored result read back when the answer lacks it."""
        return await revisions.report_test_result(self, key, result)

    # --- people ------------------------------------------------------------------------

    async def get_people(self, ids: Sequence[str]) -> list[Person | None]:
        """People by id, named from the ``From:`` of one of their patches (``people.py``)."""
        return await people.get_people(self, ids)

    def author_keys(self, emails: Sequence[str], accounts: Sequence[str]) -> tuple[str, ...]:
        """Person ids only: the fork's payloads name submitters by id, never by email."""
        return people.author_keys(accounts)

    # --- events (adapters/patchwork_fdo/events.py) ----------------------------------------

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        """Events newest first: a project's, or every project's merged (no project)."""
        return await events.list_events(self, flt, page)

    async def poll_events(
        self, flt: EventFilter, cursor: EventCursor | None
    ) -> tuple[list[Event], EventCursor]:
        """Every event after ``cursor``, oldest first, each exactly once (see module doc)."""
        return await events.poll_events(self, flt, cursor)


class AnonymousFdoSource(FdoSource):
    """An ``FdoSource`` for anonymous callers, sharing the backend's client and caches."""

    anonymous = True

    def __init__(self, source: FdoSource) -> None:
        self.__dict__.update(source.__dict__)  # the same client, project table, seen patches
        self._anonymous = self


def create_source(
    name: str, url: str, http: HttpClient, *, page_size: int = 100, time_zone: str = "UTC"
) -> FdoSource:
    """The factory ``adapters.registry`` calls for ``kind = "patchwork-fdo"``."""
    set_time_zone(name, time_zone)
    return FdoSource(name, url, http, FdoClient(http, page_size))
