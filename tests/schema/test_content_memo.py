"""Re-reading an unchanged upstream list reuses what was derived from it, and only that.

``adapters/stamps.py`` stamps uncached answers by content; the Patchwork client keeps the
window (and the source its page of records) per stamp, and the fast path keeps the list it
built from a page of records (``schema.execution.ListMemo``, one per app). Every query still
makes its upstream request; a change on the backend shows in the very next answer. Only an
answer that came back unchanged once is kept: the first read of an answer keeps nothing, its
first repeat builds and keeps, later repeats reuse; answers that change on every read are
never stored (the memo must not cost what it cannot repay).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.patchwork import mapping
from adapters.patchwork.simulator import PatchworkData
from schema.execution import ListMemo
from schema.execution.runtime import Awaited, build_list
from schema.node import encode
from tests.conftest import Gateway, _gateway

# No checkState: it depends on the request's check-presence read as well as on the list
# (schema/types.py), so a list selecting it is never kept (test_check_state_list_is_not_kept).
LIST = """{ patches(first: 100, filter: {project: "generated"}) { nodes {
  id title state rawState createdAt webUrl rawCheckState
  author { name email } project { name linkName } } } }"""


@pytest.fixture
async def data() -> PatchworkData:
    return PatchworkData.generated(100)


@pytest.fixture
async def gw(data: PatchworkData) -> AsyncIterator[Gateway]:
    async for gateway in _gateway(data):
        yield gateway


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many patches the Patchwork mapping has built (one counter, by reference)."""
    count = [0]
    real, real_parser = mapping.patch, mapping.patch_parser

    def counting(backend: str, d: Any) -> Any:  # an object read
        count[0] += 1
        return real(backend, d)

    def counting_parser(backend: str) -> Any:  # a list read: one parser per answer
        parse = real_parser(backend)

        def counting_item(d: Any) -> Any:
            count[0] += 1
            return parse(d)

        return counting_item

    monkeypatch.setattr(mapping, "patch", counting)
    monkeypatch.setattr(mapping, "patch_parser", counting_parser)
    return count


async def _list(gw: Gateway) -> tuple[list[dict[str, Any]], int]:
    before = gw.upstream_requests()
    body = await gw.query(LIST)
    assert "errors" not in body, body
    nodes: list[dict[str, Any]] = body["data"]["patches"]["nodes"]
    return nodes, gw.upstream_requests() - before


async def test_unchanged_list_is_fetched_but_not_mapped_or_built_again(
    gw: Gateway, mapped: list[int]
) -> None:
    first, upstream = await _list(gw)
    assert upstream >= 1 and len(first) == 100 and mapped[0] == 100
    memo = _memo(gw)
    kept = len(memo)
    repeated, upstream = await _list(gw)  # the first repeat: built again, and now kept
    assert upstream == 1 and mapped[0] == 200 and len(memo) == kept + 1
    hits = memo.hits
    second, upstream = await _list(gw)
    assert upstream == 1  # the upstream is asked every time
    assert mapped[0] == 200  # … but its unchanged answer is not parsed or mapped again
    assert memo.hits == hits + 1  # and the response list is not built again
    assert second == first == repeated
    metrics = (await gw.client.get("/metrics")).text
    assert 'revgate_content_answers_total{backend="pw"}' in metrics
    assert 'revgate_coalesced_reads_total{backend="pw"} 0.0' in metrics  # one at a time
    unchanged = re.search(r'revgate_content_unchanged_total\{backend="pw"\} (\S+)', metrics)
    assert unchanged is not None and float(unchanged.group(1)) >= 1.0


async def test_a_change_on_the_backend_shows_in_the_next_answer(
    gw: Gateway, data: PatchworkData, mapped: list[int]
) -> None:
    first, _ = await _list(gw)
    await _list(gw)  # kept from here on
    [native] = [k for k, p in data.patches.items() if p["name"] == first[0]["title"]]
    data.patches[native]["name"] = "renamed on the backend"
    memo = _memo(gw)
    hits = memo.hits
    second, upstream = await _list(gw)
    assert upstream == 1 and mapped[0] == 300 and memo.hits == hits
    assert second[0]["title"] == "renamed on the backend"
    assert second[1:] == first[1:]
    third, _ = await _list(gw)
    fourth, _ = await _list(gw)
    assert third == fourth == second and mapped[0] == 400 and memo.hits == hits + 1


async def test_answers_that_change_on_every_read_are_never_kept(
    gw: Gateway, data: PatchworkData, mapped: list[int]
) -> None:
    first, _ = await _list(gw)
    [native] = [k for k, p in data.patches.items() if p["name"] == first[0]["title"]]
    memo = _memo(gw)
    hits, kept = memo.hits, len(memo)
    for n in range(4):
        data.patches[native]["name"] = f"renamed {n}"
        nodes, upstream = await _list(gw)
        assert upstream == 1 and nodes[0]["title"] == f"renamed {n}"
    assert mapped[0] == 500 and memo.hits == hits and len(memo) == kept
    source = gw.sources["pw"]
    assert len(source.client._windows) == 0  # type: ignore[attr-defined]


