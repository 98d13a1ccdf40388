"""Every documented write of the Gerrit adapter against the simulator: success and the
documented 409 / 404 / 400 answers."""

from __future__ import annotations

import pytest

from adapters.errors import BadRequest, Conflict, NotFound
from adapters.gerrit.records import CommentInput, ReviewInput
from adapters.gerrit.source import GerritSource
from adapters.model import ChangeState, CheckState
from tests.adapters.gerrit.conftest import JDOE, gerrit

JAVA = "gerrit-server/src/main/java/com/google/gerrit/server/project/RefControl.java"


async def test_writes_topic_set_and_delete(src: GerritSource) -> None:
    assert await src.set_topic("97", "Documentation") == "Documentation"
    assert await src.topic("97") == "Documentation"
    await src.delete_topic("97")
    assert await src.topic("97") is None
    assert await src.set_topic("3965", "") is None  # empty topic: deleted, 204
    with pytest.raises(NotFound):
        await src.set_topic("424242", "x")


async def test_writes_abandon_restore(src: GerritSource) -> None:
    abandoned = await src.abandon("1756", "not needed")
    assert abandoned.state is ChangeState.CLOSED and abandoned.raw_state == "ABANDONED"
    with pytest.raises(Conflict, match="change is abandoned"):
        await src.abandon("1756")
    restored = await src.restore("1756")
    assert restored.state is ChangeState.OPEN
    with pytest.raises(Conflict, match="change is new"):
        await src.restore("1756")
    with pytest.raises(Conflict, match="change is merged") as info:
        await src.abandon("9")
    assert info.value.status == 409 and info.value.backend == "g"


async def test_writes_rebase_change_and_revision(src: GerritSource) -> None:
    rebased = await src.rebase("4799")
    assert rebased.current is not None and rebased.current.number == 2
    assert rebased.current.commit is not None
    assert rebased.current.commit.parents[0][1] == "Tip of master"
    again = await src.rebase("4799", "current")
    assert again.current is not None and again.current.number == 3
    with pytest.raises(Conflict, match="path conflict during merge"):
        await src.rebase("4800")
    with pytest.raises(Conflict, match="is not current revision"):
        await src.rebase("3965", "1")


async def test_writes_revert(src: GerritSource) -> None:
    revert = await src.revert("9", "Breaks the build")
    assert revert.subject == "Breaks the build" and revert.state is ChangeState.OPEN
    assert revert.number != 9
    default = await src.revert("9")
    assert default.subject == 'Revert "test"'
    with pytest.raises(Conflict, match="change is new"):
        await src.revert("3965")


async def test_writes_submit_blocked_then_merged(src: GerritSource) -> None:
    with pytest.raises(Conflict, match="blocked by Verified"):
        await src.submit("3965")
    await src.set_review("3965", "current", ReviewInput(labels={"Verified": 1}))
    with pytest.raises(Conflict, match="blocked by Code-Review"):
        await src.submit("3965", wait_for_merge=True)  # jdoe's -1 still there
    await src.delete_reviewer("3965", "jdoe")
    await src.set_review("3965", "current", ReviewInput(labels={"Code-Review": 2}))
    merged = await src.submit("3965", wait_for_merge=True)
    assert merged.state is ChangeState.MERGED
    with pytest.raises(Conflict, match="change is merged"):
        await src.submit("3965")


async def test_writes_submit_revision(src: GerritSource) -> None:
    await src.set_review("97", "1", ReviewInput(labels={"Verified": 1, "Code-Review": 2}))
    with pytest.raises(Conflict, match="blocked by"):
        await src.submit_revision("1757", "current")
    assert await src.submit_revision("97", "current", wait_for_merge=True) == "MERGED"


async def test_writes_draft_change_publish_and_delete(src: GerritSource) -> None:
    await src.publish("4801", "current")  # the draft patch set
    await src.publish("4801")
    assert (await src.change("4801")).state is ChangeState.OPEN
    with pytest.raises(Conflict, match="not a draft"):
        await src.publish("4801")
    with pytest.raises(Conflict, match="not a draft"):
        await src.delete_draft("3965")
    with pytest.raises(Conflict, match="not a draft"):
        await src.delete_draft("3965", "1")


async def test_writes_delete_draft_change() -> None:
    async with gerrit() as (src, sim):
        await src.delete_draft("4801")
        assert 4801 not in sim.state.data.changes
        with pytest.raises(NotFound):
            await src.change("4801")


async def test_writes_reviewers_with_group_confirmation(src: GerritSource) -> None:
    added = await src.add_reviewer("97", "john.doe@example.com")
    assert [r.account.username for r in added.reviewers] == ["jdoe"]
    assert added.reviewers[0].approvals == {"Verified": 0, "Code-Review": 0}
    ask = await src.add_reviewer("97", "MyProjectVerifiers")
    assert ask.confirm and ask.reviewers == () and ask.error and "15 members" in ask.error
    assert len(await src.reviewers("97")) == 1  # nothing added before confirmation
    confirmed = await src.add_reviewer("97", "MyProjectVerifiers", confirmed=True)
    assert len(confirmed.reviewers) == 15 and not confirmed.confirm
    unknown = await src.add_reviewer("97", "nobody-at-all")
    assert unknown.error and "does not identify" in unknown.error
    await src.delete_reviewer("97", "John Doe")
    assert len(await src.reviewers("97")) == 15
    with pytest.raises(NotFound):
        await src.delete_reviewer("97", "John Doe")
    with pytest.raises(BadRequest):
        await src.add_reviewer("97", " ")


