"""The N+1 guard: how many upstream requests a 100-patch query makes, counted at the simulator."""

from __future__ import annotations

from tests.conftest import Gateway

BASE = """{ patches(first: 100) { nodes { id title checkState
    author { name email } project { name linkName } series { name version } %s } } }"""


async def _count(gw: Gateway, query: str) -> tuple[int, list[str]]:
    await gw.query("{ backends { apiVersion } }")  # version detection is not part of the count
    before = len(gw.sim.state.requests)
    body = await gw.query(query)
    assert "errors" not in body, body["errors"]
    assert len(body["data"]["patches"]["nodes"]) == 100
    made = gw.sim.state.requests[before:]
    return len(made), [path for _, path in made]


async def test_batching_list_with_nested_fields_is_one_request(big_gateway: Gateway) -> None:
    count, paths = await _count(big_gateway, BASE % "")
    print(
        "\n100 patches + submitter, project, series summary, checkState: "
        f"{count} upstream request(s)"
    )
    assert count == 1, paths


async def test_batching_full_series_is_one_request_per_distinct_series(
    big_gateway: Gateway,
) -> None:
    query = BASE % "series2: series { total complete }"
    count, paths = await _count(big_gateway, query)
    series_reads = [p for p in paths if "/series/" in p]
    distinct = len(set(series_reads))
    print(f"\n100 patches + full series: {count} requests ({distinct} distinct series)")
    assert len(series_reads) == distinct  # each series fetched once, however many patches share it
    assert count == 1 + distinct


async def test_batching_checks_are_one_request_per_patch(big_gateway: Gateway) -> None:
    count, paths = await _count(big_gateway, BASE % "checks { context state }")
    check_reads = [p for p in paths if p.endswith("/checks/") or "/checks/?" in p]
    print(f"\n100 patches + check lists: {count} requests (the API has one checks list per patch)")
    assert len(check_reads) == 100 and len(set(check_reads)) == 100
    assert count == 101
