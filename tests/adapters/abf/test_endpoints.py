"""Every ABF endpoint the source uses, against the simulator: success, 401 and 404.

One table drives all three: each row calls one endpoint through the source with a good
target, and again with a missing one. 422 answers are covered with the writes in
``test_source.py`` and here for each write endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from adapters.abf.records import NewPullRequest, PullRequestFilter, PullRequestUpdate, Scope
from adapters.abf.source import AbfSource
from adapters.errors import BadRequest, Forbidden, NotFound
from adapters.http import Credentials
from adapters.model import PageRequest
from tests.adapters.abf.conftest import Abf, make_source

ALL = PageRequest(0, 100)
NEW = NewPullRequest(title="t", body="b", to_ref="master", from_ref="feature")

Call = Callable[[AbfSource, str], Awaitable[Any]]


async def _list(source: AbfSource, flt: PullRequestFilter) -> Any:
    return (await source.list_pull_requests(flt, ALL)).items


async def _one(found: Awaitable[list[Any]]) -> Any:
    [item] = await found
    if item is None:
        raise NotFound("abf", "batch slot is empty")
    return item


# (endpoint, call with a target, a good target, a missing target)
ENDPOINTS: list[tuple[str, Call, str, str]] = [
    (
        "GET /pull_requests",
        lambda s, f: _list(s, PullRequestFilter(scope=Scope.ALL, filter=f)),
        "all",
        "",
    ),
    (
        "GET /user/pull_requests",
        lambda s, f: _list(s, PullRequestFilter(scope=Scope.USER, filter=f)),
        "all",
        "",
    ),
    (
        "GET /groups/:id/pull_requests",
        lambda s, g: _list(s, PullRequestFilter(scope=Scope.GROUP, group=g, filter="all")),
        "3",
        "99",
    ),
    (
        "GET /projects/:id/pull_requests",
        lambda s, p: _list(s, PullRequestFilter(scope=Scope.PROJECT, project=p)),
        "666",
        "9999",
    ),
    (
        "GET /projects/:id/pull_requests/:n",
        lambda s, i: _one(s.get_pull_requests([i])),
        "666/11",
        "666/99",
    ),
    ("GET …/:n/commits", lambda s, i: s.pull_request_commits(i), "666/11", "666/99"),
    ("GET …/:n/files", lambda s, i: s.pull_request_files(i), "666/11", "666/99"),
    ("GET /projects/:id", lambda s, i: _one(s.get_projects([i])), "666", "9999"),
    ("GET /projects/get_id", lambda s, i: s.project_id(i), "abf/evil_tools", "abf/none"),
    ("GET /users/:id", lambda s, i: _one(s.get_people([i])), "2", "404"),
    ("GET /groups/:id", lambda s, i: _one(s.get_groups([i])), "3", "99"),
    (
        "POST /projects/:id/pull_requests",
        lambda s, p: s.create_pull_request(p, NEW),
        "666",
        "9999",
    ),
    (
        "PUT /projects/:id/pull_requests/:n",
        lambda s, i: s.update_pull_request(i, PullRequestUpdate(body="b2")),
        "666/11",
        "666/99",
    ),
    (
        "PUT …/:n/merge",
        lambda s, i: s.merge_pull_request(i, "m"),
        "666/1",
        "666/99",
    ),
]
IDS = [row[0] for row in ENDPOINTS]


@pytest.mark.parametrize("endpoint, call, good, _missing", ENDPOINTS, ids=IDS)
async def test_endpoint_success(
    abf: Abf, endpoint: str, call: Call, good: str, _missing: str
) -> None:
    if endpoint.endswith("merge"):
        good = await _a_ready_pull(abf.source)
    result = await call(abf.source, good)
    assert result
    assert abf.statuses()[-1] == 200


@pytest.mark.parametrize("endpoint, call, good, _missing", ENDPOINTS, ids=IDS)
async def test_endpoint_unauthenticated_is_401(
    abf: Abf, endpoint: str, call: Call, good: str, _missing: str
) -> None:
    source = await make_source(abf.sim.url, Credentials(username="nobody", password="x"))
    try:
        with pytest.raises(Forbidden) as err:
            await call(source, good)
    finally:
        await source.close()
    assert err.value.status == 401 and "sign in" in err.value.message
    assert abf.statuses()[-1] == 401


@pytest.mark.parametrize(
    "endpoint, call, _good, missing",
    [r for r in ENDPOINTS if r[3]],
    ids=[r[0] for r in ENDPOINTS if r[3]],
)
async def test_endpoint_missing_is_404(
    abf: Abf, endpoint: str, call: Call, _good: str, missing: str
) -> None:
    with pytest.raises(NotFound):
        await call(abf.source, missing)
    assert abf.statuses()[-1] == 404


async def test_endpoint_viewer_success_and_401(abf: Abf) -> None:
    assert (await abf.source.viewer()).username == "ivan_aivazovsky"
    source = await make_source(abf.sim.url, Credentials())
    try:
        with pytest.raises(Forbidden) as err:
            await source.viewer()
    finally:
        await source.close()
    assert err.value.status == 401


async def _a_ready_pull(source: AbfSource) -> str:
    flt = PullRequestFilter(scope=Scope.PROJECT, project="666")
    page = await source.list_pull_requests(flt, ALL)
    return next(p.id for p in page.items if p.raw_state == "ready")


@pytest.mark.parametrize(
    "write, message",
    [
        (
            lambda s: s.create_pull_request("666", replace(NEW, title="")),
            "Title can't be blank",
        ),
        (
            lambda s: s.update_pull_request("666/11", PullRequestUpdate(title="")),
            "Title can't be blank",
        ),
        (lambda s: s.merge_pull_request("666/11", None), "has not been merged"),
    ],
    ids=["create", "update", "merge"],
)
async def test_endpoint_write_refused_is_422_with_abf_message(
    abf: Abf, write: Callable[[AbfSource], Awaitable[Any]], message: str
) -> None:
    with pytest.raises(BadRequest) as err:
        await write(abf.source)
    assert err.value.status == 422 and message in err.value.message
    assert abf.statuses()[-1] == 422
