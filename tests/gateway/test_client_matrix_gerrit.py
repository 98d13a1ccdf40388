"""Client matrix, Gerrit (issue 22): pygerrit2 2.0.15 and python-gerrit-api 3.1.0 (PyPI,
pinned in pyproject's dev extra), unchanged, run every read they document and their writes
straight against a Gerrit simulator and through the gateway (``/rest/gerrit/…`` on a real
socket): the same results, the same HTTP errors. Changes and projects are modelled by the
compat layer; accounts, groups, config and branches are passed through (docs/compat.md,
"Client matrix")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from gerrit import GerritClient
from pygerrit2 import Anonymous, GerritRestAPI, GerritReview, HTTPBasicAuth

from tests.gateway.client_matrix import GerritPair, gerrit_pair

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair() -> AsyncIterator[GerritPair]:
    async with gerrit_pair() as running:
        yield running


def _pygerrit2(url: str, user: str, password: str) -> GerritRestAPI:
    return GerritRestAPI(url=url, auth=HTTPBasicAuth(user, password))


# -- pygerrit2 -------------------------------------------------------------------------------

# (path, something the answer must hold: so that equal answers are not equal failures)
PYGERRIT2_READS: list[tuple[str, str]] = [
    ("/changes/?q=status:open+project:myProject&n=10", '"_number": 3965'),
    ("/changes/?q=status:merged&o=CURRENT_REVISION", '"current_revision"'),
    ("/changes/3965/detail", '"Code-Review"'),
    ("/changes/myProject~master~I8473b95934b5732ac55d26311a706c9c2bde9940", '"myProject"'),
    ("/changes/3965/topic", '"Documentation"'),
    ("/changes/3965/reviewers/", '"_account_id"'),
    ("/accounts/self", '"username": "admin"'),
    ("/accounts/self/detail", '"registered_on"'),
    ("/accounts/self/emails", '"preferred": true'),
    ("/accounts/?q=j&o=DETAILS", '"Jane Roe"'),
    ("/accounts/1000096", '"jdoe"'),
    ("/config/server/version", "3.9.1"),
    ("/config/server/info", '"<base>/a/${project}"'),
    ("/groups/", '"Joiner"'),
    ("/groups/Joiner/members/", '"jroe"'),
    ("/projects/?d", '"Gerrit Code Review"'),
    ("/projects/myProject", '"name": "myProject"'),
    ("/projects/platform%2Ftools/branches/", '"refs/heads/stable"'),
    ("/changes/424242", '"HTTPError", 404'),
    ("/accounts/nobody", '"HTTPError", 404'),
]


@pytest.mark.parametrize(("path", "holds"), PYGERRIT2_READS, ids=[p for p, _ in PYGERRIT2_READS])
async def test_pygerrit2_reads_the_same(pair: GerritPair, path: str, holds: str) -> None:
    straight, through = await pair.both(lambda u, n, p: _pygerrit2(u, n, p).get(path))
    assert holds in _dumps(straight)
    assert through == straight


async def test_pygerrit2_anonymous_reads_the_same(pair: GerritPair) -> None:
    """Without credentials (no ``/a/``): the anonymous user's answers and refusals."""
    for path, holds in [
        ("/changes/?q=status:merged", '"_number": 9'),
        ("/accounts/self", '"HTTPError", 403, "Authentication required"'),
        ("/accounts/?q=name:john", '"_account_id": 1000096'),
        ("/config/server/version", "3.9.1"),
        ("/groups/Joiner", '"group_id": 1'),
    ]:

        def anonymous(u: str, n: str, p: str, path: str = path) -> Any:
            return GerritRestAPI(url=u, auth=Anonymous()).get(path)

        straight, through = await pair.both(anonymous)
        assert holds in _dumps(straight), path
        assert through == straight, path


