"""Rendered compat answers memoised per stamp — a response-cache entry, or without a cache
an answer's content stamp: fast on a repeated read, never stale after a write or a change
on the backend, never shared between callers who may see different objects
(``adapters.stamps.StampMemo``, ``adapters.http_cache`` stamps)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from adapters.patchwork import rest
from adapters.patchwork.simulator.data import PatchworkData
from adapters.patchwork.source import PatchworkSource
from adapters.stamps import StampMemo
from tests.gateway.compat_support import ADMIN, BOT, CompatGateway, compat_gateway, sha

pytestmark = pytest.mark.asyncio(loop_scope="module")

CI = "c3" * 20  # mapped to the simulator's "bot" user
OWNER = "d3" * 20  # no mapping: the backend's configured (admin) credential
LIST = "/rest/pw/api/1.3/patches/?per_page=5"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[CompatGateway]:
    data = PatchworkData.from_seed()
    data.bundles[2] = {**data.bundles[1], "id": 2, "name": "secret", "public": False}
    tokens = [
        {"name": "admin", "sha256": sha(ADMIN)},
        {"name": "ci", "sha256": sha(CI), "backend_tokens": {"pw": "PW_CI_TOKEN"}},
        {"name": "owner", "sha256": sha(OWNER)},
    ]
    async with compat_gateway(
        data, env={"PW_CI_TOKEN": BOT}, backend={"cache_ttl": 60}, tokens=tokens
    ) as gateway:
        yield gateway


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def plain() -> AsyncIterator[CompatGateway]:
    """The same, without a response cache: every read goes upstream, and its answers carry
    content stamps (adapters/stamps.py)."""
    data = PatchworkData.from_seed()
    data.bundles[2] = {**data.bundles[1], "id": 2, "name": "secret", "public": False}
    tokens = [{"name": "admin", "sha256": sha(ADMIN)}, {"name": "owner", "sha256": sha(OWNER)}]
    async with compat_gateway(data, tokens=tokens) as gateway:
        yield gateway


@pytest.fixture(params=["cached", "uncached"])
def either(request: pytest.FixtureRequest) -> CompatGateway:
    """Each memo test that holds for both kinds of stamps, run on both gateways."""
    name = "gw" if request.param == "cached" else "plain"
    gateway: CompatGateway = request.getfixturevalue(name)
    return gateway


def _memo(gw: CompatGateway) -> StampMemo[rest.Rendered]:
    source = gw.app.state.backends.sources["pw"]
    assert isinstance(source, PatchworkSource)
    memo = rest._memo(source)
    assert memo is not None
    return memo


def _gets(gw: CompatGateway, before: int) -> int:
    return sum(1 for m, _ in gw.upstream()[before:] if m == "GET")


async def test_memo_warm_hit_serves_the_same_answer_without_rendering(gw: CompatGateway) -> None:
    first = await gw.client.get(LIST)
    size, before = len(_memo(gw)), len(gw.upstream())
    second = await gw.client.get(LIST)
    assert _gets(gw, before) == 0 and len(_memo(gw)) == size  # no upstream, no new rendering
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second.headers["Link"] == first.headers["Link"]
    head = await gw.client.head(LIST)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Link"] == first.headers["Link"]


async def test_memo_keys_on_everything_the_rendering_depends_on(either: CompatGateway) -> None:
    base = (await either.client.get(LIST)).json()
    other_host = await either.client.get(LIST, headers={"Host": "elsewhere.example"})
    assert other_host.json()[0]["url"].startswith("http://elsewhere.example/rest/pw/")
    assert base[0]["url"].startswith("http://revgate/rest/pw/")
    unversioned = await either.client.get("/rest/pw/api/patches/?per_page=5")
    assert "/rest/pw/api/patches/" in unversioned.json()[0]["url"]
    fmt = await either.client.get(LIST + "&format=json")
    assert fmt.json()[0]["url"].endswith("?format=json")
    assert "format=json" in fmt.headers["Link"] and "format" not in base[0]["url"]


async def test_memo_write_makes_the_next_read_fresh(either: CompatGateway) -> None:
    listed = (await either.client.get(LIST)).json()
    await either.client.get(LIST)  # now served from the memo
    pid = listed[0]["id"]
    state = "rejected" if listed[0]["state"] != "rejected" else "accepted"
    resp = await either.client.patch(
        f"/rest/pw/api/1.3/patches/{pid}/",
        headers={"Authorization": f"Token {ADMIN}"},
        json={"state": state},
    )
    assert resp.status_code == 200
    before = len(either.upstream())
    after = (await either.client.get(LIST)).json()
    assert _gets(either, before) == 1  # the write retired the cache entry, and its rendering
    assert after[0]["state"] == state
    detail = (await either.client.get(f"/rest/pw/api/1.3/patches/{pid}/")).json()
    assert detail["state"] == state


async def test_memo_never_shared_between_credentials(gw: CompatGateway) -> None:
    path = "/rest/pw/api/1.3/users/"
    own = await gw.client.get(path, headers={"Authorization": f"Token {OWNER}"})
    size, before = len(_memo(gw)), len(gw.upstream())
    mapped = await gw.client.get(path, headers={"Authorization": f"Token {CI}"})
    assert own.status_code == mapped.status_code == 200
    # The mapped token reads as another backend user: its own upstream read, rendering
    # and memo entry.
    assert _gets(gw, before) == 1 and len(_memo(gw)) == size + 1


async def test_memo_never_shows_private_objects_to_anonymous_callers(either: CompatGateway) -> None:
    # Same backend credential (the gateway's own), so the same cache entry and stamp: the
    # anonymous rendering hides private bundles and must not be served to the owner, nor
    # the owner's to an anonymous caller — in either order.
    owner = {"Authorization": f"Token {OWNER}"}
    for _ in range(2):
        listed = await either.client.get("/rest/pw/api/1.3/bundles/", headers=owner)
        assert sorted(b["name"] for b in listed.json()) == ["my-bundle", "secret"]
        anon = await either.client.get("/rest/pw/api/1.3/bundles/")
        assert [b["name"] for b in anon.json()] == ["my-bundle"]
        assert (await either.client.get("/rest/pw/api/1.3/bundles/2/")).status_code == 404
        secret = await either.client.get("/rest/pw/api/1.3/bundles/2/", headers=owner)
        assert secret.status_code == 200


async def test_memo_without_cache_or_content_memo_keeps_nothing() -> None:
    async with compat_gateway(backend={"content_memo": False}) as plain:
        assert (await plain.client.get(LIST)).status_code == 200
        source = plain.app.state.backends.sources["pw"]
        assert isinstance(source, PatchworkSource) and rest._memo(source) is None


async def test_uncached_unchanged_answer_reuses_the_rendering_and_sees_changes() -> None:
    data = PatchworkData.from_seed()
    async with compat_gateway(data) as plain:
        source = plain.app.state.backends.sources["pw"]
        assert isinstance(source, PatchworkSource) and source.http.cache is None
        first = await plain.client.get(LIST)
        memo = rest._memo(source)
        assert memo is not None
        size = len(memo)
        # seen once: nothing kept; its first repeat is rendered and kept
        assert (await plain.client.get(LIST)).content == first.content
        assert len(memo) == size + 1
        before = len(plain.upstream())
        second = await plain.client.get(LIST)
        # the upstream is asked every time; the unchanged answer is not rendered again
        assert _gets(plain, before) == 1 and len(memo) == size + 1
        assert second.content == first.content and second.headers["Link"] == first.headers["Link"]
        # a change made on the backend itself (not through revgate) shows at once
        first_id = first.json()[0]["id"]
        data.patches[first_id]["name"] = "renamed upstream"
        third = await plain.client.get(LIST)
        assert third.json()[0]["name"] == "renamed upstream"
        assert len(memo) == size + 1  # a changed answer is not kept before it repeats
        assert (await plain.client.get(LIST)).content == third.content
        assert len(memo) == size + 2


async def test_render_memo_bounds_and_stamps() -> None:
    memo: StampMemo[bytes] = StampMemo(len, entries=2, budget=10)
    memo.put(None, "r", b"x")  # no stamp: never kept
    assert len(memo) == 0 and memo.get(None, "r") is None
    memo.put("s1", "r", b"aaaa")
    memo.put("s2", "r", b"bbbb")
    assert memo.get("s1", "r") == b"aaaa"  # s1 now most recent
    memo.put("s3", "r", b"cccc")  # over 2 entries (and 10 bytes): s2 goes
    assert memo.get("s2", "r") is None and memo.get("s1", "r") == b"aaaa"
    memo.put("s4", "r", b"x" * 11)  # larger than the whole budget: not kept
    assert memo.get("s4", "r") is None and len(memo) == 2
    assert memo.get("s1", "other route") is None
