"""Kind-neutral actions (docs/actions.md): commentOnChange, reviewChange, setChangeState and
reportCheck on every kind's simulator, each effect verified by reading the forge's own REST
resource back; UNSUPPORTED where the forge has no such thing (and no upstream request);
Change.viewerCan per kind and per caller; the unhappy paths."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.abf.simulator import TOKEN as ABF_TOKEN
from adapters.abf.simulator import RunningSimulator as AbfSim
from adapters.abf.simulator import start_simulator as start_abf
from adapters.gerrit.simulator import GerritData
from adapters.gerrit.simulator import RunningSimulator as GerritSim
from adapters.gerrit.simulator import start_simulator as start_gerrit
from adapters.patchwork.simulator import RunningSimulator as PwSim
from adapters.patchwork.simulator import start_simulator as start_pw
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.cli import demo_settings_for
from gateway.settings import Settings
from gateway.settings_access import ApiKeySettings
from schema import node

WRITER = "rgk-actions-writer-Heron-5120"
READER = "rgk-actions-reader-Lynx-8841"
BOT = "rgk-actions-bot-Wren-3317"
GERRIT_ADMIN = ("admin", "secret")  # the Gerrit simulator's demo account (its kind.py)

COMMENT = """mutation($input: CommentOnChangeInput!) { commentOnChange(input: $input) {
    change { id state rawState } errors { code message field backend } } }"""
REVIEW = """mutation($input: ReviewChangeInput!) { reviewChange(input: $input) {
    change { id state rawState } errors { code message field backend } } }"""
SET_STATE = """mutation($input: SetChangeStateInput!) { setChangeState(input: $input) {
    change { id state rawState } errors { code message field backend } } }"""
REPORT = """mutation($input: ReportCheckInput!) { reportCheck(input: $input) {
    check { id context state rawState description targetUrl }
    change { id checkState checks { context state } }
    errors { code message field backend } } }"""
VIEWER = """query($first: Int!) { changes(first: $first) { missingBackends nodes {
    __typename backend { name } viewerCan { comment review close merge reportCheck } } } }"""
OPEN = """query($b: String!) { changes(first: 20, filter: {backends: [$b], states: [OPEN]}) {
    nodes { id title checkState currentRevision { id } } } }"""


@dataclass
class Forges:
    """The four demo simulators behind one in-process gateway."""

    client: httpx.AsyncClient
    pw: PwSim
    fdo: RunningFdoSimulator
    gerrit: GerritSim
    abf: AbfSim
    key: str | None = None  # the API key sent (None: anonymous)

    def counts(self) -> dict[str, int]:
        """Upstream requests each simulator has received so far."""
        sims: dict[str, Any] = {"patchwork": self.pw, "fdo": self.fdo}
        sims.update(gerrit=self.gerrit, abf=self.abf)
        return {name: len(sim.state.requests) for name, sim in sims.items()}

    async def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        resp = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    async def act(self, query: str, change: str, **fields: Any) -> dict[str, Any]:
        """One action's payload (no top-level errors allowed)."""
        body = await self.query(query, {"input": {"change": change, **fields}})
        assert "errors" not in body, body["errors"]
        payload: dict[str, Any] = next(iter(body["data"].values()))
        return payload

    async def open_changes(self, backend: str) -> list[dict[str, Any]]:
        body = await self.query(OPEN, {"b": backend})
        assert "errors" not in body, body["errors"]
        nodes: list[dict[str, Any]] = body["data"]["changes"]["nodes"]
        assert nodes, f"{backend} has no open change"
        return nodes


def _settings(urls: dict[str, str], keys: bool, anonymous_writes: frozenset[str]) -> Settings:
    settings = demo_settings_for(urls, "127.0.0.1", 8000)
    if not keys:
        return settings  # the demo: anonymous writes everywhere
    backends = tuple(
        dataclasses.replace(b, anonymous_writes=b.name in anonymous_writes)
        for b in settings.backends
    )
    api_keys = (
        ApiKeySettings(name="writer", sha256=hash_key(WRITER)),
        ApiKeySettings(name="reader", sha256=hash_key(READER), write=False),
        # writes to Patchwork as the recorded server's bot user: not a maintainer
        ApiKeySettings(
            name="bot", sha256=hash_key(BOT), backend_tokens=(("patchwork", "b0" * 20),)
        ),
    )
    return dataclasses.replace(settings, backends=backends, api_keys=api_keys)


