"""Gerrit as an anonymous user sees it, over the gateway's own account.

Gerrit shows a draft change (2.x ``status: DRAFT``), a private change (``is_private``) and a
draft patch set only to its owner and reviewers, never to anonymous users; the gateway's
account may be one of them. ``AnonymousGerritSource`` is the view ``schema/context.py``
hands anonymous callers (``GerritSource.anonymous_view``): such changes are not found and
not listed, draft patch sets are left out of a change's revisions. Lists keep consistent
positions (``adapters/visible.py``). Queries naming the signed-in user are refused earlier,
on the parsed query (``schema/gerrit.py`` ``check_query``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from adapters.gerrit.records import GerritChange
from adapters.gerrit.source import LIST_OPTIONS, GerritSource
from adapters.model import Page, PageRequest
from adapters.visible import shown_window

MAX_STEP = 500  # changes per request while skipping (Gerrit's usual query limit)


def hidden(change: GerritChange) -> bool:
    """Whether only the change's owner and reviewers may see it."""
    return change.raw_state == "DRAFT" or change.raw.get("is_private") is True


def _shown(change: GerritChange) -> GerritChange:
    if not any(r.draft for r in change.revisions):
        return change
    return replace(change, revisions=tuple(r for r in change.revisions if not r.draft))


class AnonymousGerritSource(GerritSource):
    """One Gerrit backend without its draft and private changes."""

    def __init__(self, source: GerritSource) -> None:
        # The same client, sort keys and learnt limits: a view, not another backend.
        self.__dict__.update(source.__dict__)
        self._anonymous = self

    async def query_changes(
        self, query: str, page: PageRequest, options: Sequence[str] = LIST_OPTIONS
    ) -> Page[GerritChange]:
        """Changes matching a native query that anyone may see."""

        async def fetch(window: PageRequest) -> Page[GerritChange]:
            return await GerritSource.query_changes(self, query, window, options)

        async def shown(items: Sequence[GerritChange]) -> list[bool]:
            return [not hidden(c) for c in items]

        found = await shown_window(fetch, shown, page, MAX_STEP)
        return replace(found, items=tuple(_shown(c) for c in found.items))

    async def get_changes(
        self, ids: Sequence[str], options: Sequence[str] = LIST_OPTIONS
    ) -> list[GerritChange | None]:
        """Changes by id; ``None`` for those only their owner and reviewers see."""
        found = await super().get_changes(ids, options)
        return [None if c is None or hidden(c) else _shown(c) for c in found]
