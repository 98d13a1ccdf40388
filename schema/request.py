"""What the gateway tells the schema about one request: its id, its caller and cost budget.

The gateway fills a ``RequestMeta`` per request (``gateway/guard.py`` authenticates and assigns
the id); the schema reads it to stamp masked errors with ``extensions.requestId``
(``schema/errors.py``), and to charge and report the query cost (``schema/limits.py``).
Used without the gateway (tests, ``revgate schema``) it still has a fresh id and no budget.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


def new_request_id() -> str:
    """A fresh, unguessable request id (32 hex digits: 128 random bits, without building a
    ``uuid.UUID`` on every request)."""
    return os.urandom(16).hex()


@dataclass(frozen=True, slots=True)
class Allowance:
    """The answer of a budget to one charge.

    ``limit`` is the budget per minute and ``remaining`` what is left after this charge
    (both ``None`` when the caller is not limited); ``reset_at`` is when the budget is full
    again; ``retry_after`` is the seconds to wait when ``allowed`` is false.
    """

    allowed: bool
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    retry_after: float | None = None


class CostBudget(Protocol):
    """A caller's per-minute allowance of query cost points.

    ``charge(cost)`` takes ``cost`` points when there are enough and says so. A refusal is
    the budget's to signal at the transport (the gateway answers HTTP 429 with
    ``Retry-After``); the schema turns it into a ``RATE_LIMITED`` error and runs nothing.
    """

    async def charge(self, cost: int) -> Allowance:
        """Take ``cost`` points, or refuse without taking any."""
        ...


@dataclass(frozen=True, slots=True)
class CostReport:
    """One operation's cost and the caller's budget after it (``extensions.cost``)."""

    cost: int
    max_cost: int | None
    allowance: Allowance

    def as_extension(self) -> dict[str, object]:
        """The JSON shape of ``extensions.cost``."""
        a = self.allowance
        return {
            "requestedQueryCost": self.cost,
            "maxQueryCost": self.max_cost,
            "limit": a.limit,
            "remaining": a.remaining,
            "resetAt": a.reset_at.isoformat() if a.reset_at is not None else None,
        }


@dataclass(slots=True)
class RequestMeta:
    """Per-request facts: id, caller name (``None`` = anonymous), cost budget and report."""

    request_id: str = field(default_factory=new_request_id)
    caller: str | None = None
    # Set by the gateway for a caller without an API key: upstream reads use the gateway's
    # own credential, so the schema hides what only that account may see (private bundles,
    # Patchwork people and users, Gerrit drafts): schema/context.py, query.py, gerrit.py.
    anonymous: bool = False
    budget: CostBudget | None = None
    cost: CostReport | None = None
    # An SSE client's Last-Event-ID (the last event cursor it saw): ``events`` resumes after
    # it when its ``after`` argument is not given (gateway/over_http.py).
    resume_after: str | None = None
