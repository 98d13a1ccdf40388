"""Every Gerrit write as a GraphQL mutation against the simulator: success, and the documented
409 / 404 / 401 / 400 answers in the payload's ``errors`` with their codes."""

from __future__ import annotations

from typing import Any

from schema import node
from tests.schema.gerrit.conftest import ENV, GerritGateway, gerrit_gateway

JAVA = "gerrit-server/src/main/java/com/google/gerrit/server/project/RefControl.java"
CHANGE_FIELDS = "change { number state rawState topic branch title } errors { code message field }"


def cid(number: int) -> str:
    return node.encode("GerritChange", "g", str(number))


async def run(gw: GerritGateway, name: str, fields: str, inp: dict[str, Any]) -> dict[str, Any]:
    """One mutation whose input type is looked up from the schema by name."""
    typ = {
        "gerritSetTopic": "GerritSetTopicInput",
        "gerritDeleteTopic": "GerritChangeInput",
        "gerritAbandon": "GerritChangeMessageInput",
        "gerritRestore": "GerritChangeMessageInput",
        "gerritRevert": "GerritChangeMessageInput",
        "gerritRebase": "GerritChangeRevisionInput",
        "gerritPublishDraft": "GerritChangeRevisionInput",
        "gerritDeleteDraft": "GerritChangeRevisionInput",
        "gerritSubmit": "GerritSubmitInput",
        "gerritAddReviewer": "GerritAddReviewerInput",
        "gerritDeleteReviewer": "GerritDeleteReviewerInput",
        "gerritSetReview": "GerritSetReviewInput",
        "gerritSaveDraft": "GerritDraftInput",
        "gerritDeleteDraftComment": "GerritDeleteDraftCommentInput",
        "gerritSetReviewed": "GerritFileInput",
        "gerritDeleteReviewed": "GerritFileInput",
        "gerritCherryPick": "GerritCherryPickInput",
        "gerritEditCommitMessage": "GerritEditMessageInput",
        "gerritTestSubmitType": "GerritTestRuleInput",
        "gerritTestSubmitRule": "GerritTestRuleInput",
    }[name]
    q = f"mutation($i: {typ}!) {{ {name}(input: $i) {{ {fields} }} }}"
    result: dict[str, Any] = (await gw.data(q, {"i": inp}))[name]
    return result


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def test_topic_set_and_delete(ggw: GerritGateway) -> None:
    got = await run(ggw, "gerritSetTopic", CHANGE_FIELDS, {"change": cid(97), "topic": "Docs"})
    assert got["change"]["topic"] == "Docs" and got["errors"] == []
    got = await run(ggw, "gerritDeleteTopic", CHANGE_FIELDS, {"change": cid(97)})
    assert got["change"]["topic"] is None
    missing = await run(ggw, "gerritSetTopic", CHANGE_FIELDS, {"change": cid(424242), "topic": "x"})
    assert missing["change"] is None and codes(missing) == ["NOT_FOUND"]


async def test_abandon_restore_and_their_conflicts(ggw: GerritGateway) -> None:
    args = {"change": cid(1756), "message": "not needed"}
    got = await run(ggw, "gerritAbandon", CHANGE_FIELDS, args)
    assert (got["change"]["state"], got["change"]["rawState"]) == ("CLOSED", "ABANDONED")
    again = await run(ggw, "gerritAbandon", CHANGE_FIELDS, args)
    assert codes(again) == ["CONFLICT"] and "change is abandoned" in again["errors"][0]["message"]
    got = await run(ggw, "gerritRestore", CHANGE_FIELDS, {"change": cid(1756)})
    assert got["change"]["state"] == "OPEN"
    again = await run(ggw, "gerritRestore", CHANGE_FIELDS, {"change": cid(1756)})
    assert codes(again) == ["CONFLICT"]


