"""An upstream Patchwork backend instance: reads, batch functions and writes over its client.

Implements ``Source``, ``ProjectReader``, ``PatchReader``, ``PatchWriter``, ``SeriesReader``,
``CoverLister``, ``PersonReader``, ``UserLister``, ``EventReader``, ``BundleReader`` and
``CheckPresence`` (see ``adapters/base.py``), and ``ChangeActor`` (``adapters/actions.py``, in
``actions.py``).

Patchwork has no multi-id lookups, so a batch of ids becomes concurrent detail requests — the
API forces one request per object — while list responses already carry every nested object
(project, submitter, delegate, series summaries), which the records keep so that nothing is
fetched twice. Filters are pushed down to Patchwork's own query parameters; those that need a
newer API version than the server offers raise ``BadRequest`` instead of being dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from adapters.base import (
    ChangeFilter,
    EventFilter,
    PatchFilter,
    PooledSource,
    SeriesFilter,
    fetch_each,
)
from adapters.errors import BadPayload, BadRequest, NotFound, UpstreamError
from adapters.http import HttpClient, Params, Response
from adapters.links import Linked, LinkKeys, LinkQuery
from adapters.model import (
    Bundle,
    ChangeRecord,
    ChangeState,
    Check,
    Comment,
    Cover,
    Event,
    NewCheck,
    Page,
    PageRequest,
    Patch,
    PatchUpdate,
    Person,
    Project,
    Series,
)
from adapters.passthrough import ANSWERED, Forward
from adapters.patchwork import activity, links, mapping, people, presence
from adapters.patchwork import client as client_mod
from adapters.patchwork.actions import PatchworkActions
from adapters.patchwork.client import PatchworkClient
from adapters.patchwork_common import format_server_date, set_time_zone
from adapters.paths import BadSegment, digits, seg
from adapters.people import KeyCache

T = TypeVar("T")
R = TypeVar("R")

KIND = "patchwork"


def _check_id(native_id: str, backend: str) -> str:
    if digits(native_id) is None:
        raise NotFound(backend, f"no such object {native_id[:40]!r}")
    return native_id


def _segment(value: str, backend: str) -> str:
    """A caller value as one encoded path segment (``adapters/paths.py``)."""
    try:
        return seg(value)
    except BadSegment as exc:
        raise BadRequest(backend, str(exc)) from None


def _series_params(flt: SeriesFilter) -> dict[str, Any]:
    """The query of a series or cover list: Patchwork filters both the same way."""
    params: dict[str, Any] = {}
    if flt.project:
        params["project"] = flt.project
    if flt.submitters:
        params["submitter"] = list(flt.submitters)
    params.update(_span_and_search(flt))
    if flt.order:
        params["order"] = flt.order
    return params


def _span_and_search(flt: PatchFilter | SeriesFilter) -> dict[str, Any]:
    """The date span and free-text search both list filters push down, in Patchwork's terms."""
    params: dict[str, Any] = {}
    if flt.since:
        params["since"] = mapping.format_date(flt.since)
    if flt.before:
        params["before"] = mapping.format_date(flt.before)
    if flt.q:
        params["q"] = flt.q
    return params


