"""The Patchwork client and source against real recorded responses (replay server)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.base import PatchFilter
from adapters.errors import NotFound
from adapters.http import HttpClient, HttpConfig
from adapters.model import PageRequest
from adapters.paging import choose_per_page
from adapters.patchwork.client import PatchworkClient
from adapters.patchwork.source import PatchworkSource, create_source
from tests.replay import ReplayState, start_replay


@pytest.fixture
async def replay() -> AsyncIterator[tuple[PatchworkSource, ReplayState]]:
    server, state = await start_replay()
    url = str(server.make_url("")).rstrip("/")
    http = HttpClient(HttpConfig(backend="rec", base_url=url, retries=0))
    source = create_source("rec", url, http, page_size=100)
    await source.open()
    try:
        yield source, state
    finally:
        await source.close()
        await server.close()


@pytest.mark.parametrize(
    "offset, count, expected",
    [(0, 30, 30), (30, 30, 30), (5, 10, 15), (95, 10, 15), (0, 1, 1), (99, 2, 3)],
)
def test_client_choose_per_page_holds_window_in_one_page(
    offset: int, count: int, expected: int
) -> None:
    size = choose_per_page(offset, count, 250)
    assert size == expected
    assert offset // size == (offset + count - 1) // size


def test_client_choose_per_page_falls_back_when_cap_too_small() -> None:
    assert choose_per_page(9, 5, 6) == 5


async def test_client_detects_newest_version(
    replay: tuple[PatchworkSource, ReplayState],
) -> None:
    source, state = replay
    assert await source.client.version() == "1.3"
    assert await source.client.version() == "1.3"
    assert state.requests == ["GET /api/1.3/"]


async def test_client_detects_older_server(replay: tuple[PatchworkSource, ReplayState]) -> None:
    source, state = replay
    state.hidden.add("/api/1.3/")
    state.hidden.add("/api/1.2/")
    assert await source.client.version() == "1.1"
    assert state.requests == ["GET /api/1.3/", "GET /api/1.2/", "GET /api/1.1/"]


async def test_client_fixed_version_does_not_probe() -> None:
    server, state = await start_replay()
    try:
        url = str(server.make_url("")).rstrip("/")
        http = HttpClient(HttpConfig(backend="rec", base_url=url, retries=0))
        client = PatchworkClient(http, api_version="1.0")
        await http.open()
        body = await client.get("patches/3/")
        await http.close()
    finally:
        await server.close()
    assert body["id"] == 3 and "web_url" not in body
    assert state.requests == ["GET /api/1.0/patches/3/"]


async def test_source_lists_first_page_of_recorded_patches(
    replay: tuple[PatchworkSource, ReplayState],
) -> None:
    source, state = replay
    page = await source.list_patches(PatchFilter(), PageRequest(0, 30))
    assert [p.id for p in page.items] == [str(i) for i in range(1, 31)]
    assert page.has_next and page.total is None
    assert state.requests[-1] == "GET /api/1.3/patches/?page=1&per_page=30"


async def test_source_second_page_reaches_end_and_knows_total(
    replay: tuple[PatchworkSource, ReplayState],
) -> None:
    source, _ = replay
    page = await source.list_patches(PatchFilter(), PageRequest(30, 30))
    assert [p.id for p in page.items] == [str(i) for i in range(31, 44)]
    assert not page.has_next and page.total == 43


async def test_source_filters_are_pushed_down(
    replay: tuple[PatchworkSource, ReplayState],
) -> None:
    source, state = replay
    page = await source.list_patches(PatchFilter(states=("accepted",)), PageRequest(0, 30))
    assert page.items and all(p.raw_state == "accepted" for p in page.items)
    assert "state=accepted" in state.requests[-1]
    msgid = "<1473632795-9971-2-git-send-email-stephenfinucane@gmail.com>"
    found = await source.list_patches(PatchFilter(msgid=msgid), PageRequest(0, 30))
    assert [p.id for p in found.items] == ["3"]


async def test_source_patch_detail_and_missing_patch(
    replay: tuple[PatchworkSource, ReplayState],
) -> None:
    source, _ = replay
    patch, missing = await source.get_patches(["3", "99999"])
    assert patch is not None and patch.is_detail and patch.diff
    assert missing is None


async def test_source_checks_and_series(replay: tuple[PatchworkSource, ReplayState]) -> None:
    source, _ = replay
    [checks] = await source.patch_checks(["3"])
    assert {c.context for c in checks} and all(c.change_id == "3" for c in checks)
    [series] = await source.get_series(["2"])
    assert series is not None and series.cover is not None


async def test_source_missing_series_is_none_and_bad_id_is_none(
    replay: tuple[PatchworkSource, ReplayState],
) -> None:
    source, state = replay
    assert await source.get_series(["99999", "../etc"]) == [None, None]
    assert not any("etc" in r for r in state.requests)


async def test_source_people_need_auth(replay: tuple[PatchworkSource, ReplayState]) -> None:
    source, _ = replay
    from adapters.errors import Forbidden

    with pytest.raises(Forbidden) as err:
        await source.client.get("people/")
    assert err.value.backend == "rec" and "Authentication credentials" in err.value.message


async def test_source_unknown_resource_is_not_found(
    replay: tuple[PatchworkSource, ReplayState],
) -> None:
    source, state = replay
    state.hidden.add("/api/1.3/nothing-here/")
    with pytest.raises(NotFound):
        await source.client.get("nothing-here/")
