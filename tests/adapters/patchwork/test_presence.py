"""Incremental check presence (``adapters/patchwork/presence.py``): the events read after the
first asks only since the covered end less the slack, a new check shows on the next request,
older patches, the pages cap, failures and the id bound; then end to end over the simulator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.errors import NotFound, UpstreamError
from adapters.http import HttpClient, HttpConfig
from adapters.model import CheckState, NewCheck, Patch
from adapters.patchwork import mapping, presence
from adapters.patchwork.presence import CHECK_EVENT_SLACK, Covered, Presence
from adapters.patchwork.source import PatchworkSource, create_source
from adapters.patchwork_common import format_date, parse_date
from schema.node import decode
from tests.adapters.patchwork.test_activity import T0, _patch
from tests.conftest import Gateway

HOUR = timedelta(hours=1)


def _since(minutes: float) -> str:
    return format_date(T0 + timedelta(minutes=minutes))


class _Client:
    """Patchwork's ``check-created`` events, newest first, ``since`` as ``date >= since``,
    ``page`` per page; records every read's query."""

    def __init__(self, page: int = 100) -> None:
        self.events: list[dict[str, Any]] = []
        self.page = page
        self.reads: list[dict[str, Any]] = []
        self.fail: Exception | None = None

    def check(self, pid: int, minutes: float) -> None:
        date = format_date(T0 + timedelta(minutes=minutes))
        self.events.append(
            {
                "id": len(self.events) + 1,
                "category": "check-created",
                "date": date,
                "project": {"id": 1},
                "payload": {"patch": {"id": pid, "name": "x"}, "check": {"id": 9}},
            }
        )

    async def first_items(
        self, rel: str, params: dict[str, Any], pages: int | None
    ) -> tuple[list[dict[str, Any]], bool]:
        assert rel == "events/"
        self.reads.append(dict(params))
        if self.fail is not None:
            raise self.fail
        since = parse_date(params["since"], "pw")
        found = [e for e in self.events if parse_date(e["date"], "pw") >= since]
        found.sort(key=lambda e: e["date"], reverse=True)
        cap = self.page * (pages or len(found) + 1)
        return found[:cap], len(found) <= cap


class _Asked:
    """The per-patch fallback: which patches were asked alone, and their answers."""

    def __init__(self, client: _Client) -> None:
        self.client = client
        self.ids: list[str] = []

    async def __call__(self, patch_id: str) -> bool:
        self.ids.append(patch_id)
        return any(str(e["payload"]["patch"]["id"]) == patch_id for e in self.client.events)


async def _ask(
    client: _Client, state: Presence, patches: Sequence[Patch], asked: _Asked | None = None
) -> list[bool]:
    return await presence.patches_with_checks(
        client,  # type: ignore[arg-type]
        "pw",
        state,
        patches,
        asked or _Asked(client),
    )


def _read(since: str) -> dict[str, Any]:
    return {"category": "check-created", "since": since, "project": "1"}


async def test_second_read_asks_since_the_covered_end_less_the_slack() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    client.check(3, 40)
    patches = [_patch(1, 0), _patch(2, 5), _patch(3, 30)]
    assert await _ask(client, state, patches) == [True, False, True]
    assert state.coverage("1") == Covered(T0 - HOUR, T0 + timedelta(minutes=40))
    assert await _ask(client, state, patches) == [True, False, True]
    # the first read from the oldest patch less the slack, the second from the newest
    # event seen less the slack
    assert client.reads == [_read(_since(-60)), _read(_since(40 - 60))]


async def test_a_new_check_shows_on_the_next_request() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    patches = [_patch(1, 0), _patch(2, 5)]
    assert await _ask(client, state, patches) == [True, False]
    client.check(2, 90)
    assert await _ask(client, state, patches) == [True, True]
    assert client.reads[-1] == _read(_since(10 - 60))
    # known to have a check now: a patch whose checks cannot go away needs no read
    assert await _ask(client, state, patches) == [True, True]
    assert len(client.reads) == 2


async def test_an_event_dated_inside_the_slack_but_listed_late_is_read() -> None:
    client, state = _Client(), Presence()
    client.check(1, 50)
    patches = [_patch(1, 0), _patch(2, 5)]
    assert await _ask(client, state, patches) == [True, False]
    client.check(2, 45)  # committed after the first read, dated before its newest event
    assert await _ask(client, state, patches) == [True, True]


async def test_patches_older_than_coverage_read_the_wide_window_again() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    client.check(7, -300)
    assert await _ask(client, state, [_patch(1, 0), _patch(2, 5)]) == [True, False]
    older = [_patch(7, -240), _patch(8, -200), _patch(2, 5)]
    assert await _ask(client, state, older) == [True, False, False]
    assert client.reads[-1] == _read(_since(-240 - 60))
    assert state.coverage("1") == Covered(T0 - timedelta(minutes=300), T0 + 10 * timedelta(0, 60))