class PatchworkSource(PooledSource, PatchworkActions):
    """One configured upstream Patchwork server."""

    kind = KIND
    LIST_WAVES = 3  # the list, then its events' pages one after another (activity.py)

    def __init__(
        self,
        name: str,
        url: str,
        http: HttpClient,
        client: PatchworkClient,
        checks: presence.Presence | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.http = http
        self.client = client
        self.person_ids = KeyCache()  # email → person ids (people.py)
        # per backend, shared with ``with_token`` copies: check presence is public
        self.presence = checks if checks is not None else presence.Presence()

    # Object mappings bound to this backend's name (the record memo keys them by kind).
    def _patch(self, d: dict[str, Any]) -> Patch:
        return mapping.patch(self.name, d)

    def _series(self, d: dict[str, Any]) -> Series:
        return mapping.series(self.name, d)

    def _cover(self, d: dict[str, Any]) -> Cover:
        return mapping.cover(self.name, d)

    def _bundle(self, d: dict[str, Any]) -> Bundle:
        return mapping.bundle(self.name, d)

    def with_token(self, token: str) -> PatchworkSource:
        """This backend as the user owning ``token`` (``Authorization: Token …``), on the same
        pooled session and sharing the detected API version (see ``CallerCredentials``)."""
        creds = replace(self.http.config.credentials, token=token, username=None, password=None)
        http = self.http.with_credentials(creds)
        client = copy.copy(self.client)
        client.http = http
        return PatchworkSource(self.name, self.url, http, client, self.presence)

    async def passthrough(self, forward: Forward, *, anonymous: bool) -> Response:
        """One raw exchange for a route the compat router does not model
        (``adapters/passthrough.py``): as this source's credential, or with none."""
        http = self.http.anonymous() if anonymous else self.http
        return await http.forward(
            forward.method, forward.target, forward.headers, forward.body, ANSWERED
        )

    async def ping(self) -> None:
        """One GET of the API root (the version probe on first use)."""
        await self.http.get(await self.client.path(""))

    async def _page(
        self, rel: str, params: Params, page: PageRequest, parse: Callable[[dict[str, Any]], T]
    ) -> Page[T]:
        window = await self.client.window(rel, params, page.offset, page.count)
        # A window memoised by stamp (same upstream answer as before) keeps the page built
        # from it: the records are a function of the answer's bytes, the backend name and
        # which mapping ran (``rel`` names it: one mapping per list resource).
        known: Page[T] | None = window.pages.get(rel)
        if known is not None:
            return known
        items = tuple(parse(d) for d in window.items)
        built = Page(
            items=items,
            offset=page.offset,
            has_next=window.has_next,
            total=window.total,
            kept=window.memoised,
        )
        if window.memoised:
            window.pages.keep(rel, built)
        return built

    async def _details(
        self, ids: Sequence[str], resource: str, what: str, parse: Callable[[dict[str, Any]], T]
    ) -> list[T | None]:
        """Objects by id: one detail request each (the API has no multi-id lookup)."""

        async def fetch(native_id: str) -> T:
            rel = f"{resource}/{_check_id(native_id, self.name)}/"
            return await self.client.get_record(rel, what, parse)

        return await fetch_each(ids, fetch)

    async def _require(self, minimum: str, what: str) -> None:
        if await self.client.version() < minimum:
            raise BadRequest(self.name, f"{what} needs Patchwork API {minimum} or newer")

    # --- projects ----------------------------------------------------------------------

    async def list_projects(self, page: PageRequest) -> Page[Project]:
        """Projects in id order."""
        return await self._page("projects/", {}, page, lambda d: mapping.project(self.name, d))

    async def get_projects(self, ids: Sequence[str]) -> list[Project | None]:
        """Projects by id or link name."""

        async def fetch(key: str) -> Project:
            return await self.client.get_record(
                f"projects/{_segment(key, self.name)}/",
                "project",
                lambda d: mapping.guarded(
                    self.name, "project", lambda: mapping.project(self.name, d)
                ),
            )

        return await fetch_each(ids, fetch)

    # --- patches ---------------------------------------------------------------------

    async def _patch_params(self, flt: PatchFilter) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if flt.project:
            params["project"] = flt.project
        if flt.states:
            params["state"] = list(flt.states)
        if flt.archived is not None:
            params["archived"] = "true" if flt.archived else "false"
        if flt.submitters:
            params["submitter"] = list(flt.submitters)
        if flt.delegate:
            params["delegate"] = flt.delegate.removeprefix("u")
        if flt.series:
            params["series"] = flt.series
        params.update(_span_and_search(flt))
        if flt.msgid:
            await self._require("1.2", "filtering by msgid")
            params["msgid"] = flt.msgid.strip().removeprefix("<").removesuffix(">")
        if flt.hash:
            await self._require("1.2", "filtering by hash")
            params["hash"] = flt.hash
        if flt.order:
            params["order"] = flt.order
        return params

    async def list_patches(self, flt: PatchFilter, page: PageRequest) -> Page[Patch]:
        """Patches matching ``flt`` (Patchwork's default order: id ascending)."""
        params = await self._patch_params(flt)
        return await self._page("patches/", params, page, mapping.patch_parser(self.name))

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        """Patches as changes by last activity (``adapters/patchwork/activity.py``); filters
        pushed down where Patchwork has them."""
        raw_states = tuple(slug for slug, state in mapping.STATE_MAP.items() if state in flt.states)
        submitters: tuple[str, ...] = (flt.author,) if flt.author and "@" in flt.author else ()
        if flt.people:
            ids = await people.submitters(self, flt.people)
            if ids is None:  # nobody asked for has a person here: nothing to list
                return Page(items=(), offset=page.offset, has_next=False)
            submitters = ids
        pushed = PatchFilter(
            project=flt.projects[0] if len(flt.projects) == 1 else None,
            # a custom state maps to OPEN too: only push states down when OPEN is not asked
            states=raw_states if flt.states and ChangeState.OPEN not in flt.states else (),
            submitters=submitters,
            since=flt.updated_since,
            before=flt.updated_before,
            q=flt.search,
            # ties in date come back in id order (SQL leaves them unordered between pages)
            order="-date,id" if descending else "date,id",
        )
        # ordered by last activity (the event log), not by mail date: adapters/patchwork/activity.py
        if descending:
            found = await activity.list_by_activity(self, flt, pushed, page)
        else:
            found = await activity.list_by_activity_ascending(self, flt, pushed, page)
        return Page(items=found.items, offset=found.offset, has_next=found.has_next)

    async def link_keys(self, changes: Sequence[Any]) -> list[LinkKeys]:
        """``LinkKeyReader`` (``links.py``)."""
        return await links.link_keys(self, changes)

    async def find_linked(self, query: LinkQuery) -> list[Linked]:
        """``LinkFinder`` (``links.py``)."""
        return await links.find_linked(self, query)

    async def get_patches(self, ids: Sequence[str]) -> list[Patch | None]:
        """Patch details, one request each (the API has no multi-id lookup)."""
        return await self._details(ids, "patches", "patch", self._patch)

    async def patch_checks(self, ids: Sequence[str]) -> list[list[Check]]:
        """Each patch's checks, one list request per patch (forced by the API)."""

        async def fetch(native_id: str) -> list[Check]:
            rel = f"patches/{_check_id(native_id, self.name)}/checks/"
            items = await self.client.all_items(rel)
            return [mapping.check(self.name, d, native_id) for d in items]

        found = await fetch_each(ids, fetch)
        return [checks or [] for checks in found]

    async def _comments(self, rel: str, kind: str, parent: str, page: PageRequest) -> Page[Comment]:
        if await self.client.version() < "1.1":
            return Page(items=(), offset=page.offset, has_next=False, total=0)
        return await self._page(
            rel, {}, page, lambda d: mapping.comment(self.name, d, kind, parent)
        )

    async def patch_comments(self, patch_id: str, page: PageRequest) -> Page[Comment]:
        """Replies to a patch (empty below API 1.1, which has no comments endpoint)."""
        rel = f"patches/{_check_id(patch_id, self.name)}/comments/"
        return await self._comments(rel, "Patch", patch_id, page)

    async def download(self, url: str) -> str:
        """An mbox or raw diff by URL; the HTTP layer refuses URLs off this backend."""
        resp = await self.client.text(url)
        return resp.body.decode("utf-8", errors="replace")

    # --- writes ----------------------------------------------------------------------

    async def update_patch(self, patch_id: str, update: PatchUpdate) -> Patch:
        """Partial update (``PATCH``) of state, delegate, archived, commit_ref."""
        body = mapping.patch_update_body(update, await self._delegate_pk(update))
        if not body:
            raise BadRequest(self.name, "nothing to update")
        rel = f"patches/{_check_id(patch_id, self.name)}/"
        d = await self.client.send("PATCH", rel, body)
        return mapping.patch(self.name, d)

    async def _delegate_pk(self, update: PatchUpdate) -> int | None:
        """The user pk Patchwork's ``delegate`` needs, from a username, a person or a user id.

        ``None``: nothing to resolve (no delegate, a ``uN`` user id, or clearing it)."""
        if update.delegate_username is not None:
            wanted = update.delegate_username
            # ``q`` matches username, names and email by substring: keep the exact username
            for d in await self.client.all_items("users/", {"q": wanted}):
                if isinstance(d, dict) and d.get("username") == wanted:
                    return int(d["id"])
            raise BadRequest(self.name, f"delegate: no user named {wanted[:80]!r}")
        native = update.delegate
        if native and native.isdigit():  # a person (mail sender): their linked account
            d = await self.client.get(f"people/{native}/")
            linked = d.get("user") if isinstance(d, dict) else None
            if not isinstance(linked, dict) or "id" not in linked:
                raise BadRequest(self.name, f"delegate: person {native} has no user account")
            return int(linked["id"])
        if native and not (native.startswith("u") and native[1:].isdigit()):
            raise BadRequest(self.name, f"delegate: not a person id {native[:40]!r}")
        return None

    async def create_check(self, patch_id: str, check: NewCheck) -> Check:
        """``POST /patches/<id>/checks/``."""
        rel = f"patches/{_check_id(patch_id, self.name)}/checks/"
        d = await self.client.send("POST", rel, mapping.new_check_body(check))
        if not isinstance(d, dict):
            raise BadPayload(self.name, "check creation answered with no object")
        return mapping.check(self.name, d, patch_id)

    # --- series and covers -------------------------------------------------------------

    async def list_series(self, flt: SeriesFilter, page: PageRequest) -> Page[Series]:
        """Series matching ``flt``."""
        params = _series_params(flt)
        return await self._page("series/", params, page, lambda d: mapping.series(self.name, d))

    async def list_covers(self, flt: SeriesFilter, page: PageRequest) -> Page[Cover]:
        """Cover letters matching ``flt``, filters pushed down as for series."""
        return await self._page("covers/", _series_params(flt), page, self._cover)

    async def get_series(self, ids: Sequence[str]) -> list[Series | None]:
        """Series by id."""
        return await self._details(ids, "series", "series", self._series)

    async def get_covers(self, ids: Sequence[str]) -> list[Cover | None]:
        """Cover letters by id."""
        return await self._details(ids, "covers", "cover", self._cover)

    async def cover_comments(self, cover_id: str, page: PageRequest) -> Page[Comment]:
        """Replies to a cover letter."""
        rel = f"covers/{_check_id(cover_id, self.name)}/comments/"
        return await self._comments(rel, "Cover", cover_id, page)

    # --- people ------------------------------------------------------------------------

    async def get_people(self, ids: Sequence[str]) -> list[Person | None]:
        """People (``N``) and users (``uN``) by id; both need authentication upstream."""

        async def fetch(native_id: str) -> Person | None:
            if native_id.startswith("u"):
                d = await self.client.get(f"users/{_check_id(native_id[1:], self.name)}/")
                return mapping.guarded(self.name, "user", lambda: mapping.user(self.name, d))
            d = await self.client.get(f"people/{_check_id(native_id, self.name)}/")
            return mapping.guarded(self.name, "person", lambda: mapping.person(self.name, d))

        return await fetch_each(ids, fetch)

    async def search_people(self, term: str, limit: int) -> list[Person]:
        """People and users whose name, email (or username) contains ``term``."""
        return await people.search(self, term, limit)

    def author_keys(self, emails: Sequence[str], accounts: Sequence[str]) -> tuple[str, ...]:
        """Emails and person ids (submitters are people, see ``people.py``)."""
        return people.author_keys(emails, accounts)

    def people_are_private(self) -> bool:
        """Patchwork shows people and users to authenticated users only."""
        return True

    # --- events and bundles ----------------------------------------------------------

    async def list_users(self, search: str | None, page: PageRequest) -> Page[Person]:
        """User accounts (``users/``, authenticated only upstream); ``q`` pushed down."""
        params = {"q": search} if search else {}
        return await self._page("users/", params, page, self._user)

    def _user(self, d: dict[str, Any]) -> Person:
        found = mapping.user(self.name, d)
        if found is None:  # pragma: no cover - a list item is never null
            raise BadPayload(self.name, "null user in a list")
        return found

    async def patches_with_checks(
        self, patches: Sequence[Patch], ahead: object | None = None
    ) -> list[bool]:
        """Which patches have checks: one read of the ``check-created`` events, only those
        since the covered part of the log when earlier reads cover these patches
        (``presence.py``), issued with the list when ``ahead`` did."""
        issued = ahead if isinstance(ahead, presence.Ahead) else None
        return await presence.patches_with_checks(
            self.client, self.name, self.presence, patches, self._has_a_check, issued
        )

    def expect_checks(self, flt: PatchFilter) -> object:
        """The events read a list of ``flt`` needed last time, issued now (``presence.py``)."""
        return presence.expect(self.client, self.name, self.presence, flt)

    async def _has_a_check(self, patch_id: str) -> bool:
        rel = f"patches/{_check_id(patch_id, self.name)}/checks/"
        window = await self.client.window(rel, {}, 0, 1)
        return bool(window.items)

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        """Events, newest first (Patchwork's default order)."""
        params: dict[str, Any] = {}
        if flt.project:
            params["project"] = flt.project
        if flt.categories:
            params["category"] = list(flt.categories)
        for key in ("patch", "series", "cover"):
            if value := getattr(flt, key):
                params[key] = value
        # event dates are the server's local time (``time_zone``): filter in it too
        if flt.since:
            params["since"] = format_server_date(flt.since, self.name)
        if flt.before:
            params["before"] = format_server_date(flt.before, self.name)
        return await self._page("events/", params, page, lambda d: mapping.event(self.name, d))

    async def list_bundles(self, project: str | None, page: PageRequest) -> Page[Bundle]:
        """Bundles visible to the configured credentials (public ones anonymously)."""
        params = {"project": project} if project else {}
        return await self._page("bundles/", params, page, lambda d: mapping.bundle(self.name, d))

    async def get_bundles(self, ids: Sequence[str]) -> list[Bundle | None]:
        """Bundles by id."""
        return await self._details(ids, "bundles", "bundle", self._bundle)

    # --- compat: page-based reads and writes for the REST compatibility layer (rest.py) -----

    async def compat_version(self, requested: str | None) -> str:
        """The upstream API version serving a compat request for ``requested`` (None: /api/)."""
        return await client_mod.compat_version(self.client, requested)

    async def fetch_page(
        self, rel: str, params: Params, parse: Callable[[dict[str, Any]], T], version: str
    ) -> tuple[list[T], client_mod.PageLinks]:
        """The records of one upstream page (``params`` carry ``page``/``per_page``) and the
        page's position from the backend's ``Link`` header — one request, no count query."""
        items, links = await client_mod.compat_page(self.client, rel, params, version)
        return [mapping.guarded(self.name, rel, partial(parse, d)) for d in items], links

    async def fetch_answer(self, rel: str, params: Params, version: str) -> Response:
        """The upstream answer to one compat read, unparsed (``page_records``/``record``
        parse it); its ``cache_stamp`` lets the compat layer reuse what it rendered."""
        return await client_mod.compat_response(self.client, rel, params, version)

    def page_records(
        self, answer: Response, rel: str, parse: Callable[[dict[str, Any]], T]
    ) -> tuple[list[T], client_mod.PageLinks]:
        """The records of a list page from ``fetch_answer`` and the page's position."""
        items, links = client_mod.page_of(answer, self.name)
        return [mapping.guarded(self.name, rel, partial(parse, d)) for d in items], links

    def record(self, answer: Response, rel: str, parse: Callable[[dict[str, Any]], T]) -> T:
        """The record of an object answer from ``fetch_answer``."""
        d = answer.json()
        return mapping.guarded(self.name, rel, lambda: parse(d))

    async def fetch_one(self, rel: str, parse: Callable[[dict[str, Any]], T], version: str) -> T:
        """One API object as a record; the backend's refusal raises ``client.Refused``."""
        d = await client_mod.compat_get(self.client, rel, {}, version)
        return mapping.guarded(self.name, rel, lambda: parse(d))

    async def compat_write(
        self,
        method: str,
        rel: str,
        body: Mapping[str, Any],
        parse: Callable[[dict[str, Any]], T],
        version: str,
    ) -> T:
        """A write passed on exactly once; the answer as a record (refusals: ``Refused``)."""
        d = await client_mod.compat_send(self.client, method, rel, body, version)
        return mapping.guarded(self.name, rel, lambda: parse(d))

    async def compat_delete(self, rel: str, version: str) -> None:
        """A deletion passed on exactly once (204, no body); refusals raise ``Refused``."""
        resp = await self.http.send(
            "DELETE", f"/api/{version}/{rel}", allow_status=client_mod.REFUSAL_STATUSES
        )
        client_mod._raise_refusal(resp)  # same package (client.py is shared)

    async def compat_options(self, rel: str, version: str) -> Any:
        """The ``actions`` of the backend's OPTIONS answer for ``rel`` (``None``: none, or
        the backend did not answer with them — OPTIONS is never worth an error)."""
        try:
            resp = await self.http.send(
                "OPTIONS", f"/api/{version}/{rel}", allow_status=client_mod.REFUSAL_STATUSES
            )
            body = resp.json() if resp.status == 200 else None
        except UpstreamError:
            return None
        actions = body.get("actions") if isinstance(body, dict) else None
        return actions if isinstance(actions, dict) else None

    async def fetch_web(self, path: str, params: Params) -> Response:
        """A non-API download or redirect (mbox, raw diff), not followed."""
        return await client_mod.compat_web(self.client, path, params)


def create_source(
    name: str,
    url: str,
    http: HttpClient,
    *,
    api_version: str = "auto",
    page_size: int = 100,
    time_zone: str = "UTC",
) -> PatchworkSource:
    """The factory ``adapters.registry`` calls for ``kind = "patchwork"``."""
    set_time_zone(name, time_zone)
    return PatchworkSource(name, url, http, PatchworkClient(http, api_version, page_size))