async def test_content_memo_off_rebuilds_every_time(data: PatchworkData, mapped: list[int]) -> None:
    async for gw in _gateway(data, content_memo=False):
        first, _ = await _list(gw)
        memo = _memo(gw)
        hits, kept = memo.hits, len(memo)
        second, upstream = await _list(gw)
        assert upstream == 1 and mapped[0] == 200 and memo.hits == hits
        assert len(memo) == kept  # pages that never come back: their lists are not kept
        assert second == first


async def test_check_state_list_is_not_kept(gw: Gateway, data: PatchworkData) -> None:
    """A list selecting checkState is rebuilt each time: a first check on a patch Patchwork
    already called "pending" changes no byte of the list, only the events read."""
    query = LIST.replace("rawCheckState", "checkState rawCheckState")
    body = await gw.query(query)
    nodes = body["data"]["patches"]["nodes"]
    memo = _memo(gw)
    hits = memo.hits
    again = await gw.query(query)
    assert again["data"]["patches"]["nodes"] == nodes and memo.hits == hits
    none = [n for n in nodes if n["rawCheckState"] == "pending" and n["checkState"] is None]
    assert none, "generated data has patches without checks"


def _memo(gw: Gateway) -> ListMemo:
    """The app's list memo (owned by its fast path)."""
    memo: ListMemo = gw.app.state.fast_path.list_memo
    return memo


class _Run:
    def __init__(self, memo: ListMemo) -> None:
        self.errors: list[Any] = []
        self.memo = memo


def test_list_memo_keeps_only_clean_builds_and_is_bounded() -> None:
    memo = ListMemo(entries=2)
    records = ("a", "b")

    def fails_on_b(value: Any, path: Any, run: Any) -> Any:
        if value == "b":
            raise ValueError("broken")
        return {"v": value}

    run = _Run(memo)
    out = build_list(records, fails_on_b, None, run, [], True, 1)  # type: ignore[arg-type]
    assert out == [{"v": "a"}, None] and len(run.errors) == 1
    assert memo.get(1, records) is None  # an error: not kept

    def stops(value: Any, path: Any, run: Any) -> Any:
        raise Awaited(None)  # a synchronous resolver returned an awaitable: runs normally

    with pytest.raises(Awaited):
        build_list(records, stops, None, _Run(memo), [], True, 2)  # type: ignore[arg-type]
    assert memo.get(2, records) is None

    def clean(value: Any, path: Any, run: Any) -> Any:
        return {"v": value}

    built = build_list(records, clean, None, _Run(memo), [], True, 3)  # type: ignore[arg-type]
    assert memo.get(3, records) is built and built == ({"v": "a"}, {"v": "b"})
    assert isinstance(built, tuple)  # what is kept is immutable by type
    assert memo.get(3, tuple(["a", "b"])) is None  # equal records, but not these: no hit
    assert memo.get(4, records) is None  # another selection
    other = ("c",)
    memo.put(5, other, [])
    memo.put(6, other, [])  # over 2 entries: the least recently used (3) goes
    assert memo.get(3, records) is None and memo.get(6, other) == ()


def _single(native: str) -> str:
    return (
        f'{{ node(id: "{encode("Patch", "pw", native)}") {{ ... on Patch {{ id title state }} }} }}'
    )


async def _one(gw: Gateway, native: str) -> tuple[dict[str, Any], int]:
    before = gw.upstream_requests()
    body = await gw.query(_single(native))
    assert "errors" not in body, body
    node: dict[str, Any] = body["data"]["node"]
    return node, gw.upstream_requests() - before


async def test_unchanged_object_is_fetched_but_not_mapped_again(
    gw: Gateway, data: PatchworkData, mapped: list[int]
) -> None:
    key = next(iter(data.patches))
    native = str(key)
    first, _ = await _one(gw, native)
    await _one(gw, native)  # its first repeat: mapped again, and kept
    assert mapped[0] == 2
    second, upstream = await _one(gw, native)
    assert upstream == 1 and mapped[0] == 2 and second == first  # asked, not mapped again
    data.patches[key]["name"] = "renamed on the backend"
    third, upstream = await _one(gw, native)
    assert upstream == 1 and mapped[0] == 3 and third["title"] == "renamed on the backend"
    other = next(k for k in data.patches if k != key)
    await _one(gw, str(other))  # another URL: its own record
    assert mapped[0] == 4


async def test_object_records_are_not_kept_with_the_memo_off(
    data: PatchworkData, mapped: list[int]
) -> None:
    native = str(next(iter(data.patches)))
    async for gw in _gateway(data, content_memo=False):
        first, _ = await _one(gw, native)
        second, upstream = await _one(gw, native)
        assert upstream == 1 and mapped[0] == 2 and second == first
