"""Every documented read of the Gerrit adapter against the simulator: success and errors."""

from __future__ import annotations

import pytest

from adapters.errors import BadRequest, Forbidden, NotFound
from adapters.gerrit.simulator import GerritData
from adapters.gerrit.source import GerritSource
from adapters.http import Credentials
from adapters.model import ChangeState, CheckState, PageRequest
from tests.adapters.gerrit.conftest import ADMIN, gerrit

JAVA = "gerrit-server/src/main/java/com/google/gerrit/server/project/RefControl.java"
TRIPLET = "myProject~master~I8473b95934b5732ac55d26311a706c9c2bde9940"


async def test_reads_projects_prefix_and_descriptions(src: GerritSource) -> None:
    names = [p.name for p in await src.projects()]
    assert "external/bison" in names and names == sorted(names)
    bison = next(p for p in await src.projects() if p.name == "external/bison")
    assert bison.raw["description"] == "GNU parser generator"
    assert [p.name for p in await src.projects("platform")] == [
        "platform/drivers",
        "platform/tools",
    ]
    bare = await src.projects(descriptions=False)
    assert all("description" not in p.raw for p in bare)
    page = await src.list_projects(PageRequest(0, 3))
    assert len(page.items) == 3 and page.has_next and page.total == len(names)
    assert [p and p.name for p in await src.get_projects(["demo", "nope"])] == ["demo", None]


async def test_reads_capabilities_admin_anonymous_filtered(
    src: GerritSource, anon: GerritSource
) -> None:
    admin = await src.capabilities()
    assert "administrateServer" in admin.enabled and admin.query_limit == (0, 500)
    assert (await anon.capabilities()).enabled == ()
    assert (await src.capabilities(["createAccount", "createGroup"])).enabled == (
        "createAccount",
        "createGroup",
    )


async def test_reads_every_change_id_form(src: GerritSource) -> None:
    forms = [
        "3965",
        "I8473b95934b5732ac55d26311a706c9c2bde9940",
        TRIPLET,
        "myProject~refs%2Fheads%2Fmaster~I8473b95934b5732ac55d26311a706c9c2bde9940",
    ]
    for form in forms:
        change = await src.change(form)
        assert change.number == 3965 and change.triplet == TRIPLET, form
    encoded = await src.change("packages%2Ftest~master~Ieabd72e73f3da0df90fd6e8cba8f6c5dd7d120df")
    assert encoded.number == 9 and encoded.state is ChangeState.MERGED
    assert (
        await src.change("packages/test~master~Ieabd72e73f3da0df90fd6e8cba8f6c5dd7d120df")
    ).number == 9
    with pytest.raises(NotFound):
        await src.change("424242")
    with pytest.raises(BadRequest):
        await src.change("  ")


async def test_reads_detail_topic_in_reviewers(src: GerritSource) -> None:
    detail = await src.change_detail("3965")
    assert detail.messages is not None and [m.id for m in detail.messages] == ["YH-egE", "WEEdhU"]
    assert {label.name for label in detail.labels} == {"Verified", "Code-Review"}
    cr = next(label for label in detail.labels if label.name == "Code-Review")
    assert cr.permitted == (-2, -1, 0, 1, 2) and cr.values[2] == "Looks good to me, approved"
    assert detail.check_state is CheckState.PENDING  # Verified 0 from both reviewers
    assert await src.topic("3965") == "Documentation"
    assert await src.topic("97") is None
    assert (await src.included_in("9")).branches == ("master",)
    reviewers = await src.reviewers("3965")
    assert [r.account.username for r in reviewers] == ["jdoe", "jroe"]
    assert reviewers[0].approvals == {"Verified": 0, "Code-Review": -1}
    assert (await src.reviewer("3965", "jane.roe@example.com")).approvals["Code-Review"] == 1
    with pytest.raises(NotFound):
        await src.reviewer("3965", "nobody")
    suggested = await src.suggest_reviewers("3965", "J", 5)
    assert any(s.group_name == "Joiner" for s in suggested)
    assert any(s.account and s.account.name == "Jane Roe" for s in suggested)
    assert len(await src.suggest_reviewers("3965", "verifier", 3)) == 3
    assert [m.id for m in await src.messages("3965")] == ["YH-egE", "WEEdhU"]


async def test_reads_every_revision_id_form(src: GerritSource) -> None:
    sha = "674ac754f91e64a0efb8087e59a176484bd534d1"
    for rev in ("current", sha, sha[:8], "674a", "2"):
        commit = await src.commit("3965", rev)
        assert commit.sha == sha, rev
    assert (await src.commit("3965", "1")).sha == "b6b9c10649b9041884046119ab794374470a1b45"
    with pytest.raises(NotFound):
        await src.commit("3965", "9")
    with pytest.raises(BadRequest):
        await src.commit("3965", "xyz")  # not current, a sha or a number: refused before I/O


