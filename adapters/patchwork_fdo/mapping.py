"""freedesktop Patchwork (API 1.0) payloads ⇄ unified records. The only module knowing their shapes.

The fork sends references as bare ids (a series' ``project``, ``submitter`` and ``reviewer``,
a patch's ``project`` and ``submitter``, an event's ``series``, ``patch`` and ``user``). The
parsers take the already-resolved project where the caller has it (the source resolves
projects in one batch); people stay ids for the GraphQL layer's batched loader.

- Patch ``state`` is the id of a Patchwork ``State`` row; the fork ships Patchwork's default
  states fixture, whose ids are listed in ``STATE_IDS`` (an unknown id keeps ``state-<id>``
  as raw state and counts as open).
- Test states: ``pending``, ``success``, ``warning``, ``failure`` map onto ``CheckState``;
  ``info`` (a result that neither passes nor fails) rolls up as ``SUCCESS`` with the raw
  ``info`` kept.
- Events have no id: ``event_id`` derives a stable one from everything the event carries.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from adapters.errors import BadPayload
from adapters.fastrecord import builder
from adapters.model import (
    Check,
    CheckState,
    Event,
    NewTestResult,
    Person,
    Project,
    Revision,
    StateCount,
    TrackedPatch,
    TrackedSeries,
)
from adapters.patchwork_common import (
    change_state,
    guarded,
    parse_date,
    parse_server_date,
    state_slug,
)

# Keyword-compatible builders of the records mapped per item (adapters/fastrecord.py: no
# frozen ``__init__``, the same arguments and defaults, checked by the type checker).
_Project = builder(Project)
_TrackedSeries = builder(TrackedSeries)
_Revision = builder(Revision)
_Check = builder(Check)
_Person = builder(Person)
_TrackedPatch = builder(TrackedPatch)
_Event = builder(Event)


# Patchwork's default states fixture (patchwork/fixtures/default_states.xml), by primary key.
STATE_IDS: Mapping[int, str] = {
    1: "new",
    2: "under-review",
    3: "accepted",
    4: "rejected",
    5: "rfc",
    6: "not-applicable",
    7: "changes-requested",
    8: "awaiting-upstream",
    9: "superseded",
    10: "deferred",
}

TEST_STATES: Mapping[str, CheckState] = {
    "pending": CheckState.PENDING,
    "info": CheckState.SUCCESS,
    "success": CheckState.SUCCESS,
    "warning": CheckState.WARNING,
    "failure": CheckState.FAILURE,
}
# What a report may send (the documented POST states; ``info`` is the server's own).
TEST_UNMAP: Mapping[CheckState, str] = {
    CheckState.PENDING: "pending",
    CheckState.SUCCESS: "success",
    CheckState.WARNING: "warning",
    CheckState.FAILURE: "failure",
}
SERIES_STATES = ("initial", "in progress", "done", "incomplete")


def _id(value: Any) -> str | None:
    """A reference id as a string (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an id, got {type(value).__name__}")
    return str(value)


def _opt_date(value: Any, backend: str) -> datetime | None:
    # only ``last_updated`` is optional: the server's clock (``time_zone``)
    return None if value is None else parse_server_date(value, backend)


def envelope(backend: str, body: Any) -> tuple[list[dict[str, Any]], int | None, str | None]:
    """``{count, next, previous, results}`` → (results, count, next URL or ``None``)."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise BadPayload(backend, "expected a {count, next, previous, results} list")
    count = body.get("count")
    nxt = body.get("next")
    return body["results"], count if isinstance(count, int) else None, nxt or None


def project_id(backend: str, d: Mapping[str, Any]) -> str | None:
    """The project id a series, patch or event payload refers to."""
    return guarded(backend, "payload", lambda: _id(d.get("project")))


def project(backend: str, d: Mapping[str, Any]) -> Project:
    """A project (list item or detail)."""

    def parse() -> Project:
        return _Project(
            backend=backend,
            id=str(d["id"]),
            name=d["name"],
            link_name=d["linkname"],
            web_url=d.get("web_url") or None,
            list_email=d.get("listemail") or None,
            scm_url=d.get("scm_url") or None,
            webscm_url=d.get("webscm_url") or None,
            raw=d,
        )

    return guarded(backend, "project", parse)


def test_state(raw: Any) -> CheckState | None:
    """A series' or result's test state; ``None`` (no result yet) stays ``None``."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise TypeError(f"test state must be a string, got {type(raw).__name__}")
    return TEST_STATES.get(raw, CheckState.WARNING)


def series(
    backend: str,
    d: Mapping[str, Any],
    proj: Project | None = None,
    mbox_url: str | None = None,
) -> TrackedSeries:
    """A series (list item or detail); ``proj`` is its resolved project where known."""

    def parse() -> TrackedSeries:
        n_patches = int(d.get("n_patches") or 0)
        state = d.get("state")
        raw_test = d.get("test_state")
        return _TrackedSeries(
            backend=backend,
            id=str(d["id"]),
            project=proj,
            name=d.get("name"),
            date=parse_server_date(d["submitted"], backend),  # server clock
            submitter=None,
            version=int(d.get("version") or 1),
            total=n_patches,
            received_total=n_patches,
            # The fork only publishes a revision once all its mails arrived; "incomplete"
            # is the state of one that never completed.
            received_all=state != "incomplete",
            cover=None,
            patches=(),
            mbox_url=mbox_url,
            raw=d,
            submitter_id=_id(d.get("submitter")),
            reviewer_id=_id(d.get("reviewer")),
            updated=_opt_date(d.get("last_updated"), backend),
            state=state,
            test_state=test_state(raw_test),
            raw_test_state=raw_test,
            state_summary=tuple(
                StateCount(name=s["name"], count=int(s["count"]), final=bool(s["final"]))
                for s in d.get("state_summary") or ()
            ),
        )

    return guarded(backend, "series", parse)


def revision(
    backend: str, series_id: str, d: Mapping[str, Any], mbox_url: str | None = None
) -> Revision:
    """One revision of a series; ``patches`` are patch ids (objects with an ``id`` accepted)."""

    def parse() -> Revision:
        ids = []
        for p in d.get("patches") or ():
            ids.append(str(p["id"]) if type(p) is dict or isinstance(p, Mapping) else _id(p))
        cover = d.get("cover_letter")
        return _Revision(
            backend=backend,
            series_id=series_id,
            version=int(d["version"]),
            cover_letter=cover if isinstance(cover, str) else None,
            patch_ids=tuple(i for i in ids if i is not None),
            mbox_url=mbox_url,
            raw=d,
        )

    return guarded(backend, "revision", parse)


def test_result(backend: str, revision_key: str, d: Mapping[str, Any]) -> Check:
    """A test result of a revision, as a check; its id is its ``test_name`` (unique there)."""

    def parse() -> Check:
        raw_state = d["state"]
        state = test_state(raw_state)
        assert state is not None  # "state" is required and never null
        return _Check(
            backend=backend,
            id=d["test_name"],
            change_id=revision_key,
            context=d["test_name"],
            state=state,
            raw_state=raw_state,
            date=parse_server_date(d["date"], backend),  # server clock
            target_url=d.get("url") or None,
            description=d.get("summary") or None,
            raw=d,
        )

    return guarded(backend, "test result", parse)


def test_results(backend: str, revision_key: str, body: Any) -> list[Check]:
    """The test-results list: a bare JSON list, or the usual envelope."""
    if isinstance(body, dict):
        body = envelope(backend, body)[0]
    if not isinstance(body, list):
        raise BadPayload(backend, "expected a list of test results")
    return [test_result(backend, revision_key, d) for d in body]


def patch_state(raw: Any) -> str:
    """A patch's raw state slug from the fork's state id (or name, for robustness)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return STATE_IDS.get(raw, f"state-{raw}")
    if isinstance(raw, str) and raw:
        return state_slug(raw)
    raise TypeError(f"unexpected patch state {raw!r:.40}")


def person_stub(backend: str, person_id: str | None, partial: bool = False) -> Person | None:
    """A person known only by id (the fork's payloads carry no names); ``partial``: a
    submitter, whom ``people.get_people`` can name (an event's user is an account id)."""
    if person_id is None:
        return None
    return _Person(backend=backend, id=person_id, name=None, email=None, partial=partial)


def patch(
    backend: str,
    d: Mapping[str, Any],
    proj: Project,
    mbox_url: str | None = None,
    web_url: str | None = None,
) -> TrackedPatch:
    """A patch (list item or detail); ``proj`` is its resolved project. The fork's payloads
    carry no URLs: the source passes the ones it builds (``web_url``: ``<site>/patch/<id>/``,
    the fork's patch page)."""

    def parse() -> TrackedPatch:
        raw_state = patch_state(d["state"])
        content = d.get("content")
        return _TrackedPatch(
            backend=backend,
            id=str(d["id"]),
            project=proj,
            title=d["name"],
            msgid="",
            date=parse_date(d["date"], backend),
            state=change_state(raw_state),
            raw_state=raw_state,
            archived=False,
            submitter=person_stub(backend, _id(d.get("submitter")), partial=True),
            delegate=None,
            check_state=None,
            web_url=web_url,
            mbox_url=mbox_url,
            content=content,
            diff=content,
            raw=d,
            updated=_opt_date(d.get("last_updated"), backend),
        )

    return guarded(backend, "patch", parse)


def event_id(d: Mapping[str, Any]) -> str:
    """A stable id for an event, which the fork does not give.

    SHA-1 (first 20 hex digits) of the canonical JSON of ``event_time``, ``name``, ``series``,
    ``patch``, ``user`` and ``parameters`` (keys sorted): the same event always gets the same
    id, in every page and every poll; two events differing in anything get different ids.
    """
    keys = ("event_time", "name", "series", "patch", "user", "parameters")
    canonical = orjson.dumps({k: d.get(k) for k in keys}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha1(canonical, usedforsecurity=False).hexdigest()[:20]


def event(backend: str, d: Mapping[str, Any], proj: Project | None) -> Event:
    """An event of a project's log."""

    def parse() -> Event:
        params = d.get("parameters") or {}
        if not isinstance(params, Mapping):
            raise TypeError("event parameters must be an object")
        prev, new = params.get("previous_state"), params.get("new_state")
        return _Event(
            backend=backend,
            id=event_id(d),
            category=d["name"],
            date=parse_server_date(d["event_time"], backend),
            project=proj,
            actor=person_stub(backend, _id(d.get("user"))),
            patch_id=_id(d.get("patch")),
            series_id=_id(d.get("series")),
            previous_state=state_slug(prev) if isinstance(prev, str) else None,
            current_state=state_slug(new) if isinstance(new, str) else None,
            raw=d,
        )

    return guarded(backend, "event", parse)


def event_time(d: Mapping[str, Any], backend: str) -> datetime:
    """An event payload's time (for polling cursors)."""
    return guarded(backend, "event", lambda: parse_server_date(d["event_time"], backend))


def api_revision(backend: str, body: Any) -> int:
    """The API root's ``revision``."""
    if not isinstance(body, dict) or not isinstance(body.get("revision"), int):
        raise BadPayload(backend, 'expected {"revision": <int>} at the API root')
    return int(body["revision"])


# --- records → payloads (the write direction) ---------------------------------------------


def test_result_body(new: NewTestResult) -> dict[str, Any]:
    """The JSON body of ``POST …/revisions/<version>/test-results/``."""
    body: dict[str, Any] = {"test_name": new.test_name, "state": TEST_UNMAP[new.state]}
    if new.url is not None:
        body["url"] = new.url
    if new.summary is not None:
        body["summary"] = new.summary
    return body


def mbox_sender(mbox: str) -> tuple[str | None, str | None]:
    """The (name, address) of the first message's ``From:`` in an mbox."""
    text = mbox.split("\n\n", 1)[0]
    if text.startswith("From ") and "\n" in text:
        text = text.split("\n", 1)[1]  # the mbox "From " separator line
    message = email.parser.HeaderParser(policy=email.policy.default).parsestr(text)
    value = message.get("From")
    if value is None:
        return None, None
    name, address = email.utils.parseaddr(str(value))
    return (name or None), (address or None)