async def test_rebase_change_and_revision(ggw: GerritGateway) -> None:
    fields = "change { number currentRevision { number } } errors { code message }"
    got = await run(ggw, "gerritRebase", fields, {"change": cid(4799)})
    assert got["change"]["currentRevision"]["number"] == 2
    got = await run(ggw, "gerritRebase", fields, {"change": cid(4799), "revision": "current"})
    assert got["change"]["currentRevision"]["number"] == 3
    conflict = await run(ggw, "gerritRebase", fields, {"change": cid(4800)})
    assert codes(conflict) == ["CONFLICT"] and "path conflict" in conflict["errors"][0]["message"]
    stale = await run(ggw, "gerritRebase", fields, {"change": cid(3965), "revision": "1"})
    assert codes(stale) == ["CONFLICT"]


async def test_revert(ggw: GerritGateway) -> None:
    got = await run(ggw, "gerritRevert", CHANGE_FIELDS, {"change": cid(9), "message": "Breaks"})
    assert got["change"]["title"] == "Breaks" and got["change"]["number"] != 9
    bad = await run(ggw, "gerritRevert", CHANGE_FIELDS, {"change": cid(3965)})
    assert codes(bad) == ["CONFLICT"]


async def test_review_then_submit_with_wait_for_merge(ggw: GerritGateway) -> None:
    blocked = await run(ggw, "gerritSubmit", CHANGE_FIELDS, {"change": cid(3965)})
    assert (
        codes(blocked) == ["CONFLICT"] and "blocked by Verified" in blocked["errors"][0]["message"]
    )
    await run(ggw, "gerritDeleteReviewer", "done", {"change": cid(3965), "account": "jdoe"})
    review = await run(
        ggw,
        "gerritSetReview",
        "labels { label value } errors { code }",
        {
            "change": cid(3965),
            "message": "Ship it",
            "labels": [{"label": "Verified", "value": 1}, {"label": "Code-Review", "value": 2}],
        },
    )
    assert review == {
        "labels": [{"label": "Verified", "value": 1}, {"label": "Code-Review", "value": 2}],
        "errors": [],
    }
    merged = await run(
        ggw, "gerritSubmit", CHANGE_FIELDS, {"change": cid(3965), "waitForMerge": True}
    )
    assert merged["change"]["state"] == "MERGED"
    q = '{ gerritChange(backend: "g", id: "3965") { checkState messages { message } } }'
    after = (await ggw.data(q))["gerritChange"]
    assert after["checkState"] == "SUCCESS"
    assert any("Ship it" in m["message"] for m in after["messages"])


async def test_submit_revision(ggw: GerritGateway) -> None:
    labels = [{"label": "Verified", "value": 1}, {"label": "Code-Review", "value": 2}]
    await run(ggw, "gerritSetReview", "errors { code }", {"change": cid(97), "labels": labels})
    got = await run(ggw, "gerritSubmit", CHANGE_FIELDS, {"change": cid(97), "revision": "1"})
    assert got["change"]["state"] == "MERGED"


async def test_set_review_with_inline_comments_and_errors(ggw: GerritGateway) -> None:
    fields = "labels { label value } errors { code message }"
    ok = await run(
        ggw,
        "gerritSetReview",
        fields,
        {
            "change": cid(3965),
            "revision": "674ac754",
            "message": "Some nits",
            "labels": [{"label": "Code-Review", "value": -1}],
            "comments": [{"path": JAVA, "line": 23, "message": "[nit] trailing whitespace"}],
        },
    )
    assert ok["labels"] == [{"label": "Code-Review", "value": -1}]
    q = """{ gerritChange(backend: "g", id: "3965") {
        currentRevision { comments { line message author { username } } } } }"""
    comments = (await ggw.data(q))["gerritChange"]["currentRevision"]["comments"]
    assert {
        "line": 23,
        "message": "[nit] trailing whitespace",
        "author": {"username": "admin"},
    } in (comments)
    restricted = await run(
        ggw,
        "gerritSetReview",
        fields,
        {"change": cid(3965), "labels": [{"label": "Code-Review", "value": 3}]},
    )
    assert (
        codes(restricted) == ["BAD_REQUEST"] and "restricted" in restricted["errors"][0]["message"]
    )
    empty = await run(ggw, "gerritSetReview", fields, {"change": cid(3965)})
    assert codes(empty) == ["BAD_USER_INPUT"]
    closed = await run(
        ggw,
        "gerritSetReview",
        fields,
        {"change": cid(9), "labels": [{"label": "Code-Review", "value": 1}]},
    )
    assert codes(closed) == ["CONFLICT"]


