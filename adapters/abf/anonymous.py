"""ABF as an anonymous user sees it, over the gateway's own credential.

ABF hides a project with ``visibility: "hidden"`` (and its pull requests) from everyone but
its members; the gateway's account may be one. ``AnonymousAbfSource`` is the view
``schema/context.py`` hands anonymous callers instead of the backend itself (one per backend,
shared by anonymous callers: ``AbfSource.anonymous_view``), so every entry
point (project and pull request lists, ``node(id)``, nested fields, the federated
``changes`` and events, writes) goes through one place: a hidden project is not found, its
pull requests are not listed and not found.

Only project details say the visibility; list items and the projects inline in pull
requests of the real server do not, so a project whose visibility is unknown is read in
detail (its answer is ETag-cached by the client) and remembered for ``TTL`` seconds: a project
hidden meanwhile may show for that long.

List positions count visible items only, so a hidden item never shifts a cursor
(``adapters/visible.py``).

What ABF only answers about "the authenticated user" is the gateway account's own: its
identity (``viewer``), ``/user/pull_requests`` (its projects) and the ``assigned``/``created``
lists (ABF's default filter). An anonymous caller gets ``SignInRequired`` (GraphQL
``UNAUTHENTICATED``) for those, before any upstream request; ``filter: all`` of the
user-wide and group lists is served without hidden projects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from adapters.abf import mapping
from adapters.abf.client import MAX_PER_PAGE
from adapters.abf.records import (
    Commit,
    FileChange,
    NewPullRequest,
    PullRequest,
    PullRequestFilter,
    PullRequestUpdate,
    Scope,
)
from adapters.abf.source import AbfSource
from adapters.base import fetch_each
from adapters.errors import NotFound, SignInRequired
from adapters.model import Page, PageRequest, Person, Project
from adapters.visible import Fetch, shown_window

T = TypeVar("T")

TTL = 60.0  # seconds a learnt visibility is trusted (a project may be hidden later)


class AnonymousAbfSource(AbfSource):
    """One ABF backend without its hidden projects."""

    def __init__(self, source: AbfSource) -> None:
        super().__init__(source.name, source.url, source.http, source.client)
        self._public: dict[str, tuple[bool, float]] = {}  # project id → (public, when)

    def anonymous_view(self) -> AbfSource:
        return self

    async def are_public(self, projects: Sequence[Project]) -> list[bool]:
        """Whether anyone may see each project (details read where it is not known)."""
        now = time.monotonic()
        for p in projects:
            if "visibility" in p.raw:
                self._public[p.id] = (p.public, now)
        unknown = list(
            dict.fromkeys(
                p.id for p in projects if now - self._public.get(p.id, (True, -TTL))[1] >= TTL
            )
        )
        if unknown:
            found = await fetch_each(unknown, self._detail)
            for pid, detail in zip(unknown, found, strict=True):
                self._public[pid] = (detail is not None and detail.public, now)
        return [self._public[p.id][0] for p in projects]

    async def _detail(self, key: str) -> Project:
        # The unchecked lookups of AbfSource: the checked ones come back here.
        pid = await AbfSource.project_id(self, key)
        found = mapping.project(self.name, await self.client.get(f"projects/{pid}"), self.web_base)
        self._public[found.id] = (found.public, time.monotonic())
        return found

    async def check_visible(self, project_id: str) -> str:
        """``project_id`` when anyone may see it, else ``NotFound``."""
        (public,) = await self.are_public([Project(self.name, project_id, "", "", raw={})])
        if not public:
            raise NotFound(self.name, f"no such project {project_id[:40]!r}")
        return project_id

    async def _window(
        self, fetch: Fetch[T], project: Callable[[T], Project], page: PageRequest
    ) -> Page[T]:
        async def shown(items: Sequence[T]) -> list[bool]:
            return await self.are_public([project(x) for x in items])

        return await shown_window(fetch, shown, page, MAX_PER_PAGE)

    # --- projects ----------------------------------------------------------------------

    async def list_projects(self, page: PageRequest) -> Page[Project]:
        """Projects anyone may see."""
        return await self._window(super().list_projects, lambda p: p, page)

    async def project_id(self, key: str) -> str:
        """A visible project's numeric id (a hidden one is not found)."""
        return await self.check_visible(await super().project_id(key))

    async def get_projects(self, ids: Sequence[str]) -> list[Project | None]:
        """Projects by id; ``None`` for hidden ones (details say their visibility)."""
        found = await fetch_each(ids, self._detail)
        return [p if p is not None and p.public else None for p in found]

    # --- pull requests ---------------------------------------------------------------

    async def list_pull_requests(
        self, flt: PullRequestFilter, page: PageRequest
    ) -> Page[PullRequest]:
        """One of ABF's lists without the pull requests of hidden projects."""
        if flt.scope is Scope.USER or (
            flt.scope is not Scope.PROJECT and (flt.filter or "assigned") != "all"
        ):
            which = "the user's projects" if flt.scope is Scope.USER else "assigned/created"
            raise SignInRequired(
                self.name,
                f"this pull request list ({which}) is the signed-in user's: send an API key, "
                "or use involvement ALL",
            )

        async def fetch(window: PageRequest) -> Page[PullRequest]:
            return await AbfSource.list_pull_requests(self, flt, window)

        return await self._window(fetch, lambda pr: pr.project, page)

    async def get_pull_requests(self, ids: Sequence[str]) -> list[PullRequest | None]:
        """Pull requests by id; ``None`` for those of hidden projects (none read)."""
        wanted = [i.partition("/")[0] for i in ids]
        known = [Project(self.name, pid, "", "", raw={}) for pid in wanted if pid.isdigit()]
        public = dict(zip((p.id for p in known), await self.are_public(known), strict=True))
        asked = [i for i, pid in zip(ids, wanted, strict=True) if public.get(pid, True)]
        found = dict(zip(asked, await super().get_pull_requests(asked), strict=True))
        return [found.get(i) for i in ids]

    async def viewer(self) -> Person:
        """The signed-in user: the gateway's own account, not an anonymous caller's."""
        raise SignInRequired(self.name, "there is no signed-in user: send an API key")

    async def pull_request_commits(self, pr_id: str) -> list[Commit]:
        await self.check_visible(self._pr_key(pr_id)[0])
        return await super().pull_request_commits(pr_id)

    async def pull_request_files(self, pr_id: str) -> list[FileChange]:
        await self.check_visible(self._pr_key(pr_id)[0])
        return await super().pull_request_files(pr_id)

    async def create_pull_request(self, project: str, new: NewPullRequest) -> PullRequest:
        await self.project_id(project)
        return await super().create_pull_request(project, new)

    async def update_pull_request(self, pr_id: str, update: PullRequestUpdate) -> PullRequest:
        await self.check_visible(self._pr_key(pr_id)[0])
        return await super().update_pull_request(pr_id, update)

    async def merge_pull_request(self, pr_id: str, message: str | None) -> PullRequest:
        await self.check_visible(self._pr_key(pr_id)[0])
        return await super().merge_pull_request(pr_id, message)
