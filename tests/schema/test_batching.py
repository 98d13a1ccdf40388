"""The N+1 guard: how many upstream requests a 100-patch query makes, counted at the simulator."""

from __future__ import annotations

import re

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


def _check_presence_reads(paths: list[str]) -> int:
    """The pages of the one check-created events read that ``checkState`` costs."""
    return len([p for p in paths if "/events/?category=check-created&" in p])


async def test_batching_list_with_nested_fields_is_one_request(big_gateway: Gateway) -> None:
    count, paths = await _count(big_gateway, BASE % "")
    print(
        "\n100 patches + submitter, project, series summary, checkState: "
        f"{count} upstream request(s)"
    )
    # The list, then ONE read of the check-created events (all its pages) telling the
    # patches Patchwork calls "pending" with checks from those without (null): none per patch.
    assert paths[0].startswith("/api/1.3/patches/"), paths
    events = paths[1:]
    assert events and all("/events/?category=check-created&" in p for p in events), paths
    assert len({re.findall(r"since=[^&]+", p)[0] for p in events}) == 1, paths  # one read


async def test_batching_full_series_is_one_request_per_distinct_series(
    big_gateway: Gateway,
) -> None:
    query = BASE % "series2: series { total complete }"
    count, paths = await _count(big_gateway, query)
    series_reads = [p for p in paths if "/series/" in p]
    distinct = len(set(series_reads))
    print(f"\n100 patches + full series: {count} requests ({distinct} distinct series)")
    assert len(series_reads) == distinct  # each series fetched once, however many patches share it
    assert count == 1 + distinct + _check_presence_reads(paths)


async def test_batching_checks_are_one_request_per_patch_with_checks(
    big_gateway: Gateway,
) -> None:
    # The API has one checks list per patch; a patch that the check-created events read
    # (asked for checkState) found without any answers [] unread (Context.without_checks).
    count, paths = await _count(big_gateway, BASE % "checks { context state }")
    body = await big_gateway.query(BASE % "checks { context state }")
    checked = {n["id"] for n in body["data"]["patches"]["nodes"] if n["checkState"] is not None}
    check_reads = [p for p in paths if p.endswith("/checks/") or "/checks/?" in p]
    print(f"\n100 patches + check lists: {count} requests ({len(check_reads)} check lists)")
    assert 0 < len(checked) < 100
    assert len(check_reads) == len(set(check_reads)) == len(checked)
    assert count == 1 + len(checked) + _check_presence_reads(paths)
