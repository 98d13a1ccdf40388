"""A series list item's ``test_state`` is its latest revision's (the fork's serializer:
``last_revision.test_state``, the worst result, ``null`` without any): a patch placed in a
latest revision listed ``null`` has no test results, and its checks are ``[]`` without a
``test-results`` read; ``pending`` and ``failure`` tell the rollup
(``adapters/patchwork_fdo/revisions.py``, ``Reads``). Only those words count: an older
revision, one listed ``success``/``info``/``warning`` (a pending result may hide below),
or a server whose list items carry no ``test_state`` (before API revision 3) are read as
before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.base import ChangeFilter
from adapters.model import CheckState, NewTestResult, PageRequest, TrackedPatch, rollup
from adapters.patchwork_fdo.revisions import Reads
from adapters.patchwork_fdo.simulator import FdoData
from tests.adapters.patchwork_fdo.conftest import Fdo

_EPOCH = datetime(1970, 1, 2, tzinfo=UTC)
_FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def _patches(fdo: Fdo) -> list[TrackedPatch]:
    page = await fdo.source.list_changes(ChangeFilter(), PageRequest(0, 100), True)
    return list(page.items)


def _result_reads(fdo: Fdo, since: int) -> list[str]:
    return [p for p in fdo.paths()[since:] if p.endswith("/test-results/")]


def _latest(fdo: Fdo, key: str) -> bool:
    series_id, version = key.split("/")
    return bool(
        fdo.sim.state.data.series[int(series_id)]["revisions"][-1]["version"] == int(version)
    )


def _results(fdo: Fdo, key: str) -> list[Any]:
    series_id, version = key.split("/")
    for rev in fdo.sim.state.data.series[int(series_id)]["revisions"]:
        if rev["version"] == int(version):
            return list(rev.get("test_results", []))
    raise AssertionError(key)


async def _placed(fdo: Fdo) -> dict[str, str]:
    """Each listed patch's placed revision key (patch id -> key)."""
    ids = [p.id for p in await _patches(fdo)]
    return {i: r.key for i, r in zip(ids, await fdo.source.patch_revisions(ids), strict=True) if r}


async def test_checks_of_untested_latest_revisions_are_not_read(fdo: Fdo) -> None:
    placed = await _placed(fdo)
    untested = {i: k for i, k in placed.items() if _latest(fdo, k) and not _results(fdo, k)}
    others = {i: k for i, k in placed.items() if i not in untested}
    assert untested and others, "the generated data has both kinds"
    ids = list(placed)
    mark = len(fdo.paths())
    checks = await fdo.source.patch_checks(ids)
    read = _result_reads(fdo, mark)
    assert {i: c for i, c in zip(ids, checks, strict=True) if i in untested} == {
        i: [] for i in untested
    }
    assert sorted(read) == sorted(
        {f"/api/1.0/series/{k.replace('/', '/revisions/')}/test-results/" for k in others.values()}
    )
    # the answers are those of reading every revision
    every = await fdo.source.revision_test_results([placed[i] for i in ids])
    assert checks == every


async def test_a_result_reported_since_is_read(fdo: Fdo) -> None:
    placed = await _placed(fdo)
    pid, key = next((i, k) for i, k in placed.items() if _latest(fdo, k) and not _results(fdo, k))
    assert await fdo.source.patch_checks([pid]) == [[]]
    await fdo.source.report_test_result(
        key, NewTestResult(test_name="ci/build", state=CheckState.SUCCESS)
    )
    mark = len(fdo.paths())
    [checks] = await fdo.source.patch_checks([pid])
    assert [c.context for c in checks] == ["ci/build"]
    assert len(_result_reads(fdo, mark)) == 1


async def test_an_older_untested_revision_is_still_read(fdo: Fdo) -> None:
    placed = await _placed(fdo)
    older = {i: k for i, k in placed.items() if not _latest(fdo, k) and not _results(fdo, k)}
    assert older, "the generated data places patches in older revisions without results"
    mark = len(fdo.paths())
    assert await fdo.source.patch_checks(list(older)) == [[] for _ in older]
    assert len(_result_reads(fdo, mark)) == len(set(older.values()))


async def test_a_server_without_test_state_is_read_as_before(
    fdo: Fdo, monkeypatch: pytest.MonkeyPatch
) -> None:
    data: FdoData = fdo.sim.state.data
    render = data.render_series

    def before_revision_3(s: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in render(s).items() if k != "test_state"}

    monkeypatch.setattr(data, "render_series", before_revision_3)
    placed = await _placed(fdo)
    mark = len(fdo.paths())
    await fdo.source.patch_checks(list(placed))
    assert len(_result_reads(fdo, mark)) == len(set(placed.values()))


@pytest.mark.parametrize(
    ("states", "told"),
    [
        ([], (None,)),
        (["pending"], (CheckState.PENDING,)),
        (["pending", "pending"], (CheckState.PENDING,)),
        (["success", "failure", "pending"], (CheckState.FAILURE,)),
        (["failure"], (CheckState.FAILURE,)),
        (["success"], None),  # the word would be "success" with a pending result too
        (["success", "pending"], None),
        (["info"], None),
        (["warning", "pending"], None),
    ],
)
async def test_the_listed_word_tells_only_the_rollups_it_decides(
    fdo: Fdo, states: list[str], told: tuple[CheckState | None] | None
) -> None:
    data: FdoData = fdo.sim.state.data
    series_id, series = next(iter(data.series.items()))
    latest = series["revisions"][-1]
    latest["test_results"] = [
        {
            "test_name": f"t{n}",
            "state": state,
            "date": "2017-01-01T00:00:00",
            "url": None,
            "summary": None,
        }
        for n, state in enumerate(states)
    ]
    reads = Reads(fdo.source)
    submitter = str(series["submitter"])
    listed = await reads.series_list(str(series["project"]), submitter, _FAR, _EPOCH)
    assert any(s.id == str(series_id) for s in listed)
    key = f"{series_id}/{latest['version']}"
    assert reads.listed_state(key) == told
    if told is not None:  # what reading the results rolls up
        [results] = await fdo.source.revision_test_results([key])
        assert rollup([c.state for c in results]) == told[0]
    if len(series["revisions"]) > 1:
        assert reads.listed_state(f"{series_id}/{series['revisions'][0]['version']}") is None