async def test_reads_review_files_content_diff(src: GerritSource) -> None:
    review = await src.review("3965", "1")
    assert [r.number for r in review.revisions] == [1] and review.current_revision is None
    files = await src.files("3965", "current")
    assert [f.path for f in files] == ["/COMMIT_MSG", JAVA]
    assert (files[1].lines_inserted, files[1].lines_deleted, files[1].status) == (4, 1, "M")
    assert await src.reviewed_files("3965", "current") == ["/COMMIT_MSG"]
    content = await src.file_content("3965", "current", JAVA)
    assert content.text().startswith("// Copyright (C) 2010 The Android Open Source Project")
    plain = await src.diff("3965", "current", JAVA)
    assert plain.change_type == "MODIFIED" and plain.content[0].ab[0].startswith("// Copyright")
    assert any(
        chunk.b == ("//", "// Add some more lines in the header.") for chunk in plain.content
    )
    intraline = await src.diff("3965", "current", JAVA, intraline=True)
    assert intraline.intraline_status == "OK"
    assert any(chunk.edit_b for chunk in intraline.content)
    based = await src.diff("3965", "1", JAVA, base="2")
    assert not any(
        chunk.b == ("//", "// Add some more lines in the header.") for chunk in based.content
    )
    short = await src.diff("3965", "current", JAVA, context="1")
    assert short.content[0].skip is not None
    assert (await src.diff("3965", "current", JAVA, ignore_whitespace="ALL")).content
    with pytest.raises(BadRequest):
        await src.diff("3965", "current", JAVA, context="lots")
    with pytest.raises(BadRequest):
        await src.diff("3965", "current", JAVA, ignore_whitespace="SOME")
    with pytest.raises(NotFound):
        await src.diff("3965", "current", "no/such/file")


async def test_reads_patch_base64_and_zip(src: GerritSource) -> None:
    patch = await src.patch("3965", "current")
    assert patch.content_type == "application/mbox"
    assert patch.text().startswith("From 674ac754f91e64a0efb8087e59a176484bd534d1")
    zipped = await src.patch("3965", "current", zip=True)
    assert zipped.data == patch.data


async def test_reads_mergeable_submit_type_comments_drafts(src: GerritSource) -> None:
    merge = await src.mergeable("3965", "current")
    assert merge.submit_type == "MERGE_IF_NECESSARY" and merge.mergeable
    assert not (await src.mergeable("4799", "current")).mergeable
    assert await src.submit_type("3965", "current") == "MERGE_IF_NECESSARY"
    comments = await src.comments("3965", "current")
    assert [c.id for c in comments] == ["TvcXrmjM", "TveXwFiA"]
    assert comments[1].in_reply_to == "TfYX-Iuo"
    assert (await src.comment("3965", "current", "TvcXrmjM")).line == 23
    with pytest.raises(NotFound):
        await src.comment("3965", "current", "nope")
    drafts = await src.drafts("3965", "current")
    assert [d.id for d in drafts] == ["TvcXrmjN"] and drafts[0].author is None
    assert (await src.draft("3965", "current", "TvcXrmjN")).message == "[nit] trailing whitespace"
    assert await src.comments("3965", "1") == []


async def test_reads_revisions_fetch_and_download_commands(src: GerritSource) -> None:
    change = await src.change_revisions("3965")
    assert [r.number for r in change.revisions] == [1, 2]
    current = change.current
    assert current is not None and current.is_current and current.files is not None
    http = next(f for f in current.fetch if f.protocol == "http")
    assert http.ref == "refs/changes/65/3965/2" and "Checkout" in http.commands
    assert current.commit is not None and current.commit.subject == "Implementing Feature X"
    assert change.messages is not None


async def test_reads_query_operators(src: GerritSource) -> None:
    async def numbers(q: str) -> list[int]:
        return [c.number for c in (await src.query_changes(q, PageRequest(0, 50))).items]

    assert await numbers("status:merged") == [9]
    assert set(await numbers("is:open project:demo")) == {1756, 1757}
    assert await numbers("owner:jdoe branch:master -project:demo status:open") == [4799, 3965]
    assert await numbers("reviewer:jroe") == [3965]
    assert await numbers("topic:Documentation") == [3965]
    assert await numbers("change:97") == [97] == await numbers("97")
    assert await numbers("(project:gerrit OR project:packages/test)") == [9, 97]
    assert await numbers("status:open limit:2") == (await numbers("status:open"))[:2]
    assert await numbers("status:draft") == [4801]  # admin owns the draft
    assert 4801 in await numbers("owner:self")
    with pytest.raises(BadRequest, match="invalid Gerrit query: unbalanced"):
        await src.query_changes("(status:open", PageRequest(0, 5))
    with pytest.raises(BadRequest, match="unknown search operator"):
        await src.query_changes("colour:blue", PageRequest(0, 5))
    with pytest.raises(BadRequest, match="not supported by this simulator"):
        await src.query_changes("age:1d", PageRequest(0, 5))  # valid Gerrit, server said 400


