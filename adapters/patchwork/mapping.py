"""Upstream Patchwork payloads ⇄ unified records. The only module that knows their shapes.

Parsing accepts every API version 1.0–1.3 (fields a version lacks become ``None``) and the
unversioned ``/api/``. Dates are naive ISO 8601 in UTC (``2016-09-11T22:26:34``, checks and
events with microseconds); they become aware UTC datetimes. Anything unexpected — a missing
required key, a wrong type — raises ``BadPayload`` naming the backend, never a ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from adapters.errors import BadPayload
from adapters.fastrecord import builder
from adapters.model import (
    Bundle,
    Check,
    CheckState,
    Comment,
    Cover,
    Event,
    MessageRef,
    NewCheck,
    Patch,
    PatchUpdate,
    Person,
    Project,
    Series,
    SeriesRef,
)
from adapters.patchwork_common import (
    SHAPE_ERRORS,
    STATE_MAP,
    change_state,
    format_date,
    format_server_date,
    guarded,
    parse_date,
    parse_server_date,
    shape_error,
)

# Keyword-compatible builders of the records mapped per item (adapters/fastrecord.py: no
# frozen ``__init__``, the same arguments and defaults, checked by the type checker).
_MessageRef = builder(MessageRef)
_Cover = builder(Cover)
_Series = builder(Series)
_Comment = builder(Comment)
_Check = builder(Check)
_Event = builder(Event)
_Bundle = builder(Bundle)


# Re-exported: the state table, dates and the shape guard are shared with the fdo fork.
__all__ = [
    "STATE_MAP",
    "change_state",
    "format_date",
    "format_server_date",
    "guarded",
    "parse_date",
    "parse_server_date",
]

R = TypeVar("R")

CHECK_MAP: Mapping[str, CheckState] = {
    "pending": CheckState.PENDING,
    "success": CheckState.SUCCESS,
    "warning": CheckState.WARNING,
    "fail": CheckState.FAILURE,
}
CHECK_UNMAP: Mapping[CheckState, str] = {v: k for k, v in CHECK_MAP.items()}


def _opt_date(value: Any, backend: str) -> datetime | None:
    return None if value is None else parse_date(value, backend)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# Positional builders (field declaration order) for the records a list page builds per item;
# each call below evaluates its arguments in the same order the keyword form did, so a
# malformed payload fails on the same key with the same message.
_project = builder(Project)
_person = builder(Person)
_series_ref = builder(SeriesRef)
_patch = builder(Patch)


def project(backend: str, d: Mapping[str, Any]) -> Project:
    """A project (list item, detail, or inline in a patch)."""
    ident = str(d["id"])  # first, as before: a non-mapping fails here, not on ``.get``
    get = d.get
    return _project(
        backend,
        ident,
        d["name"],
        d["link_name"],
        get("web_url") or None,
        get("list_email"),
        get("list_id"),
        get("scm_url") or None,
        get("webscm_url") or None,
        get("list_archive_url") or None,
        True,  # public: Patchwork projects are
        d,
    )


def person(backend: str, d: Mapping[str, Any] | None) -> Person | None:
    """A mail sender (``people/``), with or without its linked user."""
    if d is None:
        return None
    return _person(backend, str(d["id"]), d.get("name"), d.get("email"), None, d, False)


def user(backend: str, d: Mapping[str, Any] | None) -> Person | None:
    """A user account (``users/``); its native id is prefixed ``u``."""
    if d is None:
        return None
    full = " ".join(p for p in (d.get("first_name"), d.get("last_name")) if p)
    return _person(
        backend,
        f"u{d['id']}",
        full or d.get("username"),
        d.get("email"),
        d.get("username"),
        d,
        False,  # partial: Patchwork sends the whole person
    )


def series_ref(backend: str, d: Mapping[str, Any]) -> SeriesRef:
    """A series summary as embedded in patches and covers."""
    ident = str(d["id"])  # first, as before: a non-mapping fails here, not on ``.get``
    get = d.get
    return _series_ref(
        backend,
        ident,
        get("name"),
        int(get("version") or 1),
        _opt_date(get("date"), backend),
        get("web_url"),
        get("mbox"),
    )


def message_ref(backend: str, d: Mapping[str, Any]) -> MessageRef:
    """A patch or cover summary as embedded in series and bundles."""
    return _MessageRef(
        backend=backend,
        id=str(d["id"]),
        name=d.get("name") or "",
        msgid=d.get("msgid") or "",
        date=_opt_date(d.get("date"), backend),
        web_url=d.get("web_url"),
        mbox_url=d.get("mbox"),
        list_archive_url=d.get("list_archive_url"),
    )


class Repeats:
    """What the items of one answer repeat, mapped once: a list answer carries the same
    project on every patch, a submitter's or delegate's object on each of their patches and
    a series summary on each patch of the series. Keyed by native id and reused only for an
    object equal to the one mapped (``==`` on the parsed JSON), so a changed object under
    the same id is mapped afresh and replaces it. Records are immutable, so sharing them is
    safe; a shared record's ``raw`` is the first equal object, not the item's own copy.
    Python's ``1 == 1.0 == True`` is the one way equal JSON can differ: one server does not
    spell the same object of one answer two ways. Lives as long as the parser it belongs to
    (one answer, ``patch_parser``): nothing here outlives the answer."""

    __slots__ = ("people", "projects", "series", "users")

    def __init__(self) -> None:
        self.projects: dict[int, tuple[Any, Project]] = {}
        self.people: dict[int, tuple[Any, Person | None]] = {}
        self.users: dict[int, tuple[Any, Person | None]] = {}
        self.series: dict[int, tuple[Any, tuple[SeriesRef, ...]]] = {}


def _once(
    table: dict[int, tuple[Any, R]], build: Callable[[str, Any], R], backend: str, d: Any
) -> R:
    """``build(backend, d)``, or the record of an equal object ``table`` already holds."""
    # Patchwork's ids are ints; anything else is mapped unshared, failing as ``build`` fails
    ident = d.get("id") if type(d) is dict else None
    if type(ident) is not int:
        return build(backend, d)
    hit = table.get(ident)
    if hit is not None and hit[0] == d:
        return hit[1]
    built = build(backend, d)
    table[ident] = (d, built)
    return built


def _series_refs(repeats: Repeats, backend: str, refs: Any) -> tuple[SeriesRef, ...]:
    """A patch's series summaries; the usual one-series list is shared like ``_once``'s."""
    if type(refs) is list and len(refs) == 1:
        return _once(repeats.series, _one_series, backend, refs[0])
    return tuple([series_ref(backend, s) for s in refs or ()])


def _one_series(backend: str, d: Any) -> tuple[SeriesRef, ...]:
    return (series_ref(backend, d),)


def patch(backend: str, d: Mapping[str, Any]) -> Patch:
    """A patch from a list item or a detail response (the detail adds content, diff, headers)."""
    return _patch_in(Repeats(), backend, d)


def patch_parser(backend: str) -> Callable[[Mapping[str, Any]], Patch]:
    """``patch`` for the items of one answer, sharing what they repeat (``Repeats``): make
    one per answer, never keep it beyond."""
    return partial(_patch_in, Repeats(), backend)


def _patch_in(seen: Repeats, backend: str, d: Mapping[str, Any]) -> Patch:
    try:
        get = d.get
        raw_state = get("state") or "new"
        check = get("check")
        submitter = get("submitter")
        delegate = get("delegate")
        return _patch(
            backend,
            str(d["id"]),
            _once(seen.projects, project, backend, d["project"]),
            d["name"],
            d["msgid"],
            parse_date(d["date"], backend),
            change_state(raw_state),
            raw_state,
            bool(get("archived", False)),
            None if submitter is None else _once(seen.people, person, backend, submitter),
            None if delegate is None else _once(seen.users, user, backend, delegate),
            CHECK_MAP.get(check) if type(check) is str else None,
            _series_refs(seen, backend, get("series")),
            get("hash"),
            get("commit_ref"),
            get("pull_url"),
            get("web_url"),
            get("mbox"),
            get("list_archive_url"),
            get("content"),
            get("diff"),
            get("headers"),
            d,
        )
    except BadPayload:
        raise
    except SHAPE_ERRORS as exc:  # as ``guarded`` does, inline: no closure per list item
        raise shape_error(backend, "patch", exc) from exc


def cover(backend: str, d: Mapping[str, Any]) -> Cover:
    """A cover letter from a list item or detail response."""

    def parse() -> Cover:
        return _Cover(
            backend=backend,
            id=str(d["id"]),
            project=project(backend, d["project"]),
            title=d["name"],
            msgid=d["msgid"],
            date=parse_date(d["date"], backend),
            submitter=person(backend, d.get("submitter")),
            series=tuple(series_ref(backend, s) for s in d.get("series") or ()),
            web_url=d.get("web_url"),
            mbox_url=d.get("mbox"),
            list_archive_url=d.get("list_archive_url"),
            content=d.get("content"),
            headers=d.get("headers"),
            raw=d,
        )

    return guarded(backend, "cover", parse)


def series(backend: str, d: Mapping[str, Any]) -> Series:
    """A series with its cover letter and patch summaries."""

    def parse() -> Series:
        cov = d.get("cover_letter")
        proj = d.get("project")
        return _Series(
            backend=backend,
            id=str(d["id"]),
            project=project(backend, proj) if proj else None,
            name=d.get("name"),
            date=parse_date(d["date"], backend),
            submitter=person(backend, d.get("submitter")),
            version=int(d.get("version") or 1),
            total=int(d.get("total") or 0),
            received_total=int(d.get("received_total") or 0),
            received_all=bool(d.get("received_all")),
            cover=message_ref(backend, cov) if cov else None,
            patches=tuple(message_ref(backend, p) for p in d.get("patches") or ()),
            web_url=d.get("web_url"),
            mbox_url=d.get("mbox"),
            raw=d,
        )

    return guarded(backend, "series", parse)


def comment(backend: str, d: Mapping[str, Any], parent_type: str, parent_id: str) -> Comment:
    """A reply to a patch or cover letter."""

    def parse() -> Comment:
        return _Comment(
            backend=backend,
            id=str(d["id"]),
            parent_id=parent_id,
            parent_type=parent_type,
            date=parse_date(d["date"], backend),
            subject=d.get("subject"),
            submitter=person(backend, d.get("submitter")),
            content=d.get("content"),
            msgid=d.get("msgid"),
            web_url=d.get("web_url"),
            list_archive_url=d.get("list_archive_url"),
            addressed=d.get("addressed"),
            raw=d,
        )

    return guarded(backend, "comment", parse)


def check(backend: str, d: Mapping[str, Any], patch_id: str) -> Check:
    """A check on a patch."""

    def parse() -> Check:
        raw_state = d["state"]
        return _Check(
            backend=backend,
            id=str(d["id"]),
            change_id=patch_id,
            context=d.get("context") or "default",
            state=CHECK_MAP.get(raw_state, CheckState.WARNING),
            raw_state=raw_state,
            date=parse_server_date(d["date"], backend),  # the server's clock, local time
            user=user(backend, d.get("user")),
            target_url=d.get("target_url") or None,
            description=d.get("description") or None,
            raw=d,
        )

    return guarded(backend, "check", parse)


def _payload_id(payload: Mapping[str, Any], key: str) -> str | None:
    obj = payload.get(key)  # ``dict`` first: an ABC's ``isinstance`` runs Python code
    return (
        str(obj["id"]) if (type(obj) is dict or isinstance(obj, Mapping)) and "id" in obj else None
    )


def event(backend: str, d: Mapping[str, Any]) -> Event:
    """An event; the payload's objects are reduced to their ids and states."""

    def parse() -> Event:
        payload = d.get("payload") or {}
        proj = d.get("project")
        return _Event(
            backend=backend,
            id=str(d["id"]),
            category=d["category"],
            date=parse_server_date(d["date"], backend),  # the server's clock, local time
            project=project(backend, proj) if proj else None,
            actor=user(backend, d.get("actor")),
            patch_id=_payload_id(payload, "patch"),
            series_id=_payload_id(payload, "series"),
            cover_id=_payload_id(payload, "cover"),
            check_id=_payload_id(payload, "check"),
            comment_id=_payload_id(payload, "comment"),
            previous_state=_str(payload.get("previous_state")),
            current_state=_str(payload.get("current_state")),
            previous_delegate=user(backend, payload.get("previous_delegate")),
            current_delegate=user(backend, payload.get("current_delegate")),
            raw=d,
        )

    return guarded(backend, "event", parse)


