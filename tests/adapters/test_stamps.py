"""Content stamps (``adapters.stamps``): the same answer, the same stamp; any change, a new one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict

from adapters.http import HttpClient, HttpConfig
from adapters.stamps import ContentStamps

URL = "http://backend/api/1.3/patches/?page=1"
LINK = {"Link": '<http://backend/api/1.3/patches/?page=2>; rel="next"'}


def _twice(stamps: ContentStamps, url: str, status: int, headers: Any, body: bytes) -> str:
    """The stamp of an answer seen twice in a row (the first sighting has none)."""
    assert stamps.stamp(url, status, headers, body) is None
    again = stamps.stamp(url, status, headers, body)
    assert again is not None
    return again


def test_identical_answers_share_a_stamp() -> None:
    stamps = ContentStamps()
    # An answer seen once is not worth memoising anything for: no stamp.
    assert stamps.stamp(URL, 200, {**LINK, "Date": "Mon, 23 Nov 2026 10:00:00 GMT"}, b"[1]") is None
    first = stamps.stamp(URL, 200, {**LINK, "Date": "Mon, 23 Nov 2026 10:00:01 GMT"}, b"[1]")
    again = stamps.stamp(URL, 200, {**LINK, "Date": "Mon, 23 Nov 2026 10:00:02 GMT"}, b"[1]")
    assert first is not None and first == again  # Date says nothing of the content
    assert stamps.reused == 2 and stamps.stamped == 3


def test_answers_that_change_every_time_get_no_stamp() -> None:
    stamps = ContentStamps()
    assert [stamps.stamp(URL, 200, LINK, b"[%d]" % n) for n in range(5)] == [None] * 5
    assert stamps.reused == 0


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, LINK, b"[2]"),  # another body
        (200, {}, b"[1]"),  # the Link header went: the list has no next page any more
        (200, {**LINK, "Content-Type": "text/plain"}, b"[1]"),
        (203, LINK, b"[1]"),
    ],
)
def test_any_change_is_a_new_stamp(status: int, headers: dict[str, str], body: bytes) -> None:
    stamps = ContentStamps()
    first = _twice(stamps, URL, 200, LINK, b"[1]")
    assert _twice(stamps, URL, status, headers, body) != first
    assert _twice(stamps, "http://backend/other/", 200, LINK, b"[1]") != first


def test_repeated_header_values_all_count() -> None:
    stamps = ContentStamps()
    two = CIMultiDict([("Link", "<a>; rel=next"), ("Link", "<b>; rel=last")])
    one = CIMultiDict([("Link", "<a>; rel=next")])
    assert _twice(stamps, URL, 200, two, b"[]") != _twice(stamps, URL, 200, one, b"[]")


def test_a_changed_answer_then_the_old_one_again_is_new_too() -> None:
    stamps = ContentStamps()
    a = _twice(stamps, URL, 200, {}, b"a")
    b = _twice(stamps, URL, 200, {}, b"b")
    assert _twice(stamps, URL, 200, {}, b"a") not in (a, b)  # only the last answer is kept


def test_bounded_by_entries_and_bytes() -> None:
    stamps = ContentStamps(entries=2, budget=10)
    s1 = _twice(stamps, "u1", 200, {}, b"1111")
    _twice(stamps, "u2", 200, {}, b"2222")
    assert stamps.stamp("u3", 200, {}, b"3333") is None  # 3 entries > 2: u1 goes
    assert len(stamps) == 2 and stamps.stamp("u1", 200, {}, b"1111") is None  # forgotten
    assert stamps.stamp("u1", 200, {}, b"1111") not in (None, s1)
    # over the whole budget: never kept, so never stamped
    assert [stamps.stamp("u4", 200, {}, b"x" * 11) for _ in range(2)] == [None, None]


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[str, list[bytes]]]:
    bodies = [b'{"n": 1}']

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/missing":
            return web.json_response({"detail": "Not found."}, status=404)
        return web.Response(body=bodies[0], content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", bodies
    finally:
        await runner.cleanup()


async def test_client_stamps_uncached_200_gets(upstream: tuple[str, list[bytes]]) -> None:
    url, bodies = upstream
    client = HttpClient(HttpConfig(backend="pw", base_url=url, retries=0))
    try:
        assert (await client.get("/a")).cache_stamp is None  # seen once: nothing to reuse
        first = await client.get("/a")
        again = await client.get("/a")
        assert first.cache_stamp is not None and again.cache_stamp == first.cache_stamp
        assert client.request_count == 3  # every one went upstream
        bodies[0] = b'{"n": 2}'
        assert (await client.get("/a")).cache_stamp is None
        changed = await client.get("/a")
        assert changed.cache_stamp not in (None, first.cache_stamp)
        missing = await client.get("/missing", allow_status=(404,))
        assert missing.cache_stamp is None  # only 200 answers are stamped
        assert client.stamp_owner is client.stamps
    finally:
        await client.close()


async def test_content_memo_off_stamps_nothing(upstream: tuple[str, list[bytes]]) -> None:
    url, _ = upstream
    client = HttpClient(HttpConfig(backend="pw", base_url=url, retries=0, content_memo=False))
    try:
        assert (await client.get("/a")).cache_stamp is None
        assert client.stamp_owner is None
    finally:
        await client.close()
