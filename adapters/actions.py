"""Kind-neutral actions on a change: the ``ChangeActor`` port and its vocabulary.

A dashboard button or a CI bot acts on "a change" without knowing its forge: comment on it,
review it, close/reopen/merge/abandon it, report a CI result on it. Each kind implements the
port in its own package (``adapters/<kind>/actions.py``), doing what its API can and raising
``adapters.errors.Unsupported`` (before any upstream request) for what it cannot. The table
of what each kind does is in docs/actions.md; the GraphQL side is ``schema/actions.py``.

Every action returns the change as the backend has it afterwards (read back where the write's
answer is not the change itself). Writes are never retried (``adapters/http.py``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from adapters.model import ChangeRecord, Check, NewCheck


class Verdict(enum.Enum):
    """A reviewer's verdict, whatever the forge's own vocabulary."""

    APPROVE = "APPROVE"
    REQUEST_CHANGES = "REQUEST_CHANGES"
    REJECT = "REJECT"


class StateAction(enum.Enum):
    """A move in a change's life."""

    CLOSE = "CLOSE"
    REOPEN = "REOPEN"
    MERGE = "MERGE"
    ABANDON = "ABANDON"


@dataclass(frozen=True, slots=True)
class ActionSupport:
    """What a backend can do to its changes with the credential it holds, known without an
    upstream read (a ``Change.viewerCan`` answer before the caller's own access is applied).

    ``change_type`` is the GraphQL type of the backend's changes (``Patch``,
    ``GerritChange``, ``PullRequest``): a global ID of another type is not one of its changes.
    ``close`` covers CLOSE, REOPEN and ABANDON; ``merge`` MERGE."""

    change_type: str
    comment: bool = False
    review: bool = False
    close: bool = False
    merge: bool = False
    report_check: bool = False


@runtime_checkable
class ChangeActor(Protocol):
    """Acts on a backend's changes by native id. Writes are never retried."""

    def action_support(self) -> ActionSupport:
        """What this backend can do, from its kind and credential (no upstream read)."""
        ...

    async def comment_on_change(self, change: str, body: str) -> ChangeRecord:
        """Post ``body`` as a comment; the change afterwards."""
        ...

    async def review_change(
        self, change: str, verdict: Verdict, message: str | None
    ) -> ChangeRecord:
        """Record ``verdict`` (and ``message`` where the forge keeps one); the change."""
        ...

    async def set_change_state(
        self, change: str, action: StateAction, message: str | None
    ) -> ChangeRecord:
        """Close, reopen, merge or abandon (``message`` where the forge keeps one)."""
        ...

    async def report_check(self, change: str, check: NewCheck) -> tuple[Check | None, ChangeRecord]:
        """Report a CI result: the check as the forge records it (``None``: it keeps no
        record of this one, e.g. a pending Gerrit vote) and the change afterwards."""
        ...


def unsupported_message(kind: str, what: str, why: str) -> str:
    """The one wording of an action a kind cannot do (``why``: what its API lacks)."""
    return f"{kind} cannot {what}: {why}"