def bundle(backend: str, d: Mapping[str, Any]) -> Bundle:
    """A bundle of patches."""

    def parse() -> Bundle:
        proj = d.get("project")
        return _Bundle(
            backend=backend,
            id=str(d["id"]),
            name=d["name"],
            project=project(backend, proj) if proj else None,
            owner=user(backend, d.get("owner")),
            public=bool(d.get("public")),
            patches=tuple(message_ref(backend, p) for p in d.get("patches") or ()),
            web_url=d.get("web_url"),
            mbox_url=d.get("mbox"),
            raw=d,
        )

    return guarded(backend, "bundle", parse)


# --- records → payloads (the write direction) ---------------------------------------------


def patch_update_body(update: PatchUpdate, delegate_pk: int | None = None) -> dict[str, Any]:
    """The JSON body of a partial ``PATCH /patches/<id>/``.

    Patchwork's ``delegate`` takes only a user's pk ("Expected pk value, received str"), so
    the source resolves a username or person first and passes ``delegate_pk``; without it a
    ``uN`` user id loses its prefix and ``""`` clears the delegate."""
    body: dict[str, Any] = {}
    if update.state is not None:
        body["state"] = update.state
    if delegate_pk is not None:
        body["delegate"] = delegate_pk
    elif update.delegate is not None:
        delegate = update.delegate.removeprefix("u")
        body["delegate"] = int(delegate) if delegate.isdigit() else (delegate or None)
    if update.archived is not None:
        body["archived"] = update.archived
    if update.commit_ref is not None:
        body["commit_ref"] = update.commit_ref
    return body