async def _forges(
    *, keys: bool = False, anonymous_writes: frozenset[str] = frozenset()
) -> AsyncIterator[Forges]:
    async with contextlib.AsyncExitStack() as stack:
        # each simulator is closed however far the start-up got (a stack, last in first out)
        pw = await start_pw()
        stack.push_async_callback(pw.close)
        fdo = await start_fdo(FdoData.generated(6))
        stack.push_async_callback(fdo.close)
        gerrit = await start_gerrit(GerritData.generated(8))
        stack.push_async_callback(gerrit.close)
        abf = await start_abf()
        stack.push_async_callback(abf.close)
        urls = {"patchwork": pw.url, "patchwork-fdo": fdo.url, "gerrit": gerrit.url}
        app = create_app(_settings({**urls, "abf": abf.url}, keys, anonymous_writes))
        await app.state.backends.open()  # httpx's ASGITransport runs no lifespan
        stack.push_async_callback(app.state.backends.close)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://revgate")
        )
        yield Forges(client, pw, fdo, gerrit, abf)


@pytest.fixture
async def forges() -> AsyncIterator[Forges]:
    """The demo's configuration: its credentials, anonymous writes on (as `revgate demo`)."""
    async for f in _forges():
        yield f


@pytest.fixture
async def guarded() -> AsyncIterator[Forges]:
    """API keys (a writer, a read-only one); anonymous callers may write to Gerrit only."""
    async for f in _forges(keys=True, anonymous_writes=frozenset({"gerrit"})):
        yield f


async def _native(url: str, path: str, **kw: Any) -> Any:
    """A forge's own REST resource, read directly (the effect's witness)."""
    async with httpx.AsyncClient(base_url=url) as client:
        resp = await client.get(path, **kw)
        assert resp.status_code == 200, resp.text
        text = resp.text.removeprefix(")]}'\n")  # Gerrit's XSSI guard
        return httpx.Response(200, text=text).json()


async def _pw_patch(f: Forges, native: str) -> dict[str, Any]:
    found: dict[str, Any] = await _native(f.pw.url, f"/api/patches/{native}/")
    return found


async def _gerrit_change(f: Forges, number: str) -> dict[str, Any]:
    params = [("o", "DETAILED_LABELS"), ("o", "MESSAGES")]
    found: dict[str, Any] = await _native(f.gerrit.url, f"/changes/{number}", params=params)
    return found


async def _abf_pull(f: Forges, native: str) -> dict[str, Any]:
    project, number = native.split("/")
    path = f"/api/v1/projects/{project}/pull_requests/{number}.json"
    found: dict[str, Any] = await _native(f.abf.url, path, auth=(ABF_TOKEN, ""))
    return found["pull_request"]  # type: ignore[no-any-return]


def _native_id(global_id: str) -> str:
    return node.decode(global_id).native


def _gerrit_votes(change: dict[str, Any], label: str) -> dict[str, int]:
    votes = change["labels"][label].get("all", [])
    return {v["username"]: v.get("value", 0) for v in votes if "username" in v}


async def _unsupported(f: Forges, query: str, change: str, **fields: Any) -> dict[str, Any]:
    """The action is refused as UNSUPPORTED before any upstream request."""
    before = f.counts()
    payload = await f.act(query, change, **fields)
    assert f.counts() == before
    [error] = payload["errors"]
    assert error["code"] == "UNSUPPORTED", error
    assert payload.get("change") is None
    found: dict[str, Any] = error
    return found


# --- viewerCan ------------------------------------------------------------------------------

