"""Batching: N changes by number through GraphQL are ``q=change:1 OR change:2 …`` requests,
chunked by the server's query limit — never one request per change."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

from adapters.gerrit.simulator import GerritData
from schema import node
from tests.schema.gerrit.conftest import gerrit_gateway

N = 45
LIMIT = 20  # the simulated server's queryLimit

BY_NUMBER = """query($n: [Int!]!) { gerritChangesByNumber(backend: "g", numbers: $n) {
    number title state checkState labels { name } } }"""


def _change_queries(paths: list[tuple[str, str]]) -> list[str]:
    return [parse_qs(urlsplit(p).query)["q"][0] for _, p in paths if "/changes/?" in p]


async def test_n_changes_by_number_are_chunked_or_queries() -> None:
    async with gerrit_gateway(GerritData.generated(60)) as gw:
        gw.sim.state.data.query_limit = LIMIT
        numbers = [20000 + i for i in range(N)] + [999999]  # one that does not exist
        data = await gw.data(BY_NUMBER, {"n": numbers})
        got = data["gerritChangesByNumber"]
        assert [c["number"] for c in got[:-1]] == numbers[:-1] and got[-1] is None
        first = _change_queries(gw.upstream())
        print(f"\n{N + 1} changes by number, cold (limit learnt): {len(first)} requests")
        assert len(first) == math.ceil((N + 1) / LIMIT)
        assert all(q.startswith("change:") and " OR change:" in q for q in first)
        asked = [int(t.removeprefix("change:")) for q in first for t in q.split(" OR ")]
        assert sorted(set(asked)) == sorted(numbers)

        # the limit is now known: the next batch goes out in chunks of it straight away
        before = len(gw.upstream())
        await gw.data(BY_NUMBER, {"n": numbers})
        second = _change_queries(gw.upstream()[before:])
        print(f"{N + 1} changes by number, warm: {len(second)} requests")
        assert len(second) == math.ceil((N + 1) / LIMIT)
        assert all(len(q.split(" OR ")) <= LIMIT for q in second)


async def test_nodes_by_global_id_are_batched_too() -> None:
    async with gerrit_gateway(GerritData.generated(30)) as gw:
        ids = [node.encode("GerritChange", "g", str(20000 + i)) for i in range(30)]
        q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on GerritChange { number } } }"
        data = await gw.data(q, {"ids": ids})
        assert [n["number"] for n in data["nodes"]] == [20000 + i for i in range(30)]
        print(f"\n30 GerritChange nodes: {len(gw.upstream())} request(s)")
        assert len(gw.upstream()) == 1


async def test_too_many_or_bad_numbers_are_refused_without_requests() -> None:
    async with gerrit_gateway() as gw:
        body = await gw.query(BY_NUMBER, {"n": list(range(1, 502))})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        body = await gw.query(BY_NUMBER, {"n": [0]})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert gw.upstream() == []