def new_check_body(new: NewCheck) -> dict[str, Any]:
    """The JSON body of ``POST /patches/<id>/checks/``."""
    body: dict[str, Any] = {"state": CHECK_UNMAP[new.state], "context": new.context}
    if new.target_url is not None:
        body["target_url"] = new.target_url
    if new.description is not None:
        body["description"] = new.description
    return body


def activity_mark(
    backend: str, d: Mapping[str, Any], categories: Collection[str]
) -> tuple[str, str | None, datetime] | None:
    """An event as what patch activity needs: its category, its patch's id and its date —
    ``None`` when its category is not among ``categories`` (nothing more of it is read).
    ``event`` maps the embedded project, actor, delegates and objects too, which an activity
    read of hundreds of events, most of them creations, would build for nothing; what this
    reads fails as ``event`` fails on it."""

    def parse() -> tuple[str, str | None, datetime] | None:
        payload = d.get("payload") or {}  # read in ``event``'s order: the same first failure
        category = d["category"]
        if category not in categories:
            return None
        date = parse_server_date(d["date"], backend)
        return category, _payload_id(payload, "patch"), date

    return guarded(backend, "event", parse)


def check_event_mark(backend: str, d: Mapping[str, Any]) -> tuple[str | None, datetime]:
    """A ``check-created`` event reduced to what check presence needs: its patch's id and
    its date (the server's clock). Skips the embedded patch, project, check and actor that
    ``event`` maps, which a presence read of hundreds of events would build for nothing."""

    def parse() -> tuple[str | None, datetime]:
        payload = d.get("payload") or {}
        return _payload_id(payload, "patch"), parse_server_date(d["date"], backend)

    return guarded(backend, "event", parse)
