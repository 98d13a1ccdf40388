"""Linked changes on ABF (``adapters/links.py``): what ``AbfSource`` answers as a
``LinkKeyReader`` and ``LinkFinder``.

Keys of a pull request: its head sha (``from_ref.sha``, in list items and details) and the
``Change-Id:``/``Link:`` trailers of its head commit's message (the commits list: one request
per pull request). ABF's API serves no diff (``files`` has line counts only,
tests/fixtures/abf/README.md), so a pull request has no patch-id. Search: the API has no
search by sha or text; the finder reads the newest pull requests of every project the
credentials see (``/pull_requests?filter=all``, open and closed, ``SCAN`` items each: one list
request each at ABF's page size) and keeps those whose head is one of the shas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.abf.records import Commit, PullRequest, PullRequestFilter, Scope
from adapters.errors import UpstreamError
from adapters.links import Linked, LinkKeys, LinkQuery, keys_of_message, sha
from adapters.model import PageRequest

if TYPE_CHECKING:
    from adapters.abf.source import AbfSource

SCAN = 100  # newest pull requests of each list looked through for a head sha


def _keys(pr: PullRequest, commits: list[Commit] | None) -> LinkKeys:
    head = sha(pr.from_ref.sha)
    commits = commits or []
    # the head commit's message, else the newest's (the list is oldest first)
    chosen = next((c for c in commits if c.sha.lower() == head), commits[-1] if commits else None)
    change_ids, links = keys_of_message(chosen.message if chosen else None)
    return LinkKeys(
        change_ids=change_ids, link_msgids=links, shas=frozenset({head} if head else ())
    )


async def _commits(src: AbfSource, pr: PullRequest) -> list[Commit] | None:
    try:
        return await src.pull_request_commits(pr.id)
    except UpstreamError:
        return None  # the head sha still counts


async def link_keys(src: AbfSource, changes: Sequence[Any]) -> list[LinkKeys]:
    """Each pull request's keys (its commits read for the trailers)."""
    commits = await asyncio.gather(*(_commits(src, c) for c in changes))
    return [_keys(c, m) for c, m in zip(changes, commits, strict=True)]


async def find_linked(src: AbfSource, query: LinkQuery) -> list[Linked]:
    """Pull requests whose head is one of the shas (details read for the matches)."""
    if not query.shas:
        return []
    lists = [
        PullRequestFilter(scope=Scope.ALL, filter="all", status=s, sort="updated", direction="desc")
        for s in ("open", "closed")
    ]
    pages = await asyncio.gather(*(src.list_pull_requests(f, PageRequest(0, SCAN)) for f in lists))
    hits = [p for page in pages for p in page.items if sha(p.from_ref.sha) in query.shas]
    details = await src.get_pull_requests([p.id for p in hits])
    records = [d or p for d, p in zip(details, hits, strict=True)]
    keys = await link_keys(src, records)
    return [Linked(p, k) for p, k in zip(records, keys, strict=True)]
