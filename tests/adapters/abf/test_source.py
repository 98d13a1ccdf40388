"""The ABF client and source against the simulator, in the real and the documented mode."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.abf import mapping
from adapters.abf.records import (
    Mergeability,
    NewPullRequest,
    PullRequestFilter,
    PullRequestUpdate,
    Scope,
)
from adapters.errors import BadRequest, Conflict, Forbidden, NotFound, UpstreamError
from adapters.http import Credentials
from adapters.model import ChangeState, PageRequest
from tests.adapters.abf.conftest import Abf, make_source
from tests.conftest import count_calls

ALL = PageRequest(0, 100)


def project_filter(**kw: object) -> PullRequestFilter:
    return PullRequestFilter(scope=Scope.PROJECT, project="666", **kw)  # type: ignore[arg-type]


# -- reads ----------------------------------------------------------------------------------


async def test_source_single_pull_request_from_the_document(abf: Abf) -> None:
    [pr] = await abf.source.get_pull_requests(["666/11"])
    assert pr is not None and pr.is_detail
    assert (pr.title, pr.body, pr.number) == ("new feature", "new cool feature for us", 11)
    assert pr.created_at == datetime.fromtimestamp(1348168705, UTC)
    assert pr.to_ref.ref == "update-version"
    assert pr.to_ref.sha == "3d1468bbb339c8b59234a5bbc35dedf3d89c2043"
    assert pr.project.link_name == "abf/evil_tools"
    assert pr.owner and pr.owner.username == "ivan_aivazovsky"
    assert pr.web_url == f"{abf.sim.url}/abf/evil_tools/pull_requests/11"


async def test_source_missing_pull_requests_are_none(abf: Abf) -> None:
    assert await abf.source.get_pull_requests(["666/999", "999/1", "x/1"]) == [None] * 3


async def test_source_project_list_defaults_to_open(abf: Abf) -> None:
    page = await abf.source.list_pull_requests(project_filter(), ALL)
    assert page.items and all(p.state is ChangeState.OPEN for p in page.items)
    assert all(not p.is_detail for p in page.items)
    created = [p.number for p in page.items]
    assert 11 in created and not page.has_next and page.total == len(page.items)


async def test_source_project_list_closed_sort_direction(abf: Abf) -> None:
    flt = project_filter(status="closed", sort="updated", direction="asc")
    page = await abf.source.list_pull_requests(flt, ALL)
    assert page.items and {p.state for p in page.items} <= {ChangeState.MERGED, ChangeState.CLOSED}
    [detail] = await abf.source.get_pull_requests([page.items[0].id])
    [last] = await abf.source.get_pull_requests([page.items[-1].id])
    assert detail and last and detail.updated_at and last.updated_at
    assert detail.updated_at <= last.updated_at
    assert any("status=closed&sort=updated&direction=asc" in p for p in abf.paths())


@pytest.mark.parametrize("assignee", ["none", "*", "petr"])
async def test_source_project_list_assignee(abf: Abf, assignee: str) -> None:
    page = await abf.source.list_pull_requests(project_filter(assignee=assignee), ALL)
    assert page.items
    for pr in page.items:
        if assignee == "none":
            assert pr.assignee is None
        elif assignee == "*":
            assert pr.assignee is not None
        else:
            assert pr.assignee and pr.assignee.username == "petr"


async def test_source_project_list_creator_only_in_documented_mode(abf: Abf) -> None:
    page = await abf.source.list_pull_requests(project_filter(creator="petr"), ALL)
    owners = {p.owner.username for p in page.items if p.owner}
    if abf.sim.state.real:
        assert len(owners) > 1  # rosa-build ignores creator
    else:
        assert owners == {"petr"}


async def test_source_project_list_since(abf: Abf) -> None:
    everything = await abf.source.list_pull_requests(project_filter(), ALL)
    since = datetime.fromtimestamp(1348168705 + 3600 * 20, UTC)
    recent = await abf.source.list_pull_requests(project_filter(since=since), ALL)
    assert 0 < len(recent.items) < len(everything.items)
    assert "since=1348240705" in abf.paths()[-1]


async def test_source_project_by_fullname(abf: Abf) -> None:
    flt = PullRequestFilter(scope=Scope.PROJECT, project="abf/evil_tools")
    page = await abf.source.list_pull_requests(flt, ALL)
    assert page.items and abf.paths()[-2].startswith("/api/v1/projects/get_id.json")


async def test_source_pages_follow_page_and_per_page(abf: Abf) -> None:
    flt = PullRequestFilter(scope=Scope.ALL, filter="all", status="closed")
    everything = await abf.source.list_pull_requests(flt, ALL)
    assert len(everything.items) > 6
    first = await abf.source.list_pull_requests(flt, PageRequest(0, 3))
    second = await abf.source.list_pull_requests(flt, PageRequest(3, 3))
    assert first.has_next and second.has_next and first.total is None
    assert [p.id for p in first.items + second.items] == [p.id for p in everything.items[:6]]
    assert all("per_page=" in p and "page=" in p for p in abf.paths()[-2:])


@pytest.mark.parametrize("flt", ["assigned", "created", "all"])
async def test_source_all_pull_requests_filter(abf: Abf, flt: str) -> None:
    page = await abf.source.list_pull_requests(PullRequestFilter(filter=flt), ALL)
    assert page.items
    if flt == "assigned":
        assert all(p.assignee and p.assignee.id == "1" for p in page.items)
    if flt == "created":
        assert all(p.owner and p.owner.id == "1" for p in page.items)
    assert all(p.project.id != "700" or (p.owner and p.owner.id == "1") for p in page.items)


async def test_source_user_and_group_lists(abf: Abf) -> None:
    user = await abf.source.list_pull_requests(
        PullRequestFilter(scope=Scope.USER, filter="all"), ALL
    )
    assert {p.project.id for p in user.items} <= {"666", "667", "668"}
    group = PullRequestFilter(scope=Scope.GROUP, group="3", filter="all")
    page = await abf.source.list_pull_requests(group, ALL)
    assert page.items and {p.project.id for p in page.items} == {"666"}
    spelling = "/api/v1/groups/3/" if abf.sim.state.real else "/api/v1/group/3/"
    assert abf.paths()[-1].startswith(spelling)
    before = len(abf.sim.state.requests)
    await abf.source.list_pull_requests(group, PageRequest(0, 2))
    assert len(abf.sim.state.requests) - before == 1  # the spelling that worked is remembered


async def test_source_group_missing(abf: Abf) -> None:
    with pytest.raises(NotFound):
        await abf.source.list_pull_requests(PullRequestFilter(scope=Scope.GROUP, group="99"), ALL)


async def test_source_commits_and_files(abf: Abf) -> None:
    [commit] = await abf.source.pull_request_commits("666/11")
    assert commit.sha.startswith("4c2553a5") and commit.author and commit.author.date
    [change] = await abf.source.pull_request_files("666/11")
    assert (change.filename, change.additions, change.deletions) == ("test.log", 42, 24)
    with pytest.raises(NotFound):
        await abf.source.pull_request_commits("666/999")
    with pytest.raises(NotFound):
        await abf.source.pull_request_files("666/999")


async def test_source_projects_users_groups(abf: Abf) -> None:
    found = await abf.source.get_projects(["666", "abf/evil_tools", "nobody/none", "99", "bad"])
    assert found[0] and found[1] and found[0].id == found[1].id == "666"
    assert found[0].link_name == "abf/evil_tools" and found[0].web_url
    assert found[2:] == [None, None, None]
    listed = await abf.source.list_projects(PageRequest(0, 10))
    assert "700" not in {p.id for p in listed.items} and "666" in {p.id for p in listed.items}
    people = await abf.source.get_people(["1", "2", "404", "u1"])
    assert people[0] and people[0].username == "ivan_aivazovsky" and people[0].email
    assert people[1] and people[1].username == "petr" and people[2:] == [None, None]
    me = await abf.source.viewer()
    assert me.id == "1"
    groups = await abf.source.get_groups(["3", "9"])
    assert groups[0] and groups[0].uname == "abf" and groups[0].owner and groups[1] is None


async def test_source_hidden_project_is_forbidden(abf: Abf) -> None:
    with pytest.raises(Forbidden) as err:
        await abf.source.get_projects(["700"])
    assert "Access violation" in err.value.message and err.value.status == 403
    with pytest.raises(Forbidden):
        await abf.source.list_pull_requests(
            PullRequestFilter(scope=Scope.PROJECT, project="700"), ALL
        )


@pytest.mark.parametrize(
    "creds",
    [Credentials(), Credentials(username="ivan_aivazovsky", password="wrong")],
    ids=["anonymous", "bad-password"],
)
async def test_source_unauthenticated_is_forbidden_with_abf_message(
    abf: Abf, creds: Credentials
) -> None:
    source = await make_source(abf.sim.url, creds)
    try:
        with pytest.raises(Forbidden) as err:
            await source.get_pull_requests(["666/11"])
    finally:
        await source.close()
    assert err.value.status == 401 and "sign in" in err.value.message


async def test_source_basic_auth_with_password(abf: Abf) -> None:
    source = await make_source(abf.sim.url, Credentials(username="petr", password="petr"))
    try:
        assert (await source.viewer()).username == "petr"
    finally:
        await source.close()


async def test_source_token_never_in_errors(abf: Abf) -> None:
    abf.sim.state.fault("/api/v1/user.json", 500)
    with pytest.raises(Exception) as err:
        await abf.source.viewer()
    assert "abfabf" not in str(err.value)


# -- ETag cache -----------------------------------------------------------------------------


async def test_client_second_identical_get_is_a_304(abf: Abf) -> None:
    before = len(abf.sim.state.requests)
    first = await abf.source.get_pull_requests(["666/11"])
    second = await abf.source.get_pull_requests(["666/11"])
    assert first == second
    assert abf.statuses(before) == [200, 304]
    assert abf.source.client.not_modified == 1


async def test_a_304_gives_back_the_record_mapped_from_the_cached_copy(
    abf: Abf, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapped = count_calls(monkeypatch, mapping, "pull_request")
    [first] = await abf.source.get_pull_requests(["666/11"])
    [second] = await abf.source.get_pull_requests(["666/11"])
    assert first is second and mapped[0] == 1  # 304: the same body, not mapped again
    await abf.source.update_pull_request("666/11", PullRequestUpdate(title="renamed"))
    [third] = await abf.source.get_pull_requests(["666/11"])
    assert third and third.title == "renamed" and third is not second
    [fourth] = await abf.source.get_pull_requests(["666/11"])
    assert fourth is third


async def test_client_changed_object_is_downloaded_again(abf: Abf) -> None:
    await abf.source.get_pull_requests(["666/11"])
    await abf.source.update_pull_request("666/11", PullRequestUpdate(title="renamed"))
    before = len(abf.sim.state.requests)
    [pr] = await abf.source.get_pull_requests(["666/11"])
    assert pr and pr.title == "renamed" and abf.statuses(before) == [304]


async def test_client_cache_is_bounded(abf: Abf) -> None:
    client = abf.source.client
    client._cache_size = 2
    for n in ("11", "12", "13"):
        await abf.source.get_pull_requests([f"666/{n}"])
    assert len(client._cache) == 2


# -- writes ---------------------------------------------------------------------------------


async def test_source_create_pull_request(abf: Abf) -> None:
    new = NewPullRequest(
        title="fix security bug",
        body="fixed at 123456",
        to_ref="master",
        from_ref="feature",
        assignee_id="2",
    )
    pr = await abf.source.create_pull_request("abf/evil_tools", new)
    assert pr.title == "fix security bug" and pr.is_detail and pr.project.id == "666"
    assert pr.raw_state == "ready" and pr.mergeability is Mergeability.MERGEABLE
    assert pr.assignee and pr.assignee.id == "2" and pr.number > 11


async def test_source_create_blocked_pull_request_and_from_project(abf: Abf) -> None:
    new = NewPullRequest(
        title="t", body="", to_ref="master", from_ref="conflict", from_project="667"
    )
    pr = await abf.source.create_pull_request("666", new)
    assert pr.mergeability is Mergeability.CONFLICTING
    assert pr.from_ref.project and pr.from_ref.project.id == "667"


@pytest.mark.parametrize(
    "new, text",
    [
        (
            NewPullRequest(title="", body="b", to_ref="master", from_ref="feature"),
            "Title can't be blank",
        ),
        (
            NewPullRequest(title="t", body="b", to_ref="nope", from_ref="feature"),
            "To ref is invalid",
        ),
        (NewPullRequest(title="t", body="b", to_ref="master", from_ref="master"), "up-to-date"),
    ],
)
async def test_source_create_refused_with_abf_message(
    abf: Abf, new: NewPullRequest, text: str
) -> None:
    with pytest.raises(BadRequest) as err:
        await abf.source.create_pull_request("666", new)
    assert err.value.status == 422 and text in err.value.message


async def test_source_create_on_missing_project(abf: Abf) -> None:
    new = NewPullRequest(title="t", body="b", to_ref="master", from_ref="feature")
    with pytest.raises(NotFound):
        await abf.source.create_pull_request("9999", new)


async def test_source_update_close_and_reopen(abf: Abf) -> None:
    closed = await abf.source.update_pull_request("666/11", PullRequestUpdate(status="close"))
    assert closed.state is ChangeState.CLOSED and closed.closed_by and closed.closed_at
    reopened = await abf.source.update_pull_request("666/11", PullRequestUpdate(status="reopen"))
    assert reopened.state is ChangeState.OPEN


async def test_source_closing_a_merged_pull_request_is_a_conflict(abf: Abf) -> None:
    page = await abf.source.list_pull_requests(project_filter(status="closed"), ALL)
    merged = next(p for p in page.items if p.state is ChangeState.MERGED)
    with pytest.raises(Conflict) as err:
        await abf.source.update_pull_request(merged.id, PullRequestUpdate(status="close"))
    assert "merged" in err.value.message


async def test_source_update_title_body_assignee(abf: Abf) -> None:
    update = PullRequestUpdate(title="new title", body="new body", assignee_id="3")
    pr = await abf.source.update_pull_request("666/11", update)
    assert (pr.title, pr.body) == ("new title", "new body")
    assert pr.assignee and pr.assignee.username == "olga"


async def test_source_update_errors(abf: Abf) -> None:
    with pytest.raises(BadRequest) as err:
        await abf.source.update_pull_request("666/11", PullRequestUpdate(title=" "))
    assert err.value.status == 422 and "Title can't be blank" in err.value.message
    with pytest.raises(BadRequest):
        await abf.source.update_pull_request("666/11", PullRequestUpdate())
    with pytest.raises(NotFound):
        await abf.source.update_pull_request("666/999", PullRequestUpdate(title="x"))


async def test_source_merge(abf: Abf) -> None:
    page = await abf.source.list_pull_requests(project_filter(), ALL)
    ready = next(p for p in page.items if p.raw_state == "ready")
    merged = await abf.source.merge_pull_request(ready.id, "Merge it")
    assert merged.state is ChangeState.MERGED and merged.merged_by and merged.merged_at
    with pytest.raises(BadRequest) as err:
        await abf.source.merge_pull_request(ready.id, None)
    assert err.value.status == 422 and "has not been merged" in err.value.message
    with pytest.raises(NotFound):
        await abf.source.merge_pull_request("666/999", None)


async def test_source_write_without_rights_is_forbidden(abf: Abf) -> None:
    source = await make_source(abf.sim.url, Credentials(username="olga", password="olga"))
    try:
        with pytest.raises(Forbidden):
            await source.merge_pull_request("666/11", None)
    finally:
        await source.close()


async def test_source_write_is_not_retried(abf: Abf) -> None:
    abf.sim.state.fault("/api/v1/projects/666/pull_requests/11/merge", 503)
    before = len(abf.sim.state.requests)
    with pytest.raises(UpstreamError):
        await abf.source.merge_pull_request("666/11", None)
    assert len(abf.sim.state.requests) - before == 1


@pytest.mark.parametrize("scope", [Scope.ALL, Scope.USER, Scope.GROUP])
async def test_source_user_wide_lists_status_sort_direction_since(abf: Abf, scope: Scope) -> None:
    base = PullRequestFilter(
        scope=scope, group="3" if scope is Scope.GROUP else None, filter="all", status="closed"
    )
    everything = await abf.source.list_pull_requests(base, ALL)
    since = datetime.fromtimestamp(1348168705 + 3600 * 15, UTC)
    flt = replace(base, sort="updated", direction="asc", since=since)
    page = await abf.source.list_pull_requests(flt, ALL)
    assert page.items and len(page.items) < len(everything.items)
    assert {p.state for p in page.items} <= {ChangeState.MERGED, ChangeState.CLOSED}
    assert "status=closed&sort=updated&direction=asc&since=1348222705" in abf.paths()[-1]
    details = await abf.source.get_pull_requests([p.id for p in page.items])
    updated = [d.updated_at for d in details if d]
    created = [d.created_at for d in details if d and d.created_at]
    assert updated == sorted(updated) and min(created) >= since


async def test_simulator_mode_is_switchable_at_run_time(abf: Abf) -> None:
    abf.sim.state.real = True
    [pr] = await abf.source.get_pull_requests(["666/12"])
    real = abf.sim.state.requests[-1]
    abf.sim.state.real = False
    abf.source.client._cache.clear()
    [doc] = await abf.source.get_pull_requests(["666/12"])
    assert pr and doc and replace(pr, api_url=None) == replace(doc, api_url=None)
    # (the real server's url carries the database id, the documents' the number)
    assert isinstance(pr and pr.raw["number"], int) and isinstance(doc and doc.raw["number"], str)
    assert real[2] == abf.sim.state.requests[-1][2] == 200
