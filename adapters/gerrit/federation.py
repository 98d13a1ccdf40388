"""The common change filter and event filter as Gerrit queries (``q=``), and changes as events.

Pushdown may be broader than the gateway's own check, never stricter (``base.ChangeFilter``):
``status:open`` also holds drafts and submitted changes, ``after:``/``before:`` are inclusive
and rounded outwards to the second, ``owner:`` resolves an email, username or full name.
A title substring cannot be pushed down (Gerrit's ``message:`` matches whole words), so
``search`` is left to the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from adapters.base import ChangeFilter, EventFilter
from adapters.gerrit.query import SELF, QueryError, validate
from adapters.gerrit.records import GerritChange
from adapters.model import ChangeState, Event

# Normalized state → the Gerrit status query that holds it (see docs/federation.md).
STATE_QUERIES: dict[ChangeState, str] = {
    ChangeState.OPEN: "status:open",
    ChangeState.DRAFT: "status:draft",
    ChangeState.MERGED: "status:merged",
    ChangeState.CLOSED: "status:abandoned",
}
# Every change a caller can see (Gerrit has no "all" operator).
EVERYTHING = "(status:open OR status:closed)"

# Event categories a change's latest update is reported as, by Gerrit status.
EVENT_CATEGORIES: dict[str, str] = {
    "NEW": "change-updated",
    "SUBMITTED": "change-updated",
    "DRAFT": "change-updated",
    "MERGED": "change-merged",
    "ABANDONED": "change-abandoned",
}
CATEGORY_QUERIES: dict[str, str] = {
    "change-updated": "status:open",
    "change-merged": "status:merged",
    "change-abandoned": "status:abandoned",
}


def _quote(value: str) -> str:
    if value and all(ch.isalnum() or ch in "@._-+/~" for ch in value):
        return value
    if '"' in value:
        return "{" + value + "}"  # Gerrit's other quoting form, for values holding quotes
    return f'"{value}"'


def _time(moment: datetime, *, up: bool) -> str:
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    whole = utc.replace(microsecond=0)
    if up and whole != utc:
        whole += timedelta(seconds=1)
    return f'"{whole:%Y-%m-%d %H:%M:%S} +0000"'


def _any(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def change_query(flt: ChangeFilter) -> str | None:
    """The ``q=`` string for ``flt``; ``None`` when no Gerrit change can match it.

    ``QueryError`` when the native ``gerrit_query`` escape is malformed.
    """
    parts: list[str] = []
    if flt.states:
        wanted = [STATE_QUERIES[s] for s in flt.states if s in STATE_QUERIES]
        if not wanted:
            return None  # e.g. only SUPERSEDED: a state Gerrit never has
        parts.append(_any(wanted))
    if flt.projects:
        parts.append(_any([f"project:{_quote(p)}" for p in flt.projects]))
    if flt.author and flt.author.strip().lower() not in SELF:
        # owner:self (or me) would mean the gateway's account upstream; the gateway still
        # matches an author literally called "self" on the records.
        parts.append(f"owner:{_quote(flt.author)}")
    if flt.people:  # an account with the username "self" is named by its id or email
        owners = [k for k in flt.people if k.strip().lower() not in SELF]
        if not owners:
            return None
        parts.append(_any([f"owner:{_quote(k)}" for k in owners]))
    if flt.updated_since:
        parts.append(f"after:{_time(flt.updated_since, up=False)}")
    if flt.updated_before:
        parts.append(f"before:{_time(flt.updated_before, up=True)}")
    native = flt.native.get("gerrit_query")
    if native:
        parts.append(f"({validate(native)})")
    if not parts or not flt.states:
        # A filter without states must still see closed changes (Gerrit 2.x defaults to open).
        parts.insert(0, EVERYTHING)
    text = " ".join(parts)
    validate(text)  # our own output must parse; a bug here is better caught than sent
    return text


def event_query(flt: EventFilter) -> str | None:
    """The ``q=`` string for the changes whose latest update falls in ``flt``'s window;
    ``None`` when none can (categories Gerrit never reports). Every filter is pushed down:
    the merge counts positions in the backend's own order, so nothing may be dropped here."""
    if flt.categories:
        wanted = sorted({CATEGORY_QUERIES[c] for c in flt.categories if c in CATEGORY_QUERIES})
        if not wanted:
            return None
        parts = [_any(wanted)]
    else:
        parts = [EVERYTHING]
    if flt.project:
        parts.append(f"project:{_quote(flt.project)}")
    if flt.since:
        parts.append(f"after:{_time(flt.since, up=False)}")
    if flt.before:
        parts.append(f"before:{_time(flt.before, up=True)}")
    return " ".join(parts)


def event_of(change: GerritChange) -> Event:
    """A change's latest update as an event (its id changes with every update)."""
    return Event(
        backend=change.backend,
        id=f"{change.id}@{change.updated.isoformat()}",
        category=EVENT_CATEGORIES.get(change.raw_state, "change-updated"),
        date=change.updated,
        project=change.project,
        actor=change.owner,
        current_state=change.raw_state,
    )


__all__ = ["QueryError", "change_query", "event_of", "event_query"]