async def test_the_pages_cap_narrows_coverage_and_asks_older_patches_alone() -> None:
    client, state = _Client(page=2), Presence()
    for minute in range(100, 110):  # ten events of patches 100…109, two per page
        client.check(minute, minute)
    client.check(1, 1)
    patches = [_patch(1, 0), _patch(2, 0), _patch(105, 95), _patch(300, 170)]
    asked = _Asked(client)
    assert await _ask(client, state, patches, asked) == [True, False, True, False]
    assert len(client.reads) == 1  # one read, cut after CHECK_EVENT_PAGES pages
    # the six newest events read (104…109): older patches are asked one by one
    assert state.coverage("1") == Covered(
        T0 + timedelta(minutes=104, microseconds=1), T0 + 109 * timedelta(0, 60)
    )
    assert asked.ids == ["1", "2"]  # 105 was read; 300 is newer than the oldest read + slack
    # a newer patch alone: from the covered end less the slack, nobody asked alone
    again = _Asked(client)
    assert await _ask(client, state, [_patch(300, 170)], again) == [False]
    assert client.reads[-1] == _read(_since(109 - 60)) and again.ids == []


async def test_a_failed_read_does_not_advance_coverage() -> None:
    client, state = _Client(), Presence()
    client.check(1, 10)
    patches = [_patch(1, 0), _patch(2, 5)]
    await _ask(client, state, patches)
    covered = state.coverage("1")
    client.check(2, 120)
    client.fail = UpstreamError("pw", "boom", status=502)
    with pytest.raises(UpstreamError):
        await _ask(client, state, patches)
    client.fail = NotFound("pw", "no event log")
    assert await _ask(client, state, patches) == [True, True]  # the server's own word
    assert state.coverage("1") == covered and not state.checked("2")
    client.fail = None
    assert await _ask(client, state, patches) == [True, True]
    assert client.reads[-1] == _read(_since(10 - 60))


async def test_the_id_bound_drops_the_least_recent_and_narrows_coverage() -> None:
    client, state = _Client(), Presence(ids=2)
    client.check(1, 10)
    client.check(2, 20)
    client.check(3, 30)
    patches = [_patch(1, 0), _patch(2, 0), _patch(3, 0), _patch(4, 0)]
    assert await _ask(client, state, patches) == [True, True, True, False]
    assert [state.checked(i) for i in "123"] == [False, True, True]
    # patch 1's check event is forgotten: coverage now starts after it, so patch 1 is asked
    # about again (a wide read) rather than answered "no check"
    assert state.floor == T0 + timedelta(minutes=10, microseconds=1)
    assert state.coverage("1") == Covered(state.floor, T0 + timedelta(minutes=30))
    assert await _ask(client, state, [_patch(1, 0), _patch(4, 0)]) == [True, False]
    assert client.reads[-1] == _read(_since(-60))


def test_the_project_filter_bound() -> None:
    state = Presence(filters=2)
    for key in ("1", "2", "3"):
        state.saw(key, [], Covered(T0, T0))
    assert [state.coverage(k) for k in ("1", "2", "3")] == [None, Covered(T0, T0), Covered(T0, T0)]


def test_event_mark_agrees_with_the_full_event() -> None:
    d = {
        "id": 5,
        "category": "check-created",
        "date": "2026-01-01T12:30:00.000123",
        "project": {"id": 1, "name": "p", "link_name": "p", "list_id": "p", "list_email": "p@x"},
        "payload": {"patch": {"id": 44, "name": "x"}, "check": {"id": 2}},
    }
    event = mapping.event("pw", d)
    assert mapping.check_event_mark("pw", d) == (event.patch_id, event.date) == ("44", event.date)


LIST = '{ patches(first: 100, filter: {project: "%s"}) { nodes { id checkState rawCheckState } } }'


def _query_since(path: str) -> datetime:
    return parse_date(parse_qs(urlsplit(path).query)["since"][0], "pw")


async def test_over_the_simulator_a_first_check_flips_null_to_its_state(
    big_gateway: Gateway,
) -> None:
    src = big_gateway.sources["pw"]
    assert isinstance(src, PatchworkSource)
    query = LIST % "generated"
    first = await big_gateway.query(query)
    nodes = first["data"]["patches"]["nodes"]
    bare = [n for n in nodes if n["rawCheckState"] == "pending" and n["checkState"] is None]
    assert bare, "generated data has pending patches without checks"
    covered = next(iter(src.presence._covered.values()))
    before = len(big_gateway.sim.state.requests)
    patch_id = decode(bare[0]["id"], "Patch").native
    await src.create_check(patch_id, NewCheck(state=CheckState.FAILURE, context="ci"))
    second = await big_gateway.query(query)
    reads = [p for _, p in big_gateway.sim.state.requests[before:] if "/events/" in p]
    assert len(reads) == 1
    assert _query_since(reads[0]) == covered.until - CHECK_EVENT_SLACK
    got = {n["id"]: n["checkState"] for n in second["data"]["patches"]["nodes"]}
    assert got[bare[0]["id"]] == "FAILURE"
    assert all(got[n["id"]] is None for n in bare[1:])


def test_callers_with_their_own_token_share_the_backends_presence() -> None:
    http = HttpClient(HttpConfig(backend="pw", base_url="http://127.0.0.1:9", retries=0))
    src = create_source("pw", "http://127.0.0.1:9", http)
    other = create_source("pw", "http://127.0.0.1:9", http)
    assert src.with_token("t0k3n").presence is src.presence
    assert other.presence is not src.presence  # a source of its own (a reload) starts afresh