async def test_draft_change_publish_and_delete(ggw: GerritGateway) -> None:
    args = {"change": cid(4801), "revision": "current"}
    got = await run(ggw, "gerritPublishDraft", CHANGE_FIELDS, args)
    assert got["errors"] == []
    got = await run(ggw, "gerritPublishDraft", CHANGE_FIELDS, {"change": cid(4801)})
    assert got["change"]["state"] == "OPEN"
    again = await run(ggw, "gerritPublishDraft", CHANGE_FIELDS, {"change": cid(4801)})
    assert codes(again) == ["CONFLICT"]
    no = await run(ggw, "gerritDeleteDraft", "done errors { code }", {"change": cid(3965)})
    assert no == {"done": False, "errors": [{"code": "CONFLICT"}]}


async def test_delete_draft_change() -> None:
    async with gerrit_gateway() as gw:
        got = await run(gw, "gerritDeleteDraft", "done errors { code }", {"change": cid(4801)})
        assert got == {"done": True, "errors": []}
        q = '{ gerritChange(backend: "g", id: "4801") { number } }'
        assert (await gw.data(q))["gerritChange"] is None


async def test_add_reviewer_group_confirm_round_trip(ggw: GerritGateway) -> None:
    fields = "reviewers { account { username } } confirm message errors { code field }"
    one = await run(ggw, "gerritAddReviewer", fields, {"change": cid(97), "reviewer": "jdoe"})
    assert [r["account"]["username"] for r in one["reviewers"]] == ["jdoe"]
    args = {"change": cid(97), "reviewer": "MyProjectVerifiers"}
    ask = await run(ggw, "gerritAddReviewer", fields, args)
    assert ask["confirm"] is True and ask["reviewers"] == [] and ask["errors"] == []
    assert "15 members" in ask["message"]
    confirmed = await run(ggw, "gerritAddReviewer", fields, {**args, "confirmed": True})
    assert len(confirmed["reviewers"]) == 15 and confirmed["confirm"] is False
    unknown = await run(ggw, "gerritAddReviewer", fields, {"change": cid(97), "reviewer": "nobody"})
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "reviewer"}]
    gone = await run(
        ggw, "gerritDeleteReviewer", "done errors { code }", {"change": cid(97), "account": "jdoe"}
    )
    assert gone == {"done": True, "errors": []}
    again = await run(
        ggw, "gerritDeleteReviewer", "done errors { code }", {"change": cid(97), "account": "jdoe"}
    )
    assert again == {"done": False, "errors": [{"code": "NOT_FOUND"}]}


async def test_drafts_create_update_delete(ggw: GerritGateway) -> None:
    fields = "draft { id path line message } errors { code }"
    comment = {"path": JAVA, "line": 23, "message": "[nit] trailing whitespace"}
    created = await run(ggw, "gerritSaveDraft", fields, {"change": cid(3965), "comment": comment})
    draft = created["draft"]
    assert (draft["path"], draft["line"]) == (JAVA, 23)
    moved = {**comment, "line": 24, "message": "moved"}
    args = {"change": cid(3965), "comment": moved, "draftId": draft["id"]}
    updated = await run(ggw, "gerritSaveDraft", fields, args)
    assert updated["draft"] == {"id": draft["id"], "path": JAVA, "line": 24, "message": "moved"}
    q = '{ gerritChange(backend: "g", id: "3965") { currentRevision { drafts { id } } } }'
    ids = [d["id"] for d in (await ggw.data(q))["gerritChange"]["currentRevision"]["drafts"]]
    assert draft["id"] in ids
    args = {"change": cid(3965), "draftId": draft["id"]}
    done = await run(ggw, "gerritDeleteDraftComment", "done errors { code }", args)
    assert done == {"done": True, "errors": []}
    again = await run(ggw, "gerritDeleteDraftComment", "done errors { code }", args)
    assert again == {"done": False, "errors": [{"code": "NOT_FOUND"}]}
    bad_side = {**comment, "side": "LEFT"}
    bad = await run(ggw, "gerritSaveDraft", fields, {"change": cid(3965), "comment": bad_side})
    assert codes(bad) == ["BAD_USER_INPUT"]