async def test_pygerrit2_writes_the_same(pair: GerritPair) -> None:
    """review (a vote and a message), topic set/get/delete, abandon/restore and a refused
    abandon: the same answers, each write reaching the gateway's backend once."""

    def review(u: str, n: str, p: str) -> Any:
        vote = GerritReview(message="Looks fine")
        vote.add_labels({"Code-Review": 1})
        return _pygerrit2(u, n, p).review("3965", "current", vote)

    steps: list[tuple[Any, str]] = [
        (review, '"Code-Review": 1'),
        (lambda u, n, p: _pygerrit2(u, n, p).put("/changes/3965/topic", json={"topic": "m"}), "m"),
        (lambda u, n, p: _pygerrit2(u, n, p).get("/changes/3965/topic"), "m"),
        (lambda u, n, p: _pygerrit2(u, n, p).delete("/changes/3965/topic"), ""),
        (
            lambda u, n, p: _pygerrit2(u, n, p).post(
                "/changes/1756/abandon", json={"message": "x"}
            ),
            '"ABANDONED"',
        ),
        (lambda u, n, p: _pygerrit2(u, n, p).post("/changes/1756/restore", json={}), '"NEW"'),
        (lambda u, n, p: _pygerrit2(u, n, p).post("/changes/9/abandon", json={}), "409"),
        (lambda u, n, p: _pygerrit2(u, n, p).get("/changes/3965/detail"), "Looks fine"),
    ]
    for call, holds in steps:
        before = len(pair.gw.sim.state.requests)
        straight, through = await pair.both(call)
        assert holds in _dumps(straight)
        assert through == straight
        writes = pair.gw.writes(before)
        assert len(writes) <= 1, writes  # never twice


# -- python-gerrit-api -----------------------------------------------------------------------


def _gerrit_api(url: str, user: str, password: str) -> GerritClient:
    return GerritClient(base_url=url, username=user, password=password)


def _change_reads(c: GerritClient) -> Any:
    change = c.changes.get("3965")
    return {
        "detail": change.get_detail(options=["LABELS"]),
        "topic": change.get_topic(),
        "search": c.changes.search("status:open+project:myProject", options=["LABELS"]),
    }


def _account_reads(c: GerritClient) -> Any:
    me = c.accounts.get("self")
    return {
        "self": me.get_detail(),
        "emails": me.emails.list(),
        "search": c.accounts.search("j", detailed=True),
        "jdoe": c.accounts.get("jdoe").get_detail(),
    }


def _project_reads(c: GerritClient) -> Any:
    project = c.projects.get("myProject")
    return {
        "list": c.projects.list(description=True),
        "description": project.get_description(),
        "branches": project.branches.list(),
    }


def _group_reads(c: GerritClient) -> Any:
    group = c.groups.get("Joiner")
    return {"list": c.groups.list(), "detail": group.get_detail(), "name": group.get_name()}


GERRIT_API_READS: list[tuple[str, Any, str]] = [
    ("changes", _change_reads, '"Code-Review"'),
    ("accounts", _account_reads, '"registered_on"'),
    ("config", lambda c: {"version": c.version, "server": c.server}, "3.9.1"),
    ("projects", _project_reads, '"refs/heads/master"'),
    ("groups", _group_reads, '"jdoe"'),
    ("missing change", lambda c: c.changes.get("424242").id, "ChangeNotFoundError"),
]


@pytest.mark.parametrize(
    ("name", "read", "holds"), GERRIT_API_READS, ids=[n for n, _, _ in GERRIT_API_READS]
)
async def test_python_gerrit_api_reads_the_same(
    pair: GerritPair, name: str, read: Any, holds: str
) -> None:
    def call(u: str, n: str, p: str) -> Any:
        try:
            return read(_gerrit_api(u, n, p))
        except Exception as exc:  # the client's own error classes, compared by name and text
            if type(exc).__module__.startswith("gerrit"):
                return (type(exc).__name__, str(exc))
            raise

    straight, through = await pair.both(call)
    assert holds in _dumps(straight), name
    assert through == straight


async def test_python_gerrit_api_review_write_the_same(pair: GerritPair) -> None:
    def review(u: str, n: str, p: str) -> Any:
        revision = _gerrit_api(u, n, p).changes.get("3965").get_revision("current")
        done = revision.set_review({"message": "Via python-gerrit-api", "labels": {"Verified": 1}})
        return done, _gerrit_api(u, n, p).changes.get("3965").get_detail()

    before = len(pair.gw.sim.state.requests)
    straight, through = await pair.both(review)
    assert straight[0] == {"labels": {"Verified": 1}}
    assert through == straight
    writes = [p for _, p in pair.gw.writes(before)]
    assert len(writes) == 1 and writes[0].endswith("/revisions/current/review"), writes


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