EXPECTED_VIEWER = {  # docs/actions.md "Change.viewerCan", with the demo's credentials
    "patchwork": {
        "comment": False,
        "review": True,
        "close": True,
        "merge": True,
        "reportCheck": True,
    },
    "fdo": {"comment": False, "review": False, "close": False, "merge": False, "reportCheck": True},
    "gerrit": dict.fromkeys(("comment", "review", "close", "merge", "reportCheck"), True),
    "abf": {"comment": False, "review": False, "close": True, "merge": True, "reportCheck": False},
}
NOTHING = dict.fromkeys(("comment", "review", "close", "merge", "reportCheck"), False)


def _viewer_by_backend(body: dict[str, Any]) -> dict[str, list[dict[str, bool]]]:
    assert "errors" not in body, body["errors"]
    changes = body["data"]["changes"]
    assert changes["missingBackends"] == []
    found: dict[str, list[dict[str, bool]]] = {}
    for n in changes["nodes"]:
        found.setdefault(n["backend"]["name"], []).append(n["viewerCan"])
    return found


async def test_viewer_can_follows_each_kind_without_upstream_reads(forges: Forges) -> None:
    without = VIEWER.replace("viewerCan { comment review close merge reportCheck }", "")
    await forges.query(without, {"first": 100})  # learns one-time facts (versions, projects)
    before = forges.counts()
    await forges.query(without, {"first": 100})
    plain = {k: v - before[k] for k, v in forges.counts().items()}
    before = forges.counts()
    found = _viewer_by_backend(await forges.query(VIEWER, {"first": 100}))
    assert {k: v - before[k] for k, v in forges.counts().items()} == plain
    assert set(found) == set(EXPECTED_VIEWER)
    for backend, answers in found.items():
        assert all(a == EXPECTED_VIEWER[backend] for a in answers), backend


async def test_viewer_can_follows_the_access_policy(guarded: Forges) -> None:
    anonymous = _viewer_by_backend(await guarded.query(VIEWER, {"first": 100}))
    for backend, answers in anonymous.items():
        # anonymous callers write only where anonymous_writes is on (Gerrit here)
        wanted = EXPECTED_VIEWER[backend] if backend == "gerrit" else NOTHING
        assert all(a == wanted for a in answers), backend
    guarded.key = READER
    for answers in _viewer_by_backend(await guarded.query(VIEWER, {"first": 100})).values():
        assert all(a == NOTHING for a in answers)
    guarded.key = WRITER
    writer = _viewer_by_backend(await guarded.query(VIEWER, {"first": 100}))
    for backend, answers in writer.items():
        assert all(a == EXPECTED_VIEWER[backend] for a in answers), backend


# --- upstream Patchwork ---------------------------------------------------------------------

PATCH3 = node.encode("Patch", "patchwork", "3")


async def test_patchwork_review_and_state_round_trip(forges: Forges) -> None:
    for verdict, raw, state in (
        ("REQUEST_CHANGES", "changes-requested", "CHANGES_REQUESTED"),
        ("REJECT", "rejected", "CLOSED"),
        ("APPROVE", "accepted", "MERGED"),
    ):
        payload = await forges.act(REVIEW, PATCH3, verdict=verdict)
        assert payload["errors"] == []
        assert payload["change"] == {"id": PATCH3, "state": state, "rawState": raw}
        assert (await _pw_patch(forges, "3"))["state"] == raw
    for action, raw in (
        ("REOPEN", "new"),
        ("CLOSE", "rejected"),
        ("ABANDON", "not-applicable"),
        ("MERGE", "accepted"),
    ):
        payload = await forges.act(SET_STATE, PATCH3, action=action)
        assert payload["errors"] == [] and payload["change"]["rawState"] == raw
        assert (await _pw_patch(forges, "3"))["state"] == raw


async def test_patchwork_review_message_has_nowhere_to_go(forges: Forges) -> None:
    payload = await forges.act(REVIEW, PATCH3, verdict="REQUEST_CHANGES", message="v2 please")
    assert payload["change"]["rawState"] == "changes-requested"  # the verdict still landed
    [note] = payload["errors"]
    assert note["code"] == "UNSUPPORTED" and note["field"] == "message"


