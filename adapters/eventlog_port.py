"""The event log's port: errors, stream ids and cursors, event payloads, ``Entry``/``Fence``
and the ``EventLog`` protocol both implementations follow.

What streams, floors, cursors and leases mean is in ``adapters.eventlog``'s docstring; the
implementations are ``adapters.eventlog`` (in-process) and ``adapters.eventlog_redis``.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from adapters.model import Event, Person, Project

CURSOR_VERSION = "ev1"
ZERO = "0-0"
_ID_RE = re.compile(r"(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,15})")
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_EPOCH_RE = re.compile(r"[0-9a-f]{16}")
MAX_CURSOR = 4096  # characters; a subscription names at most every configured backend


class EventLogError(Exception):
    """The log's store failed (Redis down): the message never holds the URL."""


class Fenced(EventLogError):
    """This process no longer holds the backend's lease: it must not publish."""


class CursorError(ValueError):
    """A cursor this server did not issue (malformed, or ahead of every stream)."""


class CursorExpired(Exception):
    """A cursor older than what is retained for ``backend`` (or from another epoch)."""

    def __init__(self, backend: str | None) -> None:
        super().__init__(backend)
        self.backend = backend


def stop_if_cancelled() -> None:
    """Raise ``CancelledError`` when the current task is being cancelled.

    Libraries (redis-py, aiohttp) may turn a cancellation that lands mid-call into their own
    error; a loop that catches errors to keep going would then never stop. Long-running loops
    call this after catching anything, and at the top of each round.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def parse_id(value: str) -> tuple[int, int]:
    """``"<ms>-<seq>"`` as a comparable pair; ``ValueError`` for anything else."""
    match = _ID_RE.fullmatch(value)
    if match is None:
        raise ValueError("not a stream id")
    return int(match[1]), int(match[2])


def encode_cursor(epoch: str, positions: Mapping[str, str]) -> str:
    """The resumable position of a subscription (see ``adapters.eventlog``)."""
    parts = [f"{name}={positions[name]}" for name in sorted(positions)]
    return ".".join([CURSOR_VERSION, epoch, *parts])


def decode_cursor(cursor: str) -> tuple[str, dict[str, str]]:
    """``(epoch, {backend: id})``; ``CursorError`` for anything not made by ``encode_cursor``."""
    if len(cursor) > MAX_CURSOR:
        raise CursorError("cursor too long")
    version, _, rest = cursor.partition(".")
    epoch, _, rest = rest.partition(".")
    if version != CURSOR_VERSION or not _EPOCH_RE.fullmatch(epoch):
        raise CursorError("not an event cursor")
    positions: dict[str, str] = {}
    for part in rest.split(".") if rest else ():
        name, eq, entry = part.partition("=")
        if not eq or not _NAME_RE.fullmatch(name) or name in positions:
            raise CursorError("not an event cursor")
        try:
            parse_id(entry)
        except ValueError:
            raise CursorError("not an event cursor") from None
        positions[name] = entry
    return epoch, positions


# -- events as stream payloads ------------------------------------------------------------


def _person(p: Person | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"backend": p.backend, "id": p.id, "name": p.name, "email": p.email, "u": p.username}


def _project(p: Project | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "backend": p.backend,
        "id": p.id,
        "name": p.name,
        "link_name": p.link_name,
        "web_url": p.web_url,
        "list_email": p.list_email,
        "list_id": p.list_id,
        "scm_url": p.scm_url,
        "webscm_url": p.webscm_url,
        "list_archive_url": p.list_archive_url,
    }


_PLAIN = (
    "patch_id",
    "series_id",
    "cover_id",
    "check_id",
    "comment_id",
    "previous_state",
    "current_state",
)


def event_to_json(event: Event) -> bytes:
    """The stream payload: every field but ``raw`` (which would multiply memory per event)."""
    doc: dict[str, Any] = {
        "backend": event.backend,
        "id": event.id,
        "category": event.category,
        "date": event.date.isoformat(),
        "project": _project(event.project),
        "actor": _person(event.actor),
        "previous_delegate": _person(event.previous_delegate),
        "current_delegate": _person(event.current_delegate),
    }
    for name in _PLAIN:
        if (value := getattr(event, name)) is not None:
            doc[name] = value
    return orjson.dumps(doc)


def _read_person(doc: Any) -> Person | None:
    if doc is None:
        return None
    return Person(doc["backend"], doc["id"], doc["name"], doc["email"], doc["u"])


def event_from_json(data: bytes | str) -> Event:
    """The inverse of ``event_to_json``."""
    doc = orjson.loads(data)
    project = doc["project"]
    return Event(
        backend=doc["backend"],
        id=doc["id"],
        category=doc["category"],
        date=datetime.fromisoformat(doc["date"]),
        project=Project(**project) if project is not None else None,
        actor=_read_person(doc["actor"]),
        previous_delegate=_read_person(doc["previous_delegate"]),
        current_delegate=_read_person(doc["current_delegate"]),
        **{name: doc[name] for name in _PLAIN if name in doc},
    )


# -- the port ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: the backend, its id in that backend's stream and the event."""

    backend: str
    id: str
    event: Event


@dataclass(frozen=True, slots=True)
class Fence:
    """A held lease: ``token`` grows with every acquisition of the backend's lease."""

    backend: str
    owner: str
    token: int

    @property
    def value(self) -> str:
        return f"{self.token}:{self.owner}"


class EventLog(Protocol):
    """Streams, floors, poller state and leases (see ``adapters.eventlog``)."""

    max_events: int
    max_age: float

    async def epoch(self) -> str:
        """This log's epoch (part of every cursor)."""

    async def tail(self, backend: str) -> str:
        """The newest entry id of ``backend``'s stream (``0-0`` when empty)."""

    async def check(self, backend: str, after: str) -> None:
        """``CursorExpired`` when entries after ``after`` were trimmed or never recorded;
        ``CursorError`` when ``after`` is ahead of the stream."""

    async def read(self, backend: str, after: str, count: int, block: float) -> list[Entry]:
        """Up to ``count`` entries after ``after``, oldest first; waits up to ``block``
        seconds for one when there is none (0: do not wait)."""

    async def state(self, backend: str) -> bytes | None:
        """The poller state stored by the last accepted ``append``."""

    async def append(
        self, fence: Fence, events: Sequence[Event], state: bytes, *, gap: bool = False
    ) -> list[str]:
        """Append ``events`` and store ``state``, atomically, if ``fence`` still holds the
        lease (else ``Fenced``); ``gap``: nothing before this append may be resumed after.
        Trims the stream. The new entries' ids."""

    async def acquire(self, backend: str, owner: str, ttl: float) -> Fence | None:
        """The backend's lease for ``ttl`` seconds, or ``None`` while another owner holds it."""

    async def renew(self, fence: Fence, ttl: float) -> bool:
        """Extend a lease still held; ``False`` when it was lost."""

    async def release(self, fence: Fence) -> None:
        """Give the lease up (shutdown) so another replica takes over at once."""

    async def close(self) -> None:
        """Release connections."""


def _new_epoch() -> str:
    return secrets.token_hex(8)
