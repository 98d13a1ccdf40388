"""Golden-style tests of every documented Gerrit write through the compat layer.

Two identically seeded simulators: the gateway sits in front of one, the other is asked
directly. Every step of one scripted session (topic, abandon/restore, rebase, revert, submit,
publish/delete drafts, reviewers with the group ``confirm`` round trip, reviews, draft
comments, reviewed flags, cherry-pick, commit message, test.submit_type/rule) is sent to both;
the answers must be equal (status, JSON, Gerrit's error text) and the gateway's simulator must
have received that write exactly once. The same writes without ``/a/`` are refused as
Gerrit refuses them, without reaching the backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.gateway.gerrit_support import (
    ADMIN,
    READER,
    WRITER,
    GerritGateway,
    basic,
    decode,
    gerrit_gateway,
    same_answer,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

FILE = "gerrit-gwtui%2Fsrc%2Fmain%2Fjava%2Fcom%2Fgoogle%2Fgerrit%2Fclient%2Fui%2FScreen.java"
PLAIN = "text/plain"

# (method, path, JSON body or text/plain string, expected status) — run in this order.
SESSION: list[tuple[str, str, Any, int]] = [
    ("PUT", "changes/1756/topic", {"topic": "Documentation"}, 200),
    ("PUT", "changes/demo~master~Idaf5e098d70898b7119f6f4af5a6c13343d64b57/topic", "plain", 200),
    ("DELETE", "changes/1756/topic", None, 204),
    ("PUT", "changes/Idaf5e098d70898b7119f6f4af5a6c13343d64b57/topic", {"topic": ""}, 204),
    ("POST", "changes/1757/abandon", {"message": "not needed"}, 200),
    ("POST", "changes/1757/abandon", None, 409),  # change is abandoned
    ("POST", "changes/1757/restore", "back again", 200),
    ("POST", "changes/1757/restore", {}, 409),  # change is new
    ("POST", "changes/424242/abandon", None, 404),
    ("POST", "changes/4799/rebase", None, 200),
    ("POST", "changes/4800/rebase", None, 409),  # path conflict
    ("POST", "changes/4799/revisions/current/rebase", None, 200),
    ("POST", "changes/4799/revisions/1/rebase", None, 409),  # not the current revision
    ("POST", "changes/9/revert", {"message": "Revert it\n\nIt broke things."}, 200),
    ("POST", "changes/1756/revert", None, 409),  # change is new
    ("POST", "changes/3965/submit", None, 409),  # blocked by Verified
    ("POST", "changes/3965/revisions/current/review", {"labels": {"Nope": 1}}, 400),
    ("POST", "changes/3965/revisions/current/review", {"labels": {"Verified": "x"}}, 400),
    (
        "POST",
        "changes/3965/revisions/674ac754/review",
        {
            "message": "Ship it",
            "labels": {"Verified": 1, "Code-Review": 2},
            "comments": {
                "gerrit-server/src/main/java/com/google/gerrit/server/project/RefControl.java": [
                    {"line": 23, "message": "[nit] trailing whitespace"}
                ]
            },
        },
        200,
    ),
    ("POST", "changes/3965/revisions/1/submit", None, 409),  # not the current revision
    ("POST", "changes/3965/submit", {"wait_for_merge": True}, 200),
    ("POST", "changes/3965/submit", None, 409),  # change is merged
    ("POST", "changes/1757/revisions/current/review", {"labels": {"Verified": 1}}, 200),
    ("POST", "changes/1757/revisions/current/review", {"labels": {"Code-Review": 2}}, 200),
    ("POST", "changes/1757/revisions/current/submit", {"wait_for_merge": True}, 200),
    ("POST", "changes/4801/revisions/1/publish", None, 204),
    ("POST", "changes/4801/revisions/1/publish", None, 409),  # not a draft any more
    ("DELETE", "changes/4801/revisions/1", None, 409),
    ("DELETE", "changes/4801", None, 204),  # the draft change
    ("POST", "changes/4801/publish", None, 404),
    ("POST", "changes/1756/publish", None, 409),  # change is not a draft
    ("DELETE", "changes/1756", None, 409),
    ("POST", "changes/1756/reviewers", {"reviewer": "jroe"}, 200),
    ("POST", "changes/1756/reviewers", {"reviewer": "MyProjectVerifiers"}, 200),  # confirm?
    ("POST", "changes/1756/reviewers", {"reviewer": "MyProjectVerifiers", "confirmed": True}, 200),
    ("POST", "changes/1756/reviewers", "Joiner", 200),  # text/plain: the reviewer
    ("POST", "changes/1756/reviewers", {"reviewer": "nobody at all"}, 200),  # error field
    ("POST", "changes/1756/reviewers", {}, 400),
    ("DELETE", "changes/1756/reviewers/Jane%20Roe", None, 204),
    ("DELETE", "changes/1756/reviewers/jroe", None, 404),
    ("PUT", "changes/97/revisions/current/drafts", {"path": "x", "message": "m"}, 400),
    (
        "PUT",
        "changes/97/revisions/current/drafts",
        {"path": FILE.replace("%2F", "/"), "line": 3, "message": "Why?"},
        200,
    ),
    ("PUT", "changes/97/revisions/current/drafts/{draft}", {"message": "Why this?"}, 200),
    ("PUT", "changes/97/revisions/current/drafts/zzzz", {"message": "nope"}, 404),
    ("DELETE", "changes/97/revisions/current/drafts/{draft}", None, 204),
    ("DELETE", "changes/97/revisions/current/drafts/{draft}", None, 404),
    ("PUT", f"changes/97/revisions/current/files/{FILE}/reviewed", None, 201),
    ("PUT", f"changes/97/revisions/current/files/{FILE}/reviewed", None, 200),
    ("DELETE", f"changes/97/revisions/current/files/{FILE}/reviewed", None, 204),
    ("PUT", "changes/97/revisions/current/files/nope.txt/reviewed", None, 404),
    (
        "POST",
        "changes/97/revisions/current/cherrypick",
        {"destination": "nope", "message": "m"},
        400,
    ),
    (
        "POST",
        "changes/97/revisions/1/cherrypick",
        {"destination": "stable", "message": "Picked\n\nto stable"},
        200,
    ),
    ("POST", "changes/97/revisions/current/message", {"message": " "}, 400),
    ("POST", "changes/97/revisions/current/message", "Better subject\n\nBody.", 200),
    ("POST", "changes/97/revisions/1/message", {"message": "Old one"}, 409),  # not current
    ("POST", "changes/97/revisions/current/test.submit_type", {"rule": "nothing"}, 400),
    (
        "POST",
        "changes/97/revisions/current/test.submit_type",
        {"rule": "submit_type(cherry_pick).", "filters": "SKIP"},
        200,
    ),
    ("POST", "changes/97/revisions/2/test.submit_type", "submit_type(rebase_if_necessary).", 200),
    ("POST", "changes/97/revisions/current/test.submit_rule", {}, 200),
    (
        "POST",
        "changes/97/revisions/current/test.submit_rule",
        {"rule": "submit_rule(submit(label('Code-Review', need(_))))."},
        200,
    ),
    ("POST", "changes/97/revisions/current/test.submit_rule", {"rule": "foo."}, 400),
    ("POST", "changes/97/revisions/current/review", {"drafts": "PUBLISH", "message": "Hm"}, 200),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[GerritGateway]:
    async with gerrit_gateway(twin=True) as running:
        yield running


def _request(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if isinstance(body, str):
        return {"content": body.encode(), "headers": {"Content-Type": PLAIN}}
    return {"json": body}


async def test_gerrit_writes_answer_as_the_backend_and_reach_it_once(gw: GerritGateway) -> None:
    sims = (gw.sim.url, gw.twin.url)
    draft = ""
    for method, template, body, status in SESSION:
        path = template.format(draft=draft)
        kwargs = _request(body)
        plain = kwargs.pop("headers", {})
        direct_headers = {**basic(*ADMIN), **plain}
        headers = {**basic("me", WRITER), **plain}
        # Without /a/ Gerrit refuses every write; so does the gateway, before the backend.
        before = len(gw.sim.state.requests)
        anonymous = await gw.client.request(method, f"/rest/gerrit/{path}", headers=plain, **kwargs)
        refused = await gw.direct.request(method, f"/{path}", headers=plain, **kwargs)
        assert anonymous.status_code == refused.status_code == 403, path
        assert anonymous.text.strip() == refused.text.strip() == "Authentication required"
        assert gw.sim.state.requests[before:] == []
        direct = await gw.direct.request(method, f"/a/{path}", headers=direct_headers, **kwargs)
        resp = await gw.client.request(method, f"/rest/gerrit/a/{path}", headers=headers, **kwargs)
        assert direct.status_code == status, (method, path, direct.text[:200])
        same_answer(resp, direct, sims)
        upstream = [r for r in gw.sim.state.requests[before:] if r[0] != "GET"]
        assert len(upstream) == 1 and upstream[0][0] == method, (path, upstream)
        assert upstream[0][1].split("?")[0] == f"/a/{path}".split("?")[0], upstream
        if path.endswith("/drafts") and status == 200:
            draft = decode(resp)["id"]
    assert draft


async def test_gerrit_group_confirm_round_trip(gw: GerritGateway) -> None:
    # A big group needs "confirmed": the first answer asks, the second adds all members.
    headers = basic("me", WRITER)
    ask = await gw.client.post(
        "/rest/gerrit/a/changes/4799/reviewers",
        headers=headers,
        json={"reviewer": "MyProjectVerifiers"},
    )
    asked = decode(ask)
    assert asked["confirm"] is True and "15 members" in asked["error"]
    assert "reviewers" not in asked
    confirmed = await gw.client.post(
        "/rest/gerrit/a/changes/4799/reviewers",
        headers=headers,
        json={"reviewer": "MyProjectVerifiers", "confirmed": True},
    )
    added = decode(confirmed)["reviewers"]
    assert len(added) == 15 and all(r["approvals"] for r in added)
    listed = decode(await gw.client.get("/rest/gerrit/changes/4799/reviewers/"))
    assert len(listed) == 15


async def test_gerrit_write_refusals_before_the_backend(gw: GerritGateway) -> None:
    before = len(gw.sim.state.requests)
    reader = await gw.client.post(
        "/rest/gerrit/a/changes/1756/abandon", headers=basic("me", READER), json={}
    )
    assert reader.status_code == 403
    wrong = await gw.client.post(
        "/rest/gerrit/a/changes/1756/abandon", headers=basic("me", "wrong"), json={}
    )
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic ")
    writer = basic("me", WRITER)
    bad_json = await gw.client.post(
        "/rest/gerrit/a/changes/1756/abandon",
        headers={**writer, "Content-Type": "application/json"},
        content=b"{nope",
    )
    assert bad_json.status_code == 400 and bad_json.text.strip() == "Invalid JSON in request"
    not_object = await gw.client.post(
        "/rest/gerrit/a/changes/1756/revisions/current/review", headers=writer, json=[1]
    )
    assert not_object.status_code == 400 and not_object.text.strip() == "Expected JSON object"
    assert gw.sim.state.requests[before:] == []
    # an unmodelled write by a writer is passed through (once), the backend's answer re-served
    undocumented = await gw.client.post("/rest/gerrit/a/changes/1756/detail", headers=writer)
    assert undocumented.status_code in (404, 405)
    assert [r[:2] for r in gw.sim.state.requests[before:]][-1:] == [
        ("POST", "/a/changes/1756/detail")
    ]