async def test_patchwork_report_check_round_trip(forges: Forges) -> None:
    payload = await forges.act(
        REPORT,
        PATCH3,
        context="revgate-ci",
        state="FAILURE",
        description="2 tests failed",
        targetUrl="https://ci.example.org/7",
    )
    assert payload["errors"] == []
    check = payload["check"]
    assert check["context"] == "revgate-ci" and check["state"] == "FAILURE"
    assert check["rawState"] == "fail" and check["targetUrl"] == "https://ci.example.org/7"
    assert payload["change"]["checkState"] == "FAILURE"
    assert {"context": "revgate-ci", "state": "FAILURE"} in payload["change"]["checks"]
    native = await _native(forges.pw.url, "/api/patches/3/checks/")
    assert {(c["context"], c["state"], c["description"], c["target_url"]) for c in native} >= {
        ("revgate-ci", "fail", "2 tests failed", "https://ci.example.org/7")
    }
    assert (await _pw_patch(forges, "3"))["check"] == "fail"


async def test_patchwork_comment_is_unsupported(forges: Forges) -> None:
    error = await _unsupported(forges, COMMENT, PATCH3, body="Looks good")
    assert error["backend"] == "patchwork" and "comment" in error["message"]


# --- freedesktop Patchwork ------------------------------------------------------------------


async def _fdo_placed(f: Forges) -> tuple[str, str]:
    """An fdo patch held by a revision: its ID and the revision's native key."""
    for n in await f.open_changes("fdo"):
        if n["currentRevision"]:
            return n["id"], _native_id(n["currentRevision"]["id"])
    raise AssertionError("no fdo patch in a revision")


async def test_fdo_report_check_is_a_test_result_on_the_latest_revision(forges: Forges) -> None:
    patch, key = await _fdo_placed(forges)
    series, version = key.split("/")
    payload = await forges.act(
        REPORT, patch, context="igt", state="WARNING", description="1 skip", targetUrl=None
    )
    assert payload["errors"] == []
    assert payload["check"]["context"] == "igt" and payload["check"]["state"] == "WARNING"
    assert {"context": "igt", "state": "WARNING"} in payload["change"]["checks"]
    path = f"/api/1.0/series/{series}/revisions/{version}/test-results/"
    native = await _native(forges.fdo.url, path)
    results = native["results"] if isinstance(native, dict) else native
    assert ("igt", "warning", "1 skip") in {
        (r["test_name"], r["state"], r["summary"]) for r in results
    }
    # the same context again replaces the result (the fork's test_name rule)
    again = await forges.act(REPORT, patch, context="igt", state="SUCCESS")
    assert again["errors"] == [] and again["check"]["state"] == "SUCCESS"
    assert [c for c in again["change"]["checks"] if c["context"] == "igt"] == [
        {"context": "igt", "state": "SUCCESS"}
    ]
    native = await _native(forges.fdo.url, path)
    results = native["results"] if isinstance(native, dict) else native
    assert [r["state"] for r in results if r["test_name"] == "igt"] == ["success"]


async def test_fdo_writes_nothing_but_checks(forges: Forges) -> None:
    patch, _ = await _fdo_placed(forges)
    await _unsupported(forges, COMMENT, patch, body="hi")
    await _unsupported(forges, REVIEW, patch, verdict="APPROVE")
    for action in ("CLOSE", "REOPEN", "MERGE", "ABANDON"):
        await _unsupported(forges, SET_STATE, patch, action=action)


# --- Gerrit ---------------------------------------------------------------------------------


async def _unblocked_gerrit_change(f: Forges) -> str:
    """An open Gerrit change nobody voted against (so a submit waits only for our votes)."""
    for n in await f.open_changes("gerrit"):
        labels = (await _gerrit_change(f, _native_id(n["id"])))["labels"]
        if all(v.get("value", 0) >= 0 for label in labels.values() for v in label.get("all", [])):
            return str(n["id"])
    raise AssertionError("every open Gerrit change has a negative vote")


