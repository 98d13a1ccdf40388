"""Gerrit check labels → ``Check`` records: how a change rolls up into ``checkState``.

Verified and CI labels (``Verified``, ``*-Verified``, ``*-CI``, ``CI-*``,
``Continuous-Integration``) carry CI results rather than human review; each vote on one is a
check, so a Gerrit change rolls up like a Patchwork patch (``label_checks`` has the rules).
"""

from __future__ import annotations

import re
from datetime import datetime

from adapters.gerrit.records import Label
from adapters.model import Check, CheckState, Person

# Labels whose votes are CI results rather than human review.
_CHECK_LABEL = re.compile(
    r"^(?:Verified|.*-Verified|(?:.*[-_ ])?CI(?:[-_ ].*)?|Continuous-Integration)$"
)


def format_vote(value: int) -> str:
    """A vote the way Gerrit writes label value keys: ``"+1"``, ``" 0"``, ``"-1"``."""
    return f"+{value}" if value > 0 else (" 0" if value == 0 else str(value))


def is_check_label(name: str) -> bool:
    """Whether votes on this label are CI results (Verified, ``*-CI``, ``CI-*`` …)."""
    return bool(_CHECK_LABEL.match(name))


def _vote_state(value: int, label: Label) -> CheckState:
    if value > 0:
        return CheckState.SUCCESS
    lowest = min(label.values) if label.values else value
    return CheckState.FAILURE if value <= lowest else CheckState.WARNING


def label_checks(backend: str, change: str, label: Label, when: datetime) -> list[Check]:
    """The CI results a check label carries.

    With DETAILED_LABELS every non-zero vote is one check (positive: success; the lowest
    value: failure; other negatives: warning). With LABELS only the summary is known:
    approved/recommended → success, rejected → failure, disliked → warning. A required label
    nobody has voted on yet is one pending check; an optional one is no check at all.
    """

    def check(
        who: str,
        state: CheckState,
        raw_state: str,
        date: datetime,
        user: Person | None = None,
        description: str | None = None,
    ) -> Check:
        return Check(
            backend=backend,
            id=f"{label.name}/{who}",
            change_id=change,
            context=label.name,
            state=state,
            raw_state=raw_state,
            date=date,
            user=user,
            description=description,
        )

    checks = [
        check(
            vote.account.id,
            _vote_state(vote.value, label),
            format_vote(vote.value).strip(),
            vote.date or when,
            user=vote.account,
            description=label.values.get(vote.value),
        )
        for vote in label.votes
        if vote.value
    ]
    if not checks:
        summary = (
            (label.rejected, CheckState.FAILURE, "rejected"),
            (label.approved, CheckState.SUCCESS, "approved"),
            (label.disliked, CheckState.WARNING, "disliked"),
            (label.recommended, CheckState.SUCCESS, "recommended"),
        )
        for who, state, raw_state in summary:
            if who is not None:
                checks.append(check(who.id, state, raw_state, when, user=who))
                break
    if not checks and not label.optional:
        checks.append(check("pending", CheckState.PENDING, "", when))
    return checks
