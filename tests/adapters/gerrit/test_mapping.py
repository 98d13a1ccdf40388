"""Every JSON example of both Gerrit documents, and the 2.x captures, mapped to records."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.errors import BadPayload
from adapters.gerrit import bodies, checks, lenient, mapping
from adapters.gerrit.records import CommentInput, Fetch, GerritChange, Label, ReviewInput, Vote
from adapters.model import ChangeState, CheckState, Person

FIXTURES = Path(__file__).parents[2] / "fixtures"
DOCS = FIXTURES / "gerrit" / "docs"
CAPTURES = FIXTURES / "gerrit-2.x-captures"
B = "gerrit"
WEB = "https://review.example.org"


def load(name: str) -> Any:
    matches = sorted(DOCS.glob(f"{name}*"))
    assert len(matches) == 1, (name, matches)
    return lenient.loads(matches[0].read_bytes())


def capture(rel: str) -> Any:
    return lenient.loads((CAPTURES / rel).read_bytes())


def one_change(d: Any) -> GerritChange:
    return mapping.change(B, d, WEB)


# Which mapper reads each response example; the test below asserts the table is complete.
RESPONSES: dict[str, Callable[[Any], object]] = {
    "changes-L13-": lambda d: mapping.changes(B, d, WEB),
    "changes-L32-": lambda d: mapping.change_lists(B, d, 3, WEB),
    "changes-L97-": lambda d: mapping.changes(B, d, WEB),
    "changes-L108-": one_change,
    "changes-L119-": one_change,
    "changes-L124-": lambda d: mapping.string(B, d, "topic"),
    "changes-L132-": lambda d: mapping.string(B, d, "topic"),
    "changes-L148-": one_change,
    "changes-L160-": one_change,
    "changes-L171-": one_change,
    "changes-L183-": one_change,
    "changes-L195-": one_change,
    "changes-L215-": lambda d: mapping.included_in(B, d),
    "changes-L222-": lambda d: mapping.reviewers(B, d),
    "changes-L231-": lambda d: mapping.suggested_reviewers(B, d),
    "changes-L237-": lambda d: mapping.reviewer(B, d),
    "changes-L244-": lambda d: mapping.add_reviewer_result(B, d),
    "changes-L248-": lambda d: mapping.add_reviewer_result(B, d),
    "changes-L264-": lambda d: mapping.commit(B, d),
    "changes-L279-": one_change,
    "changes-L286-": lambda d: mapping.review_labels(B, d),
    "changes-L292-": one_change,
    "changes-L304-": lambda d: mapping.submit_status(B, d),
    "changes-L344-": lambda d: mapping.mergeable(B, d),
    "changes-L349-": lambda d: mapping.string(B, d, "submit type"),
    "changes-L360-": lambda d: mapping.string(B, d, "submit type"),
    "changes-L372-": lambda d: mapping.submit_records(B, d),
    "changes-L378-": lambda d: mapping.comment_map(B, d),
    "changes-L385-": lambda d: mapping.one_comment(B, d),
    "changes-L391-": lambda d: mapping.one_comment(B, d),
    "changes-L398-": lambda d: mapping.one_comment(B, d),
    "changes-L409-": lambda d: mapping.comment_map(B, d),
    "changes-L415-": lambda d: mapping.one_comment(B, d),
    "changes-L421-": lambda d: mapping.files(B, d),
    "changes-L427-": lambda d: mapping.reviewed_files(B, d),
    "changes-L439-": lambda d: mapping.diff(B, d),
    "changes-L443-": lambda d: mapping.diff(B, d),
    "changes-L448-": lambda d: mapping.diff(B, d),
    "changes-L479-": one_change,
    "changes-L486-": one_change,
    "overview-L59-": mapping.capabilities,
    "overview-L70-": mapping.capabilities,
    "overview-L94-": mapping.capabilities,
    "overview-L112-": lambda d: mapping.projects(B, d),
    "overview-L137-": lambda d: mapping.projects(B, d),
    "overview-L156-": lambda d: mapping.changes(B, d, WEB),
    "overview-L206-": lambda d: mapping.change_lists(B, d, 3, WEB),
    "overview-L260-": lambda d: mapping.changes(B, d, WEB),
}


def test_mapping_table_covers_every_doc_example() -> None:
    names = {p.name for p in DOCS.iterdir() if not p.name.endswith(".input.txt")}
    covered = {n for n in names if any(n.startswith(prefix) for prefix in RESPONSES)}
    assert names == covered, sorted(names - covered)
    assert len(names) == len(RESPONSES) == 48


@pytest.mark.parametrize("prefix", sorted(RESPONSES))
def test_mapping_every_doc_response_example(prefix: str) -> None:
    assert RESPONSES[prefix](load(prefix)) is not None


def test_mapping_timestamps_exact() -> None:
    assert mapping.parse_timestamp("2013-02-21 11:16:36.775000000") == datetime(
        2013, 2, 21, 11, 16, 36, 775000, tzinfo=UTC
    )
    assert mapping.parse_timestamp("2012-04-24 18:08:08.123456789").microsecond == 123456
    assert mapping.parse_timestamp("2012-04-24 18:08:08") == datetime(
        2012, 4, 24, 18, 8, 8, tzinfo=UTC
    )
    assert mapping.format_timestamp(datetime(2013, 2, 21, 11, 16, 36, 775000, tzinfo=UTC)) == (
        "2013-02-21 11:16:36.775000000"
    )
    for bad in ("2013-02-21T11:16:36Z", "2013-02-21 11:16", "2013-02-21 11:16:36.1234567890"):
        with pytest.raises(ValueError):
            mapping.parse_timestamp(bad)


def test_mapping_query_result_old_and_new_shapes() -> None:
    first, second = mapping.changes(B, load("changes-L13-"), WEB)
    assert first.triplet == "demo~master~Idaf5e098d70898b7119f6f4af5a6c13343d64b57"
    assert first.change_id == "Idaf5e098d70898b7119f6f4af5a6c13343d64b57"
    assert (first.id, first.number, first.sortkey) == ("1756", 1756, "001e7057000006dc")
    assert first.state is ChangeState.OPEN and first.raw_state == "NEW"
    assert first.owner is not None and first.owner.name == "John Doe"
    assert first.web_url == f"{WEB}/1756" and first.mergeable is True
    assert not first.more_changes and second.more_changes
    # The overview's 2.5-era shape: "id" is the bare Change-Id and there is no change_id.
    old = mapping.changes(B, load("overview-L156-"), WEB)
    assert old[0].change_id == "Idaf5e098d70898b7119f6f4af5a6c13343d64b57"
    assert old[0].triplet == "demo~master~Idaf5e098d70898b7119f6f4af5a6c13343d64b57"
    assert old[0].reviewed and old[1].more_changes


def test_mapping_multi_query_is_list_of_lists() -> None:
    lists = mapping.change_lists(B, load("changes-L32-"), 3, WEB)
    assert [len(x) for x in lists] == [1, 0, 0]
    assert [label.name for label in lists[0][0].labels] == ["Verified", "Code-Review"]
    # An empty Verified summary on a required label is a pending check.
    assert lists[0][0].check_state is CheckState.PENDING
    with pytest.raises(BadPayload):
        mapping.change_lists(B, load("changes-L32-"), 2, WEB)


def test_mapping_revisions_fetch_commit_files() -> None:
    (change,) = mapping.changes(B, load("changes-L97-"), WEB)
    rev = change.current
    assert rev is not None and rev.is_current and rev.number == 1
    assert rev.sha == "184ebe53805e102605d11f6b143486d15c23a09c"
    assert [f.protocol for f in rev.fetch] == ["git", "http", "ssh"]
    assert rev.fetch[0].ref == "refs/changes/97/97/1"
    assert rev.fetch[0].commands["Checkout"].endswith("&& git checkout FETCH_HEAD")
    assert rev.commit is not None and rev.commit.author is not None
    assert rev.commit.author.tz == -420 and rev.commit.parents[0][0].startswith("1eee2c9d")
    assert rev.files is not None and len(rev.files) == 7
    by_path = {f.path.rsplit("/", 1)[-1]: f for f in rev.files}
    assert (
        by_path["StarCache.java"].status == "D" and by_path["StarCache.java"].lines_deleted == 139
    )
    assert by_path["ChangeScreen.java"].status == "M"


def test_mapping_detail_labels_votes_ranges_messages() -> None:
    change = mapping.change(B, load("changes-L119-"), WEB)
    labels = {label.name: label for label in change.labels}
    cr = labels["Code-Review"]
    assert cr.values[-2] == "Do not submit" and sorted(cr.values) == [-2, -1, 0, 1, 2]
    assert cr.permitted == (-2, -1, 0, 1, 2)
    assert [(v.account.username, v.value) for v in cr.votes] == [("jdoe", -1), ("jroe", 1)]
    assert cr.recommended is not None and cr.recommended.id == "1000097"
    assert labels["Verified"].permitted == (-1, 0, 1)
    # Verified is a check label; both votes are 0, so it is pending.
    assert [c.state for c in change.checks] == [CheckState.PENDING]
    assert [p.id for p in change.removable_reviewers] == ["1000096", "1000097"]
    assert change.messages is not None
    assert [m.id for m in change.messages] == ["YH-egE", "WEEdhU"]
    assert change.messages[1].revision_number == 1
    assert "line break" in change.messages[1].message


def test_mapping_state_changes() -> None:
    assert mapping.change(B, load("changes-L148-")).state is ChangeState.CLOSED
    assert mapping.change(B, load("changes-L160-")).state is ChangeState.OPEN
    assert mapping.change(B, load("changes-L195-")).state is ChangeState.MERGED
    draft = dict(load("changes-L108-"), status="DRAFT")
    assert mapping.change(B, draft).state is ChangeState.DRAFT
    rebased = mapping.change(B, load("changes-L171-"))
    assert rebased.current is not None and rebased.current.number == 2
    assert rebased.mergeable is False
    assert mapping.change(B, load("changes-L479-")).branch == "release-branch"
    assert mapping.change(B, load("changes-L486-")).subject == "Reword Implementing Feature X"


def test_mapping_review_has_only_that_revision() -> None:
    change = mapping.change(B, load("changes-L279-"))
    assert change.current is not None and change.current.number == 2
    assert change.current.fetch[0].ref == "refs/changes/65/3965/2"


def test_mapping_reviewers_and_suggestions() -> None:
    john, jane = mapping.reviewers(B, load("changes-L222-"))
    assert john.approvals == {"Verified": 1, "Code-Review": 2}
    assert jane.approvals == {"Verified": 0, "Code-Review": -1}
    account, group = mapping.suggested_reviewers(B, load("changes-L231-"))
    assert account.account is not None and account.account.name == "Jane Roe"
    assert group.group_name == "Joiner" and group.group_id is not None
    added = mapping.add_reviewer_result(B, load("changes-L244-"))
    assert [r.account.id for r in added.reviewers] == ["1000096"] and not added.confirm
    confirm = mapping.add_reviewer_result(B, load("changes-L248-"))
    assert confirm.confirm and confirm.error is not None and "15 members" in confirm.error


def test_mapping_revision_endpoints() -> None:
    commit = mapping.commit(B, load("changes-L264-"))
    assert commit.subject == "Use an EventBus to manage star icons"
    assert mapping.mergeable(B, load("changes-L344-")).submit_type == "MERGE_IF_NECESSARY"
    assert mapping.review_labels(B, load("changes-L286-")) == {"Code-Review": -1}
    assert mapping.submit_status(B, load("changes-L304-")) == "MERGED"
    (record,) = mapping.submit_records(B, load("changes-L372-"))
    assert record.status == "NOT_READY" and record.reject == {"Any-Label-Name": None}
    assert mapping.included_in(B, load("changes-L215-")).branches == ("master",)
    files = mapping.files(B, load("changes-L421-"))
    assert (files[0].path, files[0].status, files[0].lines_inserted) == ("/COMMIT_MSG", "A", 7)
    assert len(mapping.reviewed_files(B, load("changes-L427-"))) == 2


def test_mapping_comments_and_drafts() -> None:
    comments = mapping.comment_map(B, load("changes-L409-"))
    assert [c.id for c in comments] == ["TvcXrmjM", "TveXwFiA"]
    assert comments[0].path and comments[0].path.endswith("RefControl.java")
    assert comments[1].in_reply_to == "TfYX-Iuo" and comments[1].line == 49
    assert comments[0].author is not None and comments[0].author.email == "john.doe@example.com"
    drafts = mapping.comment_map(B, load("changes-L378-"))
    assert drafts[0].author is None and drafts[0].updated is not None


def test_mapping_diffs() -> None:
    plain = mapping.diff(B, load("changes-L439-"))
    assert plain.change_type == "MODIFIED" and len(plain.diff_header) == 4
    assert plain.content[1].b == ("//", "// Add some more lines in the header.")
    intraline = mapping.diff(B, load("changes-L443-"))
    assert intraline.content[-1].edit_b == ((31, 4),) and intraline.content[-1].edit_a == ()
    skip = mapping.diff(B, load("changes-L448-"))
    assert skip.content[0].skip == 578


def test_mapping_capabilities_and_projects() -> None:
    anon = mapping.capabilities(load("overview-L59-"))
    assert anon.query_limit == (0, 500) and anon.enabled == ()
    admin = mapping.capabilities(load("overview-L70-"))
    assert "administrateServer" in admin.enabled and len(admin.enabled) == 10
    assert mapping.capabilities(load("overview-L94-")).enabled == ("createAccount", "createGroup")
    projects = mapping.projects(B, load("overview-L112-"))
    assert [p.name for p in projects] == [
        "external/bison",
        "external/gcc",
        "external/openssl",
        "test",
    ]
    assert projects[0].raw["description"] == "GNU parser generator"
    assert [p.id for p in mapping.projects(B, load("overview-L137-"))] == [
        "platform/drivers",
        "platform/tools",
    ]


def _input(name: str) -> Any:
    return load(name)


def test_mapping_every_doc_input_example() -> None:
    inputs = sorted(p.name for p in DOCS.glob("*.input.txt"))
    assert len(inputs) == 11
    assert bodies.topic_body("Documentation") == _input("changes-L130-")
    assert bodies.submit_body(True) == _input("changes-L193-") == _input("changes-L302-")
    assert bodies.submit_body(False) is None
    assert bodies.reviewer_body("john.doe@example.com") == _input("changes-L242-")
    assert bodies.reviewer_body("MyProjectVerifiers") == _input("changes-L247-")
    assert bodies.reviewer_body("MyProjectVerifiers", True) == _input("changes-L252-")
    path = "gerrit-server/src/main/java/com/google/gerrit/server/project/RefControl.java"
    review = ReviewInput(
        message="Some nits need to be fixed.",
        labels={"Code-Review": -1},
        comments=(
            CommentInput(path=path, line=23, message="[nit] trailing whitespace"),
            CommentInput(path=path, line=49, message="[nit] s/conrtol/control"),
        ),
    )
    assert bodies.review_body(review) == _input("changes-L284-")
    draft = CommentInput(path=path, line=23, message="[nit] trailing whitespace")
    assert bodies.comment_body(draft) == _input("changes-L383-") == _input("changes-L396-")
    assert bodies.cherry_pick_body("Implementing Feature X", "release-branch") == _input(
        "changes-L477-"
    )
    assert _input("changes-L484-") == {"message": "Reword Implementing Feature X"}


# --- the real 2.x captures ------------------------------------------------------------------

CAPTURED: dict[str, Callable[[Any], object]] = {
    "changes/changes.json": lambda d: mapping.changes(B, d),
    "changes/parsers/changes.json": lambda d: mapping.changes(B, d),
    "changes/parsers/change.json": lambda d: mapping.change(B, d),
    "changes/parsers/addreviewer.json": lambda d: mapping.add_reviewer_result(B, d),
    "changes/parsers/comment.json": lambda d: mapping.one_comment(B, d),
    "changes/parsers/comments.json": lambda d: mapping.comment_map(B, d),
    "changes/parsers/robotcomment.json": lambda d: mapping.one_comment(B, d),
    "changes/parsers/robotcomments.json": lambda d: mapping.comment_map(B, d),
    "changes/parsers/commit.json": lambda d: mapping.commit(B, d),
    "changes/parsers/diff.json": lambda d: mapping.diff(B, d),
    "changes/parsers/files.json": lambda d: mapping.files(B, d),
    "changes/parsers/files-reviewed.json": lambda d: mapping.reviewed_files(B, d),
    "changes/parsers/includedin.json": lambda d: mapping.included_in(B, d),
    "changes/parsers/mergeable.json": lambda d: mapping.mergeable(B, d),
    "changes/parsers/messages.json": lambda d: mapping.messages(B, d),
    "changes/parsers/review.json": lambda d: mapping.review_labels(B, d),
    "changes/parsers/reviewer.json": lambda d: mapping.reviewer(B, d),
    "changes/parsers/reviewers.json": lambda d: mapping.reviewers(B, d),
    "changes/parsers/suggestreviewer.json": lambda d: mapping.suggested_reviewers(B, [d]),
    "changes/parsers/suggestreviewers.json": lambda d: mapping.suggested_reviewers(B, d),
    "changes/submittype.json": lambda d: mapping.string(B, d, "submit type"),
    "changes/testsubmittype.json": lambda d: mapping.string(B, d, "submit type"),
    "changes/votes.json": lambda d: mapping.review_labels(B, {"labels": d}),
    "projects/projects.json": lambda d: mapping.projects(B, d),
    "projects/project.json": lambda d: mapping.project_info(B, d),
    "projects/parsers/commit.json": lambda d: mapping.commit(B, d),
    "projects/parsers/includedIn.json": lambda d: mapping.included_in(B, d),
    "accounts/self/account.json": lambda d: mapping.account(B, d),
    "accounts/accounts.json": lambda d: [mapping.account(B, a) for a in d],
}


def test_mapping_every_capture_decodes() -> None:
    files = sorted(CAPTURES.rglob("*.json"))
    assert len(files) == 57
    for path in files:
        assert lenient.loads(path.read_bytes()) is not None, path


@pytest.mark.parametrize("rel", sorted(CAPTURED))
def test_mapping_capture(rel: str) -> None:
    assert CAPTURED[rel](capture(rel)) is not None


def test_mapping_capture_details() -> None:
    changes = mapping.changes(B, capture("changes/changes.json"))
    assert changes[0].triplet == "packages%2Ftest~master~Ieabd72e73f3da0df90fd6e8cba8f6c5dd7d120df"
    assert changes[0].project.name == "packages/test"
    assert changes[0].labels[0].approved is not None
    assert changes[0].labels[0].approved.id == "Urs Wolfer"  # no _account_id: the name
    first, second = mapping.messages(B, capture("changes/parsers/messages.json"))
    assert (first.revision_number, second.revision_number) == (1, 2)
    jane = mapping.reviewers(B, capture("changes/parsers/reviewers.json"))[1]
    assert jane.approvals == {"Verified": 0, "Code-Review": 1, "My-Own-Label": -2}
    merge = mapping.mergeable(B, capture("changes/parsers/mergeable.json"))
    assert merge.strategy == "recursive" and merge.mergeable
    robot = mapping.one_comment(B, capture("changes/parsers/robotcomment.json"))
    assert robot.robot_id == "importChecker"
    assert mapping.project_info(B, capture("projects/project.json")).name == "Hello-World"
    listed = mapping.projects(B, capture("projects/projects.json"))
    assert [p.id for p in listed] == ["packages/test", "repo2", "testrepo"]


def test_mapping_check_labels() -> None:
    for name in ("Verified", "CI", "Build-CI", "CI-Tests", "Zuul-Verified"):
        assert checks.is_check_label(name), name
    for name in ("Code-Review", "Library-Compliance", "Commit-Queue"):
        assert not checks.is_check_label(name), name
    base = dict(load("changes-L108-"))
    voter = {"_account_id": 7, "name": "ci-bot"}
    values = {"-1": "Fails", " 0": "No score", "+1": "Verified"}
    failing = dict(base, labels={"Verified": {"all": [dict(voter, value=-1)], "values": values}})
    change = mapping.change(B, failing)
    assert change.check_state is CheckState.FAILURE
    assert change.checks[0].user is not None and change.checks[0].user.name == "ci-bot"
    assert change.checks[0].description == "Fails"
    passing = dict(base, labels={"Verified": {"approved": voter}, "CI": {"optional": True}})
    assert mapping.change(B, passing).check_state is CheckState.SUCCESS
    review_only = dict(base, labels={"Code-Review": {"approved": voter}})
    assert mapping.change(B, review_only).check_state is None


def test_mapping_bad_payloads() -> None:
    with pytest.raises(BadPayload):
        mapping.change(B, {"_number": 1})
    with pytest.raises(BadPayload):
        mapping.change(B, [])
    with pytest.raises(BadPayload):
        mapping.changes(B, {})
    with pytest.raises(BadPayload):
        mapping.change(B, dict(load("changes-L108-"), updated="yesterday"))
    with pytest.raises(BadPayload):
        mapping.base64_content(B, b"not base64!", None)
    assert mapping.base64_content(B, b"aGVsbG8=\n", None).data == b"hello"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("updated", ["2024"]),
        ("updated", {"a": 1}),
        ("updated", 5),
        ("updated", "2024-13-01 00:00:00"),
    ],
)
def test_converting_once_fails_as_converting_each(
    field: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = dict(load("changes-L108-"), **{field: value})
    labels: dict[str, Any] = {"Code-Review": {"all": []}}
    odd = dict(load("changes-L108-"), labels=labels, permitted_labels={"Code-Review": ["+1", "x"]})
    errors = []
    for once in (True, False):
        if not once:
            monkeypatch.setattr(mapping, "_timestamp_once", mapping._timestamp)
            monkeypatch.setattr(mapping, "_allowed_once", mapping._allowed)
        for d in (payload, odd):
            with pytest.raises(BadPayload) as err:
                mapping.change(B, d)
            errors.append((err.value.code, err.value.message))
    assert errors[:2] == errors[2:]


def test_lenient_prefix_is_optional() -> None:
    assert lenient.loads(b')]}\'\n{"a": 1}') == {"a": 1}
    assert lenient.loads(b'{"a": 1}') == {"a": 1}
    assert lenient.loads(b")]}'\n[1, 2,]") == [1, 2]
    with pytest.raises(ValueError):
        lenient.loads(b"<html>nope</html>")


@pytest.mark.parametrize("prefix", sorted(RESPONSES))
def test_mapping_through_builders_equals_the_dataclasses(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # People, votes, labels and changes are built by adapters/fastrecord.py builders; with the
    # dataclasses themselves the records are the same (fields, repr, the raw payloads kept).
    payload = load(prefix)
    fast = RESPONSES[prefix](payload)
    for name, cls in (
        ("_Person", Person),
        ("_Vote", Vote),
        ("_Label", Label),
        ("_GerritChange", GerritChange),
        ("_Fetch", Fetch),
        ("_timestamp_once", mapping._timestamp),  # dates and permitted values converted once
        ("_allowed_once", mapping._allowed),
    ):
        assert getattr(mapping, name) is not cls  # the shortcut is taken
        monkeypatch.setattr(mapping, name, cls)
    plain = RESPONSES[prefix](payload)
    assert fast == plain and repr(fast) == repr(plain)
    assert [type(r) for r in _records(fast)] == [type(r) for r in _records(plain)]
    for built, made in zip(_records(fast), _records(plain), strict=True):
        raw, expected = getattr(built, "raw", None), getattr(made, "raw", None)
        assert raw is expected or raw == expected == {}  # a project without one: a new {}


def _records(value: object) -> list[object]:
    """Every record inside ``value`` (lists, tuples and record fields), depth first."""
    if isinstance(value, list | tuple):
        return [r for item in value for r in _records(item)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = [getattr(value, f.name) for f in dataclasses.fields(value) if f.name != "raw"]
        return [value, *(r for item in inner for r in _records(item))]
    return []