async def test_gerrit_comment_review_check_and_merge_round_trip(forges: Forges) -> None:
    change = await _unblocked_gerrit_change(forges)
    number = _native_id(change)
    payload = await forges.act(COMMENT, change, body="Nice cleanup.")
    assert payload["errors"] == [] and payload["change"]["id"] == change
    messages = [m["message"] for m in (await _gerrit_change(forges, number))["messages"]]
    assert any("Nice cleanup." in m for m in messages)

    payload = await forges.act(REVIEW, change, verdict="REJECT", message="Not like this.")
    assert payload["errors"] == []
    native = await _gerrit_change(forges, number)
    assert _gerrit_votes(native, "Code-Review")["admin"] == -2
    assert "Not like this." in native["messages"][-1]["message"]
    await forges.act(REVIEW, change, verdict="APPROVE")
    assert _gerrit_votes(await _gerrit_change(forges, number), "Code-Review")["admin"] == 2

    payload = await forges.act(
        REPORT, change, context="zuul", state="SUCCESS", targetUrl="https://ci.example.org/9"
    )
    assert payload["errors"] == []
    assert payload["check"]["context"] == "Verified" and payload["check"]["rawState"] == "+1"
    native = await _gerrit_change(forges, number)
    assert _gerrit_votes(native, "Verified")["admin"] == 1
    assert "zuul: SUCCESS" in native["messages"][-1]["message"]
    assert "https://ci.example.org/9" in native["messages"][-1]["message"]

    payload = await forges.act(SET_STATE, change, action="MERGE", message="Thanks!")
    assert payload["errors"] == [], payload
    assert payload["change"]["state"] == "MERGED"
    native = await _gerrit_change(forges, number)
    assert native["status"] == "MERGED"
    assert any("Thanks!" in m["message"] for m in native["messages"])


async def test_gerrit_check_votes_and_pending(forges: Forges) -> None:
    change = (await forges.open_changes("gerrit"))[1]["id"]
    number = _native_id(change)
    payload = await forges.act(REPORT, change, context="lint", state="FAILURE")
    assert payload["check"]["state"] == "FAILURE" and payload["change"]["checkState"] == "FAILURE"
    assert _gerrit_votes(await _gerrit_change(forges, number), "Verified")["admin"] == -1
    payload = await forges.act(REPORT, change, context="lint", state="PENDING")
    assert payload["errors"] == [] and payload["check"] is None  # a 0 vote: no record
    assert _gerrit_votes(await _gerrit_change(forges, number), "Verified")["admin"] == 0


async def test_gerrit_abandon_and_reopen_round_trip(forges: Forges) -> None:
    change = (await forges.open_changes("gerrit"))[2]["id"]
    number = _native_id(change)
    payload = await forges.act(SET_STATE, change, action="ABANDON", message="Superseded.")
    assert payload["change"]["state"] == "CLOSED" and payload["change"]["rawState"] == "ABANDONED"
    native = await _gerrit_change(forges, number)
    assert native["status"] == "ABANDONED" and "Superseded." in native["messages"][-1]["message"]
    payload = await forges.act(SET_STATE, change, action="REOPEN")
    assert payload["change"]["rawState"] == "NEW"
    assert (await _gerrit_change(forges, number))["status"] == "NEW"
    await forges.act(SET_STATE, change, action="CLOSE")
    assert (await _gerrit_change(forges, number))["status"] == "ABANDONED"
    # Gerrit's own refusal comes back coded: abandoning an abandoned change is a conflict
    payload = await forges.act(SET_STATE, change, action="ABANDON")
    assert payload["change"] is None and payload["errors"][0]["code"] == "CONFLICT"


# --- ABF ------------------------------------------------------------------------------------