async def test_reads_multi_query_is_one_request(src: GerritSource) -> None:
    before = src.request_count
    lists = await src.query_many(
        ["is:open owner:self", "is:open reviewer:self -owner:self", "is:closed owner:self limit:5"],
        options=["LABELS"],
    )
    assert src.request_count == before + 1
    assert [len(x) for x in lists] == [1, 1, 1]
    assert lists[1][0].number == 1756 and lists[2][0].number == 9
    assert lists[0][0].has_labels


async def test_reads_paging_start_and_more_changes() -> None:
    async with gerrit(GerritData.generated(40)) as (src, sim):
        seen: list[int] = []
        offset = 0
        while True:
            page = await src.query_changes("status:open", PageRequest(offset, 7))
            seen += [c.number for c in page.items]
            if not page.has_next:
                break
            offset += 7
        assert len(seen) == len(set(seen)) and src.legacy_paging is False
        assert any("S=7" in path for _, path in sim.state.requests)
        everything = await src.query_changes("status:open", PageRequest(0, 100))
        assert seen == [c.number for c in everything.items] and everything.total == len(seen)


async def test_reads_legacy_sortkey_paging() -> None:
    async with gerrit(GerritData.generated(40), legacy=True) as (src, sim):
        first = await src.query_changes("status:open", PageRequest(0, 7))
        assert src.legacy_paging is True and first.items[0].sortkey
        second = await src.query_changes("status:open", PageRequest(7, 7))
        assert f"N={first.items[-1].sortkey}" in sim.state.requests[-1][1]
        everything = await src.query_changes("status:open", PageRequest(0, 100))
        numbers = [c.number for c in everything.items]
        assert [c.number for c in second.items] == numbers[7:14]
        # An offset never seen: walked to from the nearest known sort key.
        jump = await src.query_changes("is:open", PageRequest(20, 5))
        assert [c.number for c in jump.items] == numbers[20:25]
    async with gerrit(GerritData.generated(40), legacy=True) as (src, _):
        # A first request past offset 0 meets the 2.8 server's 400 for S, then walks.
        page = await src.query_changes("status:open", PageRequest(3, 4))
        assert [c.number for c in page.items] == numbers[3:7] and src.legacy_paging


async def test_reads_anonymous_uses_plain_paths() -> None:
    async with gerrit(credentials=None) as (src, sim):
        page = await src.query_changes("status:open", PageRequest(0, 5))
        assert page.items and all(not path.startswith("/a/") for _, path in sim.state.requests)
        assert 4801 not in [c.number for c in page.items]  # another user's draft is hidden
        with pytest.raises(Forbidden, match="Authentication required"):
            await src.abandon("3965")


async def test_reads_digest_auth() -> None:
    async with gerrit(auth="digest") as (src, sim):
        assert (await src.change("3965")).number == 3965
        assert src.client.auth_scheme == "digest"
        await src.set_topic("97", "digest-works")  # a write after the switch: signed
        assert sim.state.data.changes[97].topic == "digest-works"
    async with gerrit(auth="digest") as (src, sim):
        await src.set_topic("97", "first-write")  # a first write probes the scheme first
        assert sim.state.requests[0][1].startswith("/a/accounts/self/capabilities")
        assert sim.state.data.changes[97].topic == "first-write"


async def test_reads_wrong_password_is_forbidden() -> None:
    for auth in ("basic", "digest"):
        bad = Credentials(username="admin", password="wrong")
        async with gerrit(credentials=bad, auth=auth) as (src, _):
            with pytest.raises(Forbidden) as info:
                await src.change("3965")
            assert "wrong" not in str(info.value) and info.value.status == 401


async def test_reads_gzip_and_prefix(src: GerritSource) -> None:
    resp = await src.client.get("/changes/3965", None)
    assert resp.body.startswith(b")]}'\n")
    assert resp.headers.get("Content-Encoding") == "gzip"  # aiohttp decoded it
    assert ADMIN.username == "admin"
