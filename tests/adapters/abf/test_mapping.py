"""Every JSON example of ABF's document and every real-server variant parses into records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.abf import mapping
from adapters.abf.records import (
    Mergeability,
    NewPullRequest,
    PullRequestFilter,
    PullRequestUpdate,
    Scope,
)
from adapters.errors import BadPayload
from adapters.model import ChangeState

FIXTURES = Path(__file__).parents[2] / "fixtures" / "abf"
B = "abf"
WEB = "https://abf.example"
T1 = datetime.fromtimestamp(1348170705, UTC)
T0 = datetime.fromtimestamp(1348168705, UTC)


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# -- the document's examples -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["list-all", "list-project"])
def test_mapping_doc_list_example(name: str) -> None:
    body = _load(f"doc-examples/{name}.json")
    [pr] = [mapping.pull_request(B, d, WEB) for d in body["pull_requests"]]
    assert pr.number == 11 and pr.id == "666/11" and pr.title == "new feature"
    assert pr.state is ChangeState.OPEN and pr.raw_state == "open"
    assert pr.mergeability is Mergeability.UNKNOWN and pr.mergeable is True
    assert pr.to_ref.ref == "update-version" and pr.from_ref.ref == "update-rails"
    assert pr.to_ref.sha == "3d1468bbb339c8b59234a5bbc35dedf3d89c2043"
    assert pr.project.link_name == "abf/evil_tools" and pr.project.id == "666"
    assert pr.owner is not None and pr.owner.username == "ivan_aivazovsky"
    assert pr.assignee is not None and pr.assignee.id == "1"
    assert pr.merged_at == T1  # a string timestamp in the documents
    assert pr.created_at is None and not pr.is_detail
    assert pr.web_url == f"{WEB}/abf/evil_tools/pull_requests/11"
    assert pr.api_url == "/api/v1/projects/3/pull_requests/11.json"
    maint = pr.to_ref.project.raw["maintainer"] if pr.to_ref.project else {}
    assert mapping.person(B, maint) is not None


def test_mapping_doc_show_example() -> None:
    pr = mapping.pull_request(B, _load("doc-examples/show.json"), WEB)
    assert pr.is_detail and pr.created_at == T0 and pr.updated_at == T1
    assert pr.body == "new cool feature for us"
    assert pr.closed_at == T1 and pr.closed_by is not None and pr.merged_by is not None
    assert pr.closed_by.name == "Ivan Aivazovsky"


def test_mapping_doc_maintainer_email_is_stripped() -> None:
    d = _load("doc-examples/show.json")["pull_request"]["to_ref"]["project"]["maintainer"]
    person = mapping.person(B, d)
    assert person is not None and person.email == "ivan.aivazovsky@email.ru"


@pytest.mark.parametrize(
    "name, message",
    [
        ("create-response", "Pull request has been created successfully"),
        ("update-response", "Pull request has been updated successfully"),
        ("merge-response", "Pull request has been merged successfully"),
    ],
)
def test_mapping_doc_write_answers(name: str, message: str) -> None:
    body = _load(f"doc-examples/{name}.json")
    assert mapping.write_answer(B, body) == (12, message)
    assert mapping.answer_is_number(body)


def test_mapping_doc_create_request_is_what_we_send() -> None:
    new = NewPullRequest(
        title="fix security bug",
        body="fixed at 123456",
        to_ref="master",
        from_ref="new_branch",
        assignee_id="15",
        from_project="93862",
    )
    assert mapping.new_pull_request_body(new) == _load("doc-examples/create-request.json")


def test_mapping_doc_update_request_shape() -> None:
    doc = _load("doc-examples/update-request.json")
    update = PullRequestUpdate(
        title="fix security bug", body="fixed at 123456", assignee_id="15", status="closed"
    )
    assert mapping.update_body(update) == doc
    assert mapping.update_body(PullRequestUpdate()) == {}


def test_mapping_doc_merge_request_shape() -> None:
    assert mapping.merge_body("commit message") == _load("doc-examples/merge-request.json")
    assert mapping.merge_body(None) == {"pull_request": {}}


def test_mapping_doc_commits_example() -> None:
    [c] = [mapping.commit(B, d) for d in _load("doc-examples/commits.json")["commits"]]
    assert c.sha.startswith("4c2553a5") and c.message == "Fix all the bugs"
    assert c.author is not None and c.author.date == T0 and c.author.email == "abf@test.ru"
    assert c.parents == ("20056fbc319722cc64cf7e718b22607693e7f0b0",)
    assert c.tree_sha == c.sha and c.web_url and c.web_url.endswith(c.sha)


def test_mapping_doc_files_example() -> None:
    [f] = [mapping.file_change(B, d) for d in _load("doc-examples/files.json")["files"]]
    assert (f.filename, f.status, f.additions, f.deletions, f.changes) == (
        "test.log",
        "added",
        42,
        24,
        66,
    )
    assert f.raw_url and f.raw_url.endswith("/raw/master/Gemfile")


# -- the real server's variants --------------------------------------------------------------


def test_mapping_real_list_integers_booleans_and_left_out_fields() -> None:
    body = _load("real/list.json")
    ready, blocked = (mapping.pull_request(B, d, WEB) for d in body["pull_requests"])
    assert "total" not in body and body["url"]
    assert ready.number == 11 and ready.mergeable is True
    assert ready.mergeability is Mergeability.MERGEABLE and ready.state is ChangeState.OPEN
    assert ready.from_ref.project and ready.from_ref.project.link_name.startswith("ivan")
    assert ready.owner and ready.owner.raw["type"] == "User"
    assert ready.merged_at is None and ready.created_at is None
    assert blocked.assignee is None and blocked.mergeable is False
    assert blocked.mergeability is Mergeability.CONFLICTING
    assert blocked.from_ref.sha is None


def test_mapping_real_merged_and_detail() -> None:
    [merged] = _load("real/list-closed.json")["pull_requests"]
    pr = mapping.pull_request(B, merged, WEB)
    assert pr.state is ChangeState.MERGED and pr.merged_at == T1
    detail = mapping.pull_request(B, _load("real/show-merged.json"), WEB)
    assert detail.is_detail and detail.updated_at == T1 and detail.body is None
    assert detail.merged_by and detail.merged_by.username == "ivan_aivazovsky"
    open_pr = mapping.pull_request(B, _load("real/show-open.json"), WEB)
    assert open_pr.closed_at is None and open_pr.closed_by is None and open_pr.created_at == T0


@pytest.mark.parametrize(
    "name, expected",
    [
        ("create-response", (4023, "PullRequest has been created successfully")),
        ("update-response", (4021, "PullRequest has been updated successfully")),
        ("create-422", (None, "PullRequest has not been created. Title can't be blank")),
        ("merge-422", (None, "PullRequest has not been merged")),
    ],
)
def test_mapping_real_write_answers(name: str, expected: tuple[int | None, str]) -> None:
    body = _load(f"real/{name}.json")
    assert mapping.write_answer(B, body) == expected
    assert not mapping.answer_is_number(body)


def test_mapping_real_commits_and_files() -> None:
    [c] = [mapping.commit(B, d) for d in _load("real/commits.json")["commits"]]
    assert c.committer and c.committer.date == T0
    [f] = [mapping.file_change(B, d) for d in _load("real/files.json")["files"]]
    assert (f.additions, f.deletions, f.changes) == (42, 24, 66)


def test_mapping_real_project_user_group() -> None:
    project = mapping.project(B, _load("real/project.json"), WEB)
    assert (project.id, project.name, project.link_name) == ("666", "evil_tools", "abf/evil_tools")
    assert project.web_url == f"{WEB}/abf/evil_tools" and project.scm_url
    by_name = mapping.project(B, _load("real/get-id.json"), WEB)
    assert by_name.id == "666" and by_name.link_name == "abf/evil_tools"
    user = mapping.user(B, _load("real/user.json"))
    assert (user.id, user.username, user.email) == (
        "1",
        "ivan_aivazovsky",
        "ivan.aivazovsky@email.ru",
    )
    group = mapping.group(B, _load("real/group.json"))
    assert (group.id, group.uname, group.own_projects_count) == ("3", "abf", 1)
    assert group.owner and group.owner.id == "1" and group.created_at is not None


# -- states, timestamps, params, bad payloads --------------------------------------------------


@pytest.mark.parametrize(
    "raw, state, merge",
    [
        ("open", ChangeState.OPEN, Mergeability.UNKNOWN),
        ("ready", ChangeState.OPEN, Mergeability.MERGEABLE),
        ("already", ChangeState.OPEN, Mergeability.UP_TO_DATE),
        ("blocked", ChangeState.OPEN, Mergeability.CONFLICTING),
        ("merged", ChangeState.MERGED, Mergeability.UNKNOWN),
        ("closed", ChangeState.CLOSED, Mergeability.UNKNOWN),
        ("something-new", ChangeState.OPEN, Mergeability.UNKNOWN),
    ],
)
def test_mapping_states(raw: str, state: ChangeState, merge: Mergeability) -> None:
    assert mapping.change_state(raw) == (state, merge)


@pytest.mark.parametrize("value", [1348170705, "1348170705", 1348170705.0, "2012-09-20T19:51:45Z"])
def test_mapping_timestamp_forms(value: Any) -> None:
    assert mapping.timestamp(value) == T1


@pytest.mark.parametrize("value", [None, ""])
def test_mapping_timestamp_empty(value: Any) -> None:
    assert mapping.timestamp(value) is None


def test_mapping_list_params() -> None:
    flt = PullRequestFilter(
        scope=Scope.PROJECT,
        project="666",
        filter="created",  # not a project-list parameter: dropped
        status="closed",
        assignee="none",
        creator="ivan",
        sort="updated",
        direction="asc",
        since=T1,
    )
    assert mapping.list_params(flt) == {
        "status": "closed",
        "assignee": "none",
        "creator": "ivan",
        "sort": "updated",
        "direction": "asc",
        "since": 1348170705,
    }
    user_wide = PullRequestFilter(scope=Scope.ALL, filter="all", assignee="*")
    assert mapping.list_params(user_wide) == {"filter": "all"}


@pytest.mark.parametrize(
    "payload",
    [
        {"number": "x", "to_ref": {"project": {"id": 1, "name": "a"}}},
        {"number": 1},
        {"number": 1, "to_ref": {"project": {"name": "a"}}},
        {"number": 1, "mergeable": "maybe", "to_ref": {"project": {"id": 1, "name": "a"}}},
        {"number": 1, "created_at": "yesterday", "to_ref": {"project": {"id": 1, "name": "a"}}},
    ],
)
def test_mapping_bad_pull_request_is_bad_payload(payload: dict[str, Any]) -> None:
    with pytest.raises(BadPayload) as err:
        mapping.pull_request(B, payload)
    assert err.value.backend == B


def test_mapping_bad_write_answer_and_group() -> None:
    with pytest.raises(BadPayload):
        mapping.write_answer(B, {"message": "no wrapper"})
    with pytest.raises(BadPayload):
        mapping.group(B, {"group": {"id": 1}})
    with pytest.raises(BadPayload):
        mapping.user(B, {"user": {}})
