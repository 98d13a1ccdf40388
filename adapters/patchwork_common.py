"""What upstream Patchwork and its freedesktop fork really share: states and dates.

Both kinds speak Patchwork's vocabulary (the same default patch states, naive-UTC ISO 8601
dates), so the pieces below serve both ``adapters/patchwork``
and ``adapters/patchwork_fdo`` — which never import each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.errors import BadPayload
from adapters.http_model import Response
from adapters.model import ChangeState

R = TypeVar("R")

# Patchwork's default states (patchwork/fixtures/default_states.xml) onto the common enum.
STATE_MAP: Mapping[str, ChangeState] = {
    "new": ChangeState.OPEN,
    "under-review": ChangeState.OPEN,
    "awaiting-upstream": ChangeState.OPEN,
    "changes-requested": ChangeState.CHANGES_REQUESTED,
    "deferred": ChangeState.DEFERRED,
    "rfc": ChangeState.DRAFT,
    "accepted": ChangeState.MERGED,
    "rejected": ChangeState.CLOSED,
    "not-applicable": ChangeState.CLOSED,
    "superseded": ChangeState.SUPERSEDED,
}


def state_slug(name: str) -> str:
    """A state's slug: ``"Under Review"`` → ``"under-review"``."""
    return name.strip().lower().replace(" ", "-")


def change_state(raw_state: str) -> ChangeState:
    """Normalize a state slug or name; a project's custom state counts as open."""
    if type(raw_state) is str:
        return _change_state(raw_state)
    return STATE_MAP.get(state_slug(raw_state), ChangeState.OPEN)  # fails as it always did


@functools.lru_cache(maxsize=1024)  # a handful of state names, seen on every list item
def _change_state(raw_state: str) -> ChangeState:
    return STATE_MAP.get(state_slug(raw_state), ChangeState.OPEN)


def parse_date(value: Any, backend: str) -> datetime:
    """Parse Patchwork's naive-UTC ISO 8601 into an aware datetime."""
    if not isinstance(value, str):
        raise BadPayload(backend, f"expected a date string, got {type(value).__name__}")
    try:
        return _parse_iso(value)
    except ValueError as exc:
        raise BadPayload(backend, f"unparseable date {value[:40]!r}") from exc


# Lists carry the same dates again on every request (and a patch's date again in its series
# summary); datetimes are immutable, so parse each string once. Failures are not cached.
@functools.lru_cache(maxsize=65536)
def _parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# Per backend: the server's ``TIME_ZONE`` (set by each source factory from the backend's
# ``time_zone`` setting). Patchwork runs Django with ``USE_TZ = False``: what its own clock
# stamps (checks, events; on the fdo fork also series and ``last_updated``) is naive *local*
# time of ``TIME_ZONE`` (Patchwork's default: Australia/Canberra), while mail dates are
# converted to naive UTC by its parser (``parser.find_date``) and are read as UTC.
_ZONES: dict[str, tzinfo] = {}


def time_zone_problem(value: object) -> str | None:
    """Why ``value`` is no ``time_zone`` setting: an IANA zone name the system's tz database
    knows (no paths, no POSIX strings); ``None`` when it is one."""
    if isinstance(value, str) and value and len(value) <= 64:
        try:
            ZoneInfo(value)
            return None
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return "time_zone must be an IANA zone name such as UTC"


def set_time_zone(backend: str, zone: str) -> None:
    """Read ``backend``'s server-clock timestamps as local time of ``zone`` (IANA name)."""
    if zone == "UTC":
        _ZONES.pop(backend, None)
    else:
        _ZONES[backend] = ZoneInfo(zone)


def parse_server_date(value: Any, backend: str) -> datetime:
    """A timestamp of the server's own clock: naive means the backend's ``time_zone``."""
    zone = _ZONES.get(backend)
    if zone is None:
        return parse_date(value, backend)
    if not isinstance(value, str):
        raise BadPayload(backend, f"expected a date string, got {type(value).__name__}")
    try:
        return _parse_iso_in(value, zone)
    except ValueError as exc:
        raise BadPayload(backend, f"unparseable date {value[:40]!r}") from exc


@functools.lru_cache(maxsize=16384)
def _parse_iso_in(value: str, zone: tzinfo) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def format_server_date(value: datetime, backend: str) -> str:
    """``value`` as the server's clock spells it (a filter on server-clock timestamps)."""
    zone = _ZONES.get(backend)
    if zone is None:
        return format_date(value)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone).replace(tzinfo=None).isoformat()


def format_date(value: datetime) -> str:
    """Render a datetime the way Patchwork's filters take it (naive UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


# What reading a payload of the wrong shape raises (a missing key, a list for a dict …).
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def shape_error(backend: str, what: str, exc: Exception) -> BadPayload:
    """The ``BadPayload`` a shape error (``SHAPE_ERRORS``) in a ``what`` payload becomes."""
    return BadPayload(backend, f"unexpected {what} payload ({type(exc).__name__}: {exc})")


def guarded(backend: str, what: str, parse: Callable[[], R]) -> R:
    """Run ``parse``, turning shape errors into ``BadPayload`` for ``backend``."""
    try:
        return parse()
    except BadPayload:
        raise
    except SHAPE_ERRORS as exc:
        raise shape_error(backend, what, exc) from exc


def is_invalid_page(resp: Response) -> bool:
    """Whether a 404 is DRF's paginator past the last page (an empty window, not a missing
    list): both kinds answer it with ``{"detail": "Invalid page."}``."""
    try:
        body = resp.json()
    except BadPayload:
        return False
    return isinstance(body, dict) and body.get("detail") == "Invalid page."