async def test_writes_set_review_labels_message_comments(src: GerritSource) -> None:
    review = ReviewInput(
        message="Some nits need to be fixed.",
        labels={"Code-Review": -1, "Verified": -1},
        comments=(
            CommentInput(path=JAVA, line=23, message="[nit] trailing whitespace"),
            CommentInput(path=JAVA, line=49, message="[nit] s/conrtol/control"),
        ),
    )
    assert await src.set_review("3965", "674ac754", review) == {"Code-Review": -1, "Verified": -1}
    comments = await src.comments("3965", "current")
    assert len(comments) == 4
    assert comments[-1].author is not None and comments[-1].author.username == "admin"
    detail = await src.change_detail("3965")
    assert detail.messages is not None
    assert "Some nits need to be fixed." in detail.messages[-1].message
    assert detail.check_state is CheckState.FAILURE  # the Verified -1 is a failing check
    with pytest.raises(BadRequest, match="is restricted"):
        await src.set_review("3965", "current", ReviewInput(labels={"Code-Review": 3}))
    with pytest.raises(BadRequest, match="not a configured label"):
        await src.set_review("3965", "current", ReviewInput(labels={"Nope": 1}))
    with pytest.raises(BadRequest, match="not found in revision"):
        bad = ReviewInput(comments=(CommentInput(path="nope.c", line=1, message="x"),))
        await src.set_review("3965", "current", bad)
    with pytest.raises(BadRequest, match="needs a path"):
        await src.set_review("3965", "current", ReviewInput(comments=(CommentInput(None, "x"),)))


async def test_writes_drafts_create_update_delete(src: GerritSource) -> None:
    created = await src.create_draft(
        "3965", "current", CommentInput(path=JAVA, line=23, message="[nit] trailing whitespace")
    )
    assert created.path == JAVA and created.line == 23
    updated = await src.update_draft(
        "3965", "current", created.id, CommentInput(path=JAVA, line=24, message="moved")
    )
    assert (updated.id, updated.line, updated.message) == (created.id, 24, "moved")
    assert created.id in [d.id for d in await src.drafts("3965", "current")]
    await src.delete_draft_comment("3965", "current", created.id)
    assert created.id not in [d.id for d in await src.drafts("3965", "current")]
    with pytest.raises(NotFound):
        await src.delete_draft_comment("3965", "current", created.id)
    with pytest.raises(BadRequest):
        await src.create_draft("3965", "current", CommentInput(path=None, message="x"))


async def test_writes_reviewed_flags(src: GerritSource) -> None:
    assert await src.set_reviewed("3965", "current", JAVA) is True  # 201 Created
    assert await src.set_reviewed("3965", "current", JAVA) is False  # 200: already
    assert JAVA in await src.reviewed_files("3965", "current")
    await src.delete_reviewed("3965", "current", JAVA)
    assert JAVA not in await src.reviewed_files("3965", "current")
    with pytest.raises(NotFound):
        await src.set_reviewed("3965", "current", "no/such.c")


async def test_writes_cherry_pick_and_edit_message(src: GerritSource) -> None:
    picked = await src.cherry_pick("3965", "674ac754", "release-branch", "Implementing Feature X")
    assert picked.branch == "release-branch" and picked.number != 3965
    with pytest.raises(BadRequest, match="does not exist"):
        await src.cherry_pick("3965", "current", "no-such-branch", "x")
    with pytest.raises(BadRequest):
        await src.cherry_pick("3965", "current", "", "x")
    edited = await src.edit_message("3965", "current", "Reword Implementing Feature X\n\nBody.")
    assert edited.subject == "Reword Implementing Feature X"
    with pytest.raises(Conflict, match="not current revision"):
        await src.edit_message("3965", "1", "Old patch set")
    with pytest.raises(Conflict, match="change is merged"):
        await src.edit_message("9", "current", "Too late")


async def test_writes_test_submit_type_and_rule(src: GerritSource) -> None:
    assert await src.test_submit_type("3965", "current", "submit_type(cherry_pick).") == (
        "CHERRY_PICK"
    )
    with pytest.raises(BadRequest):
        await src.test_submit_type("3965", "current", "nonsense")
    rule = "submit_rule(submit(R)) :- R = label('Any-Label-Name', reject(_))."
    (record,) = await src.test_submit_rule("3965", "current", rule, skip_filters=True)
    assert record.status == "NOT_READY" and list(record.reject) == ["Any-Label-Name"]
    (default,) = await src.test_submit_rule("9", "current", "")
    assert default.status == "OK"


async def test_writes_as_another_user() -> None:
    async with gerrit(credentials=JDOE) as (src, sim):
        await src.set_review(
            "97", "current", ReviewInput(message="LGTM", labels={"Code-Review": 1})
        )
        assert sim.state.data.changes[97].votes["Code-Review"] == {1000096: 1}
        assert await src.drafts("3965", "current") == []  # the seeded draft is admin's