async def test_abf_close_reopen_merge_round_trip(forges: Forges) -> None:
    pulls = await forges.open_changes("abf")
    mergeable = [p["id"] for p in pulls if p["checkState"] == "SUCCESS"]
    assert mergeable, pulls
    pr = mergeable[0]
    native = _native_id(pr)
    payload = await forges.act(SET_STATE, pr, action="CLOSE")
    assert payload["errors"] == [] and payload["change"]["state"] == "CLOSED"
    assert (await _abf_pull(forges, native))["status"] == "closed"
    payload = await forges.act(SET_STATE, pr, action="REOPEN")
    assert payload["change"]["state"] == "OPEN"
    assert (await _abf_pull(forges, native))["status"] in ("open", "ready")  # ready: mergeable
    payload = await forges.act(SET_STATE, pr, action="MERGE", message="ship it")
    assert payload["change"]["state"] == "MERGED"
    assert [e["field"] for e in payload["errors"]] == ["message"]  # ABF keeps no message
    assert (await _abf_pull(forges, native))["status"] == "merged"


async def test_abf_has_no_comments_reviews_or_checks(forges: Forges) -> None:
    pr = (await forges.open_changes("abf"))[0]["id"]
    await _unsupported(forges, COMMENT, pr, body="hi")
    for verdict in ("APPROVE", "REQUEST_CHANGES", "REJECT"):
        await _unsupported(forges, REVIEW, pr, verdict=verdict)
    error = await _unsupported(forges, REPORT, pr, context="ci", state="SUCCESS")
    assert error["backend"] == "abf" and "check" in error["message"]


# --- unhappy paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("not-an-id", "BAD_ID"),
        (node.encode("Series", "patchwork", "2"), "BAD_ID"),  # not a change
        (node.encode("Check", "patchwork", "3/1"), "BAD_ID"),
        (node.encode("Patch", "gerrit", "20001"), "BAD_ID"),  # not that backend's type
        (node.encode("GerritChange", "abf", "1"), "BAD_ID"),
        (node.encode("Patch", "nowhere", "3"), "BACKEND_NOT_FOUND"),
    ],
)
async def test_bad_ids_are_refused_before_any_request(
    forges: Forges, change: str, code: str
) -> None:
    before = forges.counts()
    for query, fields in (
        (COMMENT, {"body": "x"}),
        (REVIEW, {"verdict": "APPROVE"}),
        (SET_STATE, {"action": "CLOSE"}),
        (REPORT, {"context": "ci", "state": "SUCCESS"}),
    ):
        payload = await forges.act(query, change, **fields)
        assert payload["change"] is None
        assert [e["code"] for e in payload["errors"]] == [code], payload
    assert forges.counts() == before


async def test_blank_body_and_context_are_refused(forges: Forges) -> None:
    gerrit = (await forges.open_changes("gerrit"))[0]["id"]
    before = forges.counts()
    payload = await forges.act(COMMENT, gerrit, body="  ")
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT"
    payload = await forges.act(REPORT, PATCH3, context="", state="SUCCESS")
    assert payload["errors"][0]["code"] == "BAD_USER_INPUT" and payload["check"] is None
    assert forges.counts() == before


async def test_missing_changes_are_not_found(forges: Forges) -> None:
    for change, query, fields in (
        (node.encode("Patch", "patchwork", "99999"), REVIEW, {"verdict": "APPROVE"}),
        (node.encode("GerritChange", "gerrit", "99999"), COMMENT, {"body": "x"}),
        (node.encode("PullRequest", "abf", "1/99999"), SET_STATE, {"action": "CLOSE"}),
        (node.encode("Patch", "fdo", "99999"), REPORT, {"context": "ci", "state": "SUCCESS"}),
    ):
        payload = await forges.act(query, change, **fields)
        assert payload["change"] is None
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"], (change, payload)


async def test_upstream_down_is_coded_and_not_retried(forges: Forges) -> None:
    await forges.query("{ backends { apiVersion } }")  # the version probe, before the fault
    forges.pw.state.fault("/api/1.3/patches/3/", "500")
    before = forges.counts()["patchwork"]
    payload = await forges.act(SET_STATE, PATCH3, action="CLOSE")
    [error] = payload["errors"]
    assert error["code"] == "UPSTREAM_UNAVAILABLE" and error["backend"] == "patchwork"
    assert payload["change"] is None
    assert forges.counts()["patchwork"] - before == 1  # a write is sent once