async def test_reviewed_flags(ggw: GerritGateway) -> None:
    args = {"change": cid(3965), "path": JAVA}
    assert await run(ggw, "gerritSetReviewed", "done", args) == {"done": True}
    q = '{ gerritChange(backend: "g", id: "3965") { currentRevision { reviewedFiles } } }'
    assert JAVA in (await ggw.data(q))["gerritChange"]["currentRevision"]["reviewedFiles"]
    assert await run(ggw, "gerritDeleteReviewed", "done", args) == {"done": True}
    assert JAVA not in (await ggw.data(q))["gerritChange"]["currentRevision"]["reviewedFiles"]
    missing = await run(ggw, "gerritSetReviewed", "errors { code }", {**args, "path": "no.c"})
    assert codes(missing) == ["NOT_FOUND"]


async def test_cherry_pick_and_edit_commit_message(ggw: GerritGateway) -> None:
    args = {"change": cid(3965), "destination": "release-branch", "message": "Feature X"}
    picked = await run(ggw, "gerritCherryPick", CHANGE_FIELDS, args)
    assert picked["change"]["branch"] == "release-branch"
    nowhere = await run(ggw, "gerritCherryPick", CHANGE_FIELDS, {**args, "destination": "nope"})
    assert codes(nowhere) == ["BAD_REQUEST"]
    msg = {"change": cid(3965), "message": "Reword Feature X\n\nBody."}
    edited = await run(ggw, "gerritEditCommitMessage", CHANGE_FIELDS, msg)
    assert edited["change"]["title"] == "Reword Feature X"
    merged = await run(ggw, "gerritEditCommitMessage", CHANGE_FIELDS, {**msg, "change": cid(9)})
    assert codes(merged) == ["CONFLICT"]


async def test_submit_type_and_rule(ggw: GerritGateway) -> None:
    args = {"change": cid(3965), "rule": "submit_type(cherry_pick)."}
    got = await run(ggw, "gerritTestSubmitType", "submitType errors { code }", args)
    assert got == {"submitType": "CHERRY_PICK", "errors": []}
    bad = await run(
        ggw, "gerritTestSubmitType", "submitType errors { code }", {**args, "rule": "x"}
    )
    assert codes(bad) == ["BAD_REQUEST"]
    rule = "submit_rule(submit(R)) :- R = label('Any-Label-Name', reject(_))."
    fields = "records { status labels { label status } } errors { code }"
    rule_args: dict[str, Any] = {"change": cid(3965), "rule": rule, "skipFilters": True}
    got = await run(ggw, "gerritTestSubmitRule", fields, rule_args)
    assert got["records"] == [
        {"status": "NOT_READY", "labels": [{"label": "Any-Label-Name", "status": "reject"}]}
    ]


async def test_bad_ids_and_wrong_kind(ggw: GerritGateway) -> None:
    bad = await run(ggw, "gerritAbandon", CHANGE_FIELDS, {"change": "not-an-id"})
    assert codes(bad) == ["BAD_ID"]
    other = node.encode("GerritChange", "nope", "1")
    missing = await run(ggw, "gerritAbandon", CHANGE_FIELDS, {"change": other})
    assert codes(missing) == ["BACKEND_NOT_FOUND"]
    assert ggw.upstream() == []


async def test_wrong_password_is_401_without_leaking_it() -> None:
    ENV["G_PASS"] = "wrong-password-x"
    try:
        async with gerrit_gateway() as gw:
            got = await run(gw, "gerritAbandon", CHANGE_FIELDS, {"change": cid(1756)})
    finally:
        ENV["G_PASS"] = "secret"
    assert codes(got) == ["FORBIDDEN"] and "401" in got["errors"][0]["message"]
    assert "wrong-password-x" not in str(got)


async def test_anonymous_write_is_refused() -> None:
    async with gerrit_gateway(anonymous=True) as gw:
        got = await run(gw, "gerritAbandon", CHANGE_FIELDS, {"change": cid(1756)})
    assert codes(got) == ["FORBIDDEN"]
