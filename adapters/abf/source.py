"""An ABF backend instance: reads, batch functions and writes over its client.

Implements ``Source``, ``Pinger``, ``ProjectReader``, ``PersonReader``, ``ChangeLister``,
``EventReader`` (``adapters/base.py``) and
``PullRequestReader``, ``PullRequestWriter``, ``GroupReader`` (``adapters/abf/ports.py``) and
``ChangeActor`` (``adapters/actions.py``, in ``actions.py``).

ABF has no multi-id lookups, so a batch of ids becomes concurrent detail requests; the ETag
cache in the client turns repeated reads of unchanged objects into ``304`` answers. Filters
are pushed down to ABF's own query parameters.

After a write the pull request is read back, so callers get the record as ABF now has it.
The real server answers a create with its internal database ``id``, not the pull request's
``number``: the new pull request is found in the project's newest open pull requests by the
id in its ``url`` (which the real server builds from that database id) or, failing that, by
its title and refs.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from adapters.abf import changes, links, mapping
from adapters.abf.actions import AbfActions
from adapters.abf.client import MAX_PER_PAGE, AbfClient
from adapters.abf.records import (
    Commit,
    FileChange,
    Group,
    NewPullRequest,
    PullRequest,
    PullRequestFilter,
    PullRequestUpdate,
    Scope,
)
from adapters.base import ChangeFilter, EventFilter, PooledSource, fetch_each
from adapters.errors import BadPayload, BadRequest, Conflict, NotFound
from adapters.http import HttpClient, Params, Response
from adapters.links import Linked, LinkKeys, LinkQuery
from adapters.model import ChangeRecord, ChangeState, Event, Page, PageRequest, Person, Project
from adapters.passthrough import Forward
from adapters.paths import digits
from adapters.people import author_matches

R = TypeVar("R")

KIND = "abf"


class AbfSource(PooledSource, AbfActions):
    """One configured ABF server."""

    kind = KIND
    LIST_WAVES = 3  # the lists, their heads' details, the details that can reach the page

    def __init__(self, name: str, url: str, http: HttpClient, client: AbfClient) -> None:
        self.name = name
        self.url = url
        self.http = http
        self.client = client
        self.web_base = url.rstrip("/")
        self._anonymous: AbfSource | None = None
        self._walks = changes.Walks()  # the lists of each ``changes`` walk (its later windows)

    def with_token(self, token: str) -> AbfSource:
        """This backend as the user owning ``token`` (sent as ABF's basic-auth login), on the
        same pooled session (see ``CallerCredentials``); used by the REST compat layer."""
        creds = replace(self.http.config.credentials, token=token, username=None, password=None)
        http = self.http.with_credentials(creds)
        return AbfSource(self.name, self.url, http, AbfClient(http))

    async def passthrough(self, forward: Forward, *, anonymous: bool) -> Response:
        """One raw exchange for a route the compat router does not model
        (``adapters/passthrough.py``): with ABF's token login, or with none."""
        return await self.client.passthrough(forward, anonymous=anonymous)

    def anonymous_view(self) -> AbfSource:
        """This backend as an anonymous user sees it (no hidden projects), on the same client:
        one view per source, so anonymous callers share what it learnt of visibility and
        their event poller (``adapters/abf/anonymous.py``)."""
        if self._anonymous is None:
            from adapters.abf.anonymous import AnonymousAbfSource  # it subclasses this class

            self._anonymous = AnonymousAbfSource(self)
        return self._anonymous

    async def compat_get(self, rel: str, params: Params) -> Response:
        """ABF's answer to one compat GET (``rel`` without ``.json``), refusals too."""
        return await self.client.compat_get(rel, params)

    async def compat_send(self, method: str, rel: str, body: Mapping[str, Any]) -> Response:
        """ABF's answer to one compat write, sent exactly once."""
        return await self.client.compat_send(method, rel, body)

    # --- ids ---------------------------------------------------------------------------

    def _number_id(self, value: str, what: str) -> str:
        if digits(value) is None:
            raise NotFound(self.name, f"no such {what} {value[:40]!r}")
        return value

    def _pr_key(self, pr_id: str) -> tuple[str, str]:
        project, _, number = pr_id.partition("/")
        if digits(project) is None or digits(number) is None:
            raise NotFound(self.name, f"no such pull request {pr_id[:40]!r}")
        return project, number

    # --- projects ----------------------------------------------------------------------

    async def list_projects(self, page: PageRequest) -> Page[Project]:
        """Projects the credentials can see (``GET /projects``)."""
        window = await self.client.window("projects", "projects", {}, page.offset, page.count)
        items = tuple(mapping.project(self.name, d, self.web_base) for d in window.items)
        return Page(items=items, offset=page.offset, has_next=window.has_next, total=window.total)

    async def project_id(self, key: str) -> str:
        """A project's numeric id from its id or ``owner/name`` (``GET /projects/get_id``)."""
        if digits(key) is not None:
            return key
        owner, _, name = key.partition("/")
        if not owner or not name or "/" in name:
            raise NotFound(self.name, f"no such project {key[:60]!r} (expected owner/name)")
        d = await self.client.get("projects/get_id", {"name": name, "owner": owner})
        found = mapping.project(self.name, d, self.web_base).id
        if digits(found) is None:  # it goes into paths: never trust it to be a number
            raise BadPayload(self.name, "project id is not a number")
        return found

    async def get_projects(self, ids: Sequence[str]) -> list[Project | None]:
        """Projects by id or ``owner/name``."""

        async def fetch(key: str) -> Project:
            d = await self.client.get(f"projects/{await self.project_id(key)}")
            return mapping.project(self.name, d, self.web_base)

        return await fetch_each(ids, fetch)

    # --- people and groups ---------------------------------------------------------------

    async def get_people(self, ids: Sequence[str]) -> list[Person | None]:
        """Users by id."""

        async def fetch(native_id: str) -> Person:
            d = await self.client.get(f"users/{self._number_id(native_id, 'user')}")
            return mapping.user(self.name, d)

        return await fetch_each(ids, fetch)

    async def search_people(self, term: str, limit: int) -> list[Person]:
        """``GET /search?type=users&query=<term>`` (rosa-build's ``api/v1/search``: users
        whose login or name contains it; users carry no email there)."""
        found = await self.client.get("search", {"type": "users", "query": term})
        results = found.get("results") if isinstance(found, Mapping) else None
        users = results.get("users") if isinstance(results, Mapping) else None
        people = [mapping.person(self.name, d) for d in users or () if isinstance(d, Mapping)]
        return [p for p in people if p is not None][:limit]

    def author_keys(self, emails: Sequence[str], accounts: Sequence[str]) -> tuple[str, ...]:
        """Logins or user ids only: ABF shows no emails on pull requests."""
        return tuple(dict.fromkeys(a for a in accounts if "@" not in a))

    async def viewer(self) -> Person:
        """The authenticated user (``GET /user``)."""
        return mapping.user(self.name, await self.client.get("user"))

    async def get_groups(self, ids: Sequence[str]) -> list[Group | None]:
        """Groups by id."""

        async def fetch(native_id: str) -> Group:
            d = await self.client.get(f"groups/{self._number_id(native_id, 'group')}")
            return mapping.group(self.name, d)

        return await fetch_each(ids, fetch)

    # --- pull requests: reads ----------------------------------------------------------

    async def list_pull_requests(
        self, flt: PullRequestFilter, page: PageRequest
    ) -> Page[PullRequest]:
        """One of ABF's four pull request lists, with its filters."""
        params = mapping.list_params(flt)
        offset, count = page.offset, page.count
        if flt.scope is Scope.PROJECT:
            if not flt.project:
                raise BadRequest(self.name, "a project is needed to list its pull requests")
            rel = f"projects/{await self.project_id(flt.project)}/pull_requests"
            window = await self.client.window(rel, "pull_requests", params, offset, count)
        elif flt.scope is Scope.GROUP:
            if not flt.group:
                raise BadRequest(self.name, "a group is needed to list its pull requests")
            group = self._number_id(flt.group, "group")
            window = await self.client.group_pull_requests(group, params, offset, count)
        else:
            rel = "user/pull_requests" if flt.scope is Scope.USER else "pull_requests"
            window = await self.client.window(rel, "pull_requests", params, offset, count)
        items = tuple(mapping.pull_request(self.name, d, self.web_base) for d in window.items)
        return Page(items=items, offset=offset, has_next=window.has_next, total=window.total)

    async def _get_pull(self, pr_id: str) -> PullRequest:
        project, number = self._pr_key(pr_id)
        return await self.client.get_mapped(
            f"projects/{project}/pull_requests/{number}",
            ("pull_request", self.name, self.web_base),
            self._pull_request,
        )

    def _pull_request(self, d: Any) -> PullRequest:
        return mapping.pull_request(self.name, d, self.web_base)

    async def get_pull_requests(self, ids: Sequence[str]) -> list[PullRequest | None]:
        """Pull request details, one request each (the API has no multi-id lookup)."""
        return await fetch_each(ids, self._get_pull)

    async def _all(self, rel: str, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            window = await self.client.window(rel, key, {}, len(items), MAX_PER_PAGE)
            items.extend(window.items)
            if not window.has_next:
                return items

    async def pull_request_commits(self, pr_id: str) -> list[Commit]:
        """Every commit of a pull request (ABF pages them, 20 by default)."""
        project, number = self._pr_key(pr_id)
        rel = f"projects/{project}/pull_requests/{number}/commits"
        return [mapping.commit(self.name, d) for d in await self._all(rel, "commits")]

    async def link_keys(self, changes: Sequence[Any]) -> list[LinkKeys]:
        """``LinkKeyReader`` (``links.py``)."""
        return await links.link_keys(self, changes)

    async def find_linked(self, query: LinkQuery) -> list[Linked]:
        """``LinkFinder`` (``links.py``)."""
        return await links.find_linked(self, query)

    async def pull_request_files(self, pr_id: str) -> list[FileChange]:
        """Every file a pull request changes."""
        project, number = self._pr_key(pr_id)
        rel = f"projects/{project}/pull_requests/{number}/files"
        return [mapping.file_change(self.name, d) for d in await self._all(rel, "files")]

    # --- pull requests: writes ---------------------------------------------------------

    async def create_pull_request(self, project: str, new: NewPullRequest) -> PullRequest:
        """``POST /projects/:id/pull_requests``, then the new pull request read back."""
        project_id = await self.project_id(project)
        if new.from_project:
            new = NewPullRequest(
                title=new.title,
                body=new.body,
                to_ref=new.to_ref,
                from_ref=new.from_ref,
                assignee_id=new.assignee_id,
                from_project=await self.project_id(new.from_project),
            )
        answer = await self.client.send(
            "POST", f"projects/{project_id}/pull_requests", mapping.new_pull_request_body(new)
        )
        value, message = mapping.write_answer(self.name, answer)
        if value is None:
            raise BadRequest(self.name, message or "ABF did not create the pull request")
        if mapping.answer_is_number(answer):
            return await self._get_pull(f"{project_id}/{value}")
        return await self._find_created(project_id, value, new)

    async def _find_created(self, project_id: str, db_id: int, new: NewPullRequest) -> PullRequest:
        flt = PullRequestFilter(
            scope=Scope.PROJECT, project=project_id, sort="submitted", direction="desc"
        )
        newest = await self.list_pull_requests(flt, PageRequest(0, 20))
        suffix = f"/pull_requests/{db_id}.json"
        for pr in newest.items:
            if pr.api_url and pr.api_url.endswith(suffix):
                return await self._get_pull(pr.id)
        for pr in newest.items:
            if (pr.title, pr.to_ref.ref, pr.from_ref.ref) == (new.title, new.to_ref, new.from_ref):
                return await self._get_pull(pr.id)
        raise BadPayload(self.name, "created a pull request but cannot find it in the project")

    async def update_pull_request(self, pr_id: str, update: PullRequestUpdate) -> PullRequest:
        """``PUT /projects/:id/pull_requests/:number``, then read back.

        ABF answers 200 even when it ignored a status change it could not make (closing a
        merged pull request, reopening an open one); that comes back as ``Conflict``.
        """
        body = mapping.update_body(update)
        if not body:
            raise BadRequest(self.name, "nothing to update")
        project, number = self._pr_key(pr_id)
        answer = await self.client.send("PUT", f"projects/{project}/pull_requests/{number}", body)
        mapping.write_answer(self.name, answer)
        after = await self._get_pull(pr_id)
        if update.status == "close" and after.state is not ChangeState.CLOSED:
            raise Conflict(self.name, f"ABF did not close the pull request ({after.raw_state})")
        if update.status == "reopen" and after.state is not ChangeState.OPEN:
            raise Conflict(self.name, f"ABF did not reopen the pull request ({after.raw_state})")
        return after

    async def merge_pull_request(self, pr_id: str, message: str | None) -> PullRequest:
        """``PUT /projects/:id/pull_requests/:number/merge``, then read back."""
        project, number = self._pr_key(pr_id)
        rel = f"projects/{project}/pull_requests/{number}/merge"
        mapping.write_answer(
            self.name, await self.client.send("PUT", rel, mapping.merge_body(message))
        )
        return await self._get_pull(pr_id)

    # --- federation: changes and events -------------------------------------------------

    async def ping(self) -> None:
        """One cheap request (``GET /user``) for readiness probes."""
        await self.client.get("user")

    async def _stream(self, flt: PullRequestFilter, need: int) -> tuple[list[PullRequest], bool]:
        """The first ``need`` pull requests of one list, as details, and whether more follow."""
        window = await self.list_pull_requests(flt, PageRequest(0, need))
        found = await self.get_pull_requests([p.id for p in window.items])
        # A pull request that vanished between the list and its detail keeps its list item.
        return [d or p for d, p in zip(found, window.items, strict=True)], window.has_next

    async def list_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[ChangeRecord]:
        """Pull requests by update time for the federated ``changes`` list, reading details
        only as far as the merge can use them (``adapters/abf/changes.py``)."""
        lists = self._change_lists(flt, descending)
        if not lists:
            return Page(items=(), offset=page.offset, has_next=False, total=page.offset)

        async def read_lists(need: int) -> list[tuple[list[PullRequest], bool]]:
            if not flt.people:
                reads = [self.list_pull_requests(f, PageRequest(0, need)) for f in lists]
                return await changes.gather_lists(reads)
            # ABF cannot filter by author, but list items name their owner: keep the people's
            # items before any detail is read (a page of theirs, not a detail per item).
            reads = [
                self.list_pull_requests(f, PageRequest(0, max(need, MAX_PER_PAGE))) for f in lists
            ]
            found = await changes.gather_lists(reads)
            return [([p for p in ps if author_matches(p.author, flt.people)], m) for ps, m in found]

        async def read_details(items: Sequence[PullRequest]) -> list[PullRequest]:
            found = await self.get_pull_requests([p.id for p in items])
            # A pull request that vanished between the list and its detail keeps its item.
            return [d or p for d, p in zip(found, items, strict=True)]

        # per source: the anonymous view and each caller have their own
        key = (tuple(lists), flt.people)
        found = await self._walks.window(key, page, descending, read_lists, read_details)
        return Page(items=found.items, offset=found.offset, has_next=found.has_next)

    def _change_lists(self, flt: ChangeFilter, descending: bool) -> list[PullRequestFilter]:
        """The ABF lists holding ``flt``'s changes: open and/or closed, sorted by update."""
        direction = "desc" if descending else "asc"
        base = PullRequestFilter(scope=Scope.ALL, filter="all", sort="updated", direction=direction)
        if len(flt.projects) == 1:
            base = replace(base, scope=Scope.PROJECT, project=flt.projects[0], filter=None)
        return [replace(base, status=s) for s in mapping.list_statuses(flt.states)]

    async def list_pull_request_changes(
        self, flt: ChangeFilter, page: PageRequest, descending: bool
    ) -> Page[PullRequest]:
        """``list_changes`` with the records' own type.

        Pushed down: the project (when exactly one), the state (ABF lists open or closed
        pull requests), ``sort=updated`` and the direction. ABF's ``since`` compares the
        creation time, which is stricter than ``updatedSince``: not pushed, the gateway
        applies it with every other filter. List items carry no update time, so each item
        of the window is read in detail (concurrently; unchanged ones are ``304``s).
        Without a state filter the open and the closed lists are merged here, which reads
        ``offset + count`` items of each.
        """
        lists = self._change_lists(flt, descending)
        if not lists:
            return Page(items=(), offset=page.offset, has_next=False, total=page.offset)
        if len(lists) == 1:
            window = await self.list_pull_requests(lists[0], page)
            found = await self.get_pull_requests([p.id for p in window.items])
            items = tuple(d or p for d, p in zip(found, window.items, strict=True))
            return Page(items=items, offset=page.offset, has_next=window.has_next)
        need = page.offset + page.count
        streams = await asyncio.gather(*(self._stream(flt_, need) for flt_ in lists))
        merged = list(
            heapq.merge(
                *(items for items, _ in streams),
                key=lambda p: p.updated_at,
                reverse=descending,
            )
        )
        more = len(merged) > need or any(has_next for _, has_next in streams)
        return Page(items=tuple(merged[page.offset : need]), offset=page.offset, has_next=more)

    async def list_events(self, flt: EventFilter, page: PageRequest) -> Page[Event]:
        """Each pull request's latest update as an event, newest first (ABF has no log).

        ``project`` and ``since`` are honoured; ``since`` ends the list at the first older
        update. ``categories``, ``before`` and the patch/series/cover filters, which would
        make windows drop items in the middle, are not.
        """
        changes = ChangeFilter(projects=(flt.project,) if flt.project else ())
        window = await self.list_pull_request_changes(changes, page, descending=True)
        events = [mapping.event(pr) for pr in window.items]
        if flt.since is not None:
            fresh = [e for e in events if e.date >= flt.since]
            if len(fresh) < len(events):
                return Page(items=tuple(fresh), offset=page.offset, has_next=False)
        return Page(items=tuple(events), offset=page.offset, has_next=window.has_next)


def create_source(name: str, url: str, http: HttpClient) -> AbfSource:
    """The factory ``adapters.registry`` calls for ``kind = "abf"``."""
    return AbfSource(name, url, http, AbfClient(http))