async def test_access_policy_refuses_before_any_request(guarded: Forges) -> None:
    before = guarded.counts()
    # anonymous: writes only where anonymous_writes (Gerrit here); elsewhere in the payload
    payload = await guarded.act(REVIEW, PATCH3, verdict="APPROVE")
    assert [e["code"] for e in payload["errors"]] == ["UNAUTHENTICATED"]
    assert guarded.counts() == before
    # a read-only key writes nowhere: the whole operation is refused (gateway/guard.py)
    guarded.key = READER
    body = await guarded.query(
        REPORT, {"input": {"change": PATCH3, "context": "c", "state": "SUCCESS"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN" and body["data"] is None
    assert guarded.counts() == before
    guarded.key = WRITER
    payload = await guarded.act(REVIEW, PATCH3, verdict="REJECT")
    assert payload["errors"] == [] and payload["change"]["rawState"] == "rejected"


async def test_viewer_can_is_planned_by_the_fast_path(forges: Forges) -> None:
    """viewerCan is a synchronous resolver of the record's backend: a planned list keeps it
    (no fall-back to normal execution), and both give the same answer."""
    fast = forges.client._transport.app.state.fast_path  # type: ignore[attr-defined]
    planned = _viewer_by_backend(await forges.query(VIEWER, {"first": 50}))
    hits, replays = fast.hits, fast.replays
    assert _viewer_by_backend(await forges.query(VIEWER, {"first": 50})) == planned
    assert (fast.hits - hits, fast.replays - replays) == (1, 0)
    fast.enabled = False
    assert _viewer_by_backend(await forges.query(VIEWER, {"first": 50})) == planned


async def test_each_action_costs_what_docs_say(forges: Forges) -> None:
    """docs/actions.md "upstream requests": one write, plus one read back where the write's
    answer is not the change (Patchwork states: the PATCH answers the patch)."""
    gerrit = await _unblocked_gerrit_change(forges)
    abf = (await forges.open_changes("abf"))[0]["id"]
    await forges.query("{ backends { apiVersion } }")  # one-time probes (API versions)
    for backend, query, change, fields, cost in (
        ("patchwork", REVIEW, PATCH3, {"verdict": "APPROVE"}, 1),
        ("patchwork", SET_STATE, PATCH3, {"action": "REOPEN"}, 1),
        ("patchwork", REPORT, PATCH3, {"context": "c", "state": "SUCCESS"}, 2),
        ("gerrit", COMMENT, gerrit, {"body": "hi"}, 2),
        ("gerrit", REVIEW, gerrit, {"verdict": "APPROVE"}, 2),
        ("gerrit", REPORT, gerrit, {"context": "c", "state": "SUCCESS"}, 2),
        ("gerrit", SET_STATE, gerrit, {"action": "ABANDON"}, 2),
        ("abf", SET_STATE, abf, {"action": "CLOSE"}, 2),
    ):
        query = query.replace("checks { context state }", "")  # the change's own fields only
        before = forges.counts()
        payload = await forges.act(query, change, **fields)
        assert payload["errors"] == [], payload
        spent = {k: v - before[k] for k, v in forges.counts().items() if v != before[k]}
        assert spent == {backend: cost}, (query.split("(")[0], fields, spent)


async def test_a_callers_own_credential_acts_and_the_forge_decides(guarded: Forges) -> None:
    """A key with its own Patchwork token (backend_tokens) writes as that user: viewerCan
    cannot know its rights without a read (true), and Patchwork's refusal comes back coded."""
    guarded.key = BOT
    viewer = _viewer_by_backend(await guarded.query(VIEWER, {"first": 100}))
    assert all(a == EXPECTED_VIEWER["patchwork"] for a in viewer["patchwork"])
    before = guarded.counts()["patchwork"]
    payload = await guarded.act(REVIEW, PATCH3, verdict="APPROVE")
    assert payload["change"] is None
    [error] = payload["errors"]
    assert error["code"] == "FORBIDDEN" and error["backend"] == "patchwork"
    assert guarded.counts()["patchwork"] - before == 1
    assert (await _pw_patch(guarded, "3"))["state"] != "accepted"
