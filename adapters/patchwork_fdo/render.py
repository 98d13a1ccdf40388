"""Unified records → the freedesktop Patchwork fork's API 1.0 JSON (for the REST compat layer).

The inverse of ``mapping``'s parsers, for the documented fields of each object. Two rules keep
the output equal to what the fork itself sent for the same object:

- **Key set**: an object has the keys the fork sent for it (``record.raw``) — the fork omits
  some keys in some answers (a series detail may lack ``project``) — and no undocumented one.
- **Spelling**: a date is written as the fork wrote it when the record's value is the same
  instant (the fork mixes ``…:38`` and ``…:38.013345``); an empty string and ``null`` that the
  records normalize to ``None`` are given back as sent. Values themselves come from the record.

Fields the unified records do not carry come from ``raw``: an event's ``parameters`` (the
record keeps only the state slugs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape
from typing import Any

from adapters.errors import BadPayload
from adapters.model import Check, Event, Project, Revision, TrackedPatch, TrackedSeries
from adapters.patchwork_common import (
    format_date,
    format_server_date,
    parse_date,
    parse_server_date,
)
from adapters.patchwork_fdo.mapping import STATE_IDS, TEST_UNMAP

Json = dict[str, Any]
STATE_NUMBERS: Mapping[str, int] = {slug: number for number, slug in STATE_IDS.items()}


def _int(value: str | None) -> int | str | None:
    """A native id as the fork writes it (an integer when it is one)."""
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _date(value: datetime | None, raw: Any, backend: str = "") -> Any:
    if value is None:
        return raw if raw is None else None
    if isinstance(raw, str):
        try:
            # a server-clock date was read in the backend's ``time_zone``
            if value in (parse_date(raw, ""), parse_server_date(raw, backend)):
                return raw
        except BadPayload:  # an unparseable raw date just isn't reused
            pass
    return format_server_date(value, backend) if backend else format_date(value)


def _fit(out: Json, raw: Mapping[str, Any]) -> Json:
    """``out`` restricted to the keys the fork sent, with its empty-vs-null spelling kept."""
    if not raw:
        return out
    fitted: Json = {}
    for key in raw:
        if key not in out:
            continue
        value = out[key]
        if value in (None, "") and raw[key] in (None, ""):
            value = raw[key]
        fitted[key] = value
    return fitted


def project(p: Project) -> Json:
    """A project (list item or detail)."""
    out = {
        "id": _int(p.id),
        "name": p.name,
        "linkname": p.link_name,
        "listemail": p.list_email or "",
        "web_url": p.web_url or "",
        "scm_url": p.scm_url or "",
        "webscm_url": p.webscm_url or "",
    }
    return _fit(out, p.raw)


def series(s: TrackedSeries) -> Json:
    """A series (list item or detail)."""
    raw = s.raw
    out = {
        "id": _int(s.id),
        "project": _int(s.project.id) if s.project is not None else raw.get("project"),
        "name": s.name,
        "n_patches": s.total,
        "submitter": _int(s.submitter_id),
        "submitted": _date(s.date, raw.get("submitted"), s.backend),
        "last_updated": _date(s.updated, raw.get("last_updated"), s.backend),
        "version": s.version,
        "reviewer": _int(s.reviewer_id),
        "test_state": s.raw_test_state,
        "state": s.state,
        "state_summary": [
            {"count": c.count, "name": c.name, "final": c.final} for c in s.state_summary
        ],
    }
    return _fit(out, raw)


def revision(r: Revision) -> Json:
    """A revision of a series."""
    raw_patches = r.raw.get("patches")
    if isinstance(raw_patches, list) and any(isinstance(p, Mapping) for p in raw_patches):
        patches: list[Any] = raw_patches  # objects: more than the record keeps of them
    else:
        patches = [_int(i) for i in r.patch_ids]
    out = {"version": r.version, "cover_letter": r.cover_letter, "patches": patches}
    return _fit(out, r.raw)


def patch(p: TrackedPatch) -> Json:
    """A patch (list item or detail)."""
    raw = p.raw
    state: Any = STATE_NUMBERS.get(p.raw_state)
    if state is None:
        number = p.raw_state.removeprefix("state-")
        state = int(number) if number.isdigit() else raw.get("state")
    out = {
        "id": _int(p.id),
        "project": _int(p.project.id) if p.project.id else raw.get("project"),
        "name": p.title,
        "date": _date(p.date, raw.get("date")),
        "last_updated": _date(p.updated, raw.get("last_updated"), p.backend),
        "submitter": _int(p.submitter.id) if p.submitter is not None else None,
        "state": state,
        "content": p.content,
    }
    return _fit(out, raw)


def event(e: Event) -> Json:
    """An event of a project's log."""
    raw = e.raw
    out = {
        "name": e.category,
        "event_time": _date(e.date, raw.get("event_time"), e.backend),
        "series": _int(e.series_id),
        "patch": _int(e.patch_id),
        "user": _int(e.actor.id) if e.actor is not None else None,
        "parameters": raw.get("parameters"),
    }
    return _fit(out, raw)


def test_result(c: Check) -> Json:
    """A test result of a revision."""
    out = {
        "date": _date(c.date, c.raw.get("date"), c.backend),
        "state": c.raw_state if c.raw_state else TEST_UNMAP.get(c.state),
        "summary": c.description,
        "test_name": c.context,
        "url": c.target_url,
    }
    return _fit(out, c.raw)


def patch_page(p: TrackedPatch, api_url: str, mbox_url: str) -> bytes:
    """The small HTML page of a patch (subject, state, dates, submitter id, links)."""
    submitter = p.submitter.id if p.submitter is not None else "-"
    rows = [
        ("Submitter", f"person {escape(submitter)}"),
        ("Date", escape(p.date.isoformat())),
        ("Last updated", escape(p.updated.isoformat()) if p.updated else "-"),
        ("State", escape(p.raw_state)),
        (
            "Download",
            f'<a href="{escape(mbox_url)}">mbox</a> | <a href="{escape(api_url)}">API</a>',
        ),
    ]
    table = "\n".join(f"    <tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    body = f"  <pre>{escape(p.diff)}</pre>\n" if p.diff else ""
    title = escape(p.title)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        f"  <title>{title}</title>\n</head>\n<body>\n  <h1>{title}</h1>\n"
        f"  <table>\n{table}\n  </table>\n{body}</body>\n</html>\n"
    ).encode()
