"""A Gerrit query answer that comes back unchanged is not decoded or mapped again.

``GerritClient.query_mapped`` keeps a query answer's records by its content stamp
(``adapters/stamps.py``): the first read keeps nothing, its first repeat maps and keeps, later
repeats give back the very same records. Every query still goes upstream, so a change shows
in the next answer; without content stamps (``content_memo = false``) every answer is mapped.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.gerrit import mapping
from adapters.gerrit.source import GerritSource
from adapters.model import PageRequest
from adapters.registry import BackendSpec, build_source
from tests.adapters.gerrit.conftest import ADMIN, gerrit
from tests.conftest import count_calls

QUERY = "status:open"


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many query answers the Gerrit mapping has mapped."""
    return count_calls(monkeypatch, mapping, "changes")


async def _ids(src: GerritSource) -> tuple[Any, ...]:
    return (await src.query_changes(QUERY, PageRequest(0, 25))).items


async def test_an_unchanged_answer_gives_back_its_records(mapped: list[int]) -> None:
    async with gerrit() as (src, running):
        first, second, third = [await _ids(src) for _ in range(3)]
        assert mapped[0] == 2  # the first read keeps nothing; its first repeat maps and keeps
        assert first == second == third and len(third) > 1
        assert all(a is b for a, b in zip(second, third, strict=True))
        before = len(running.state.requests)
        await _ids(src)
        assert len(running.state.requests) == before + 1  # still read upstream
        change = third[0]
        await src.set_topic(change.id, "memo-test")
        changed = await _ids(src)
        assert mapped[0] == 3
        assert next(c for c in changed if c.id == change.id).topic == "memo-test"


async def test_without_content_stamps_every_answer_is_mapped(mapped: list[int]) -> None:
    async with gerrit() as (_, running):
        spec = BackendSpec(
            name="g", kind="gerrit", url=running.url, credentials=ADMIN, content_memo=False
        )
        src = build_source(spec)
        assert isinstance(src, GerritSource)
        await src.open()
        try:
            answers = [await _ids(src) for _ in range(3)]
        finally:
            await src.close()
        assert mapped[0] == 3 and answers[0] == answers[2]
        assert answers[1][0] is not answers[2][0]
