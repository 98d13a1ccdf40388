"""Linked changes: what identifies a change across forges, and the ports that find them.

A change posted to a list (Patchwork), pushed for review (Gerrit) and proposed as a pull
request (ABF) is one piece of work on three forges. What ties the copies together, strongest
first (``Evidence``, confidence in ``CONFIDENCE``; docs/federation.md "Linked changes"):

- ``MESSAGE_ID``: the same mail (one ``Message-Id`` on two Patchwork instances);
- ``CHANGE_ID_TRAILER``: the same Gerrit ``Change-Id`` (a Gerrit change's own, or a
  ``Change-Id:`` trailer in a commit message or a mail's content);
- ``COMMIT_SHA``: the same commit (Patchwork ``commit_ref``, a patch set's sha, a pull
  request's head) — whole object names only, never a prefix;
- ``LINK_TRAILER``: a ``Link:`` trailer whose URL ends in the other's Message-Id
  (lore.kernel.org/r/…, patch.msgid.link/…);
- ``PATCH_ID``: the same diff by git's stable patch-id (``adapters/patchid.py``).

Each kind says what keys its changes carry (``LinkKeyReader``: may cost detail reads) and how
it finds changes carrying some keys (``LinkFinder``: a native search where its API has one).
The schema (``schema/related.py``) only uses these ports and ``evidence`` below.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from adapters import model
from adapters.patchid import patch_id


class Evidence(enum.Enum):
    """Why two changes are taken for the same work."""

    MESSAGE_ID = "MESSAGE_ID"
    CHANGE_ID_TRAILER = "CHANGE_ID_TRAILER"
    COMMIT_SHA = "COMMIT_SHA"
    PATCH_ID = "PATCH_ID"
    LINK_TRAILER = "LINK_TRAILER"


CONFIDENCE: dict[Evidence, float] = {
    Evidence.MESSAGE_ID: 1.0,  # one mail
    Evidence.CHANGE_ID_TRAILER: 1.0,  # Gerrit's own identity of a change
    Evidence.COMMIT_SHA: 1.0,  # one commit object
    Evidence.LINK_TRAILER: 0.95,  # the author says so; a Link may also point at a discussion
    Evidence.PATCH_ID: 0.9,  # the same diff: a re-post, a cherry-pick, or two people's fix
}


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """The keys one change carries. Message-Ids are kept without ``<>``, case as sent;
    Change-Ids as ``I`` + 40 lowercase hex; shas lowercase."""

    message_ids: frozenset[str] = frozenset()
    change_ids: frozenset[str] = frozenset()
    link_msgids: frozenset[str] = frozenset()  # the Message-Ids its Link: trailers name
    shas: frozenset[str] = frozenset()
    patch_id: str | None = None

    def __bool__(self) -> bool:
        return bool(
            self.message_ids or self.change_ids or self.link_msgids or self.shas or self.patch_id
        )


@dataclass(frozen=True, slots=True)
class LinkQuery:
    """What to look for on one backend: the union of the keys of the changes asked about,
    and their titles (candidates for a patch-id comparison, where a kind searches titles)."""

    message_ids: frozenset[str] = frozenset()
    change_ids: frozenset[str] = frozenset()
    shas: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.message_ids or self.change_ids or self.shas or self.titles)

    def without(self, other: LinkQuery) -> LinkQuery:
        """The keys of this query that ``other`` does not hold (titles: none)."""
        return LinkQuery(
            self.message_ids - other.message_ids,
            self.change_ids - other.change_ids,
            self.shas - other.shas,
        )


@dataclass(frozen=True, slots=True)
class Linked:
    """A change a finder found, with its keys."""

    change: Any  # the kind's change record (an ``adapters.model.ChangeRecord``)
    keys: LinkKeys = field(default_factory=LinkKeys)


@runtime_checkable
class LinkKeyReader(Protocol):
    """Tells the keys of changes."""

    async def link_keys(self, changes: Sequence[Any]) -> list[LinkKeys]:
        """The keys of each of ``changes`` (this kind's change records, as its lister or
        finder gave them), in their order. May read details (content, commit message,
        diff), batched as the API allows; what a read cannot give is left out."""


@runtime_checkable
class LinkFinder(Protocol):
    """Finds a backend's changes that carry some keys."""

    async def find_linked(self, query: LinkQuery) -> list[Linked]:
        """Changes holding any key of ``query`` (a superset is fine: the caller compares the
        keys), each with its keys. Keys the API cannot search are ignored."""


# -- evidence -------------------------------------------------------------------------------


def evidence(a: LinkKeys, b: LinkKeys) -> list[Evidence]:
    """Why ``a`` and ``b`` are the same work (empty: they are not), strongest first."""
    found: list[Evidence] = []
    if a.message_ids & b.message_ids:
        found.append(Evidence.MESSAGE_ID)
    if a.change_ids & b.change_ids:
        found.append(Evidence.CHANGE_ID_TRAILER)
    if a.shas & b.shas:
        found.append(Evidence.COMMIT_SHA)
    if a.patch_id is not None and a.patch_id == b.patch_id:
        found.append(Evidence.PATCH_ID)
    if (
        a.link_msgids & b.message_ids
        or b.link_msgids & a.message_ids
        or a.link_msgids & b.link_msgids
    ):
        found.append(Evidence.LINK_TRAILER)
    return sorted(found, key=lambda e: -CONFIDENCE[e])  # strongest first (a stable sort)


def confidence(found: Iterable[Evidence]) -> float:
    """The strongest evidence's confidence (0: none)."""
    return max((CONFIDENCE[e] for e in found), default=0.0)


def query_of(keys: Iterable[LinkKeys], titles: Iterable[str] = ()) -> LinkQuery:
    """What to search for to find changes linked to any of ``keys``: their Message-Ids and
    the ones their Link trailers name, Change-Ids and shas."""
    msgids: set[str] = set()
    change_ids: set[str] = set()
    shas: set[str] = set()
    for k in keys:
        msgids |= k.message_ids | k.link_msgids
        change_ids |= k.change_ids
        shas |= k.shas
    return LinkQuery(
        frozenset(msgids), frozenset(change_ids), frozenset(shas), frozenset(t for t in titles if t)
    )


# -- reading keys out of text ----------------------------------------------------------------

_CHANGE_ID = re.compile(r"I[0-9a-f]{40}")
_TRAILER = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_PREFIXES = re.compile(r"^(?:\s*\[[^\]]*\])+")
_HEADER_MSGID = re.compile(r"^message-id:[ \t]*<?([^<>\s]+)>?", re.IGNORECASE | re.MULTILINE)


def msgid(value: str | None) -> str | None:
    """A Message-Id without its angle brackets and spaces (``None``: empty)."""
    if not value:
        return None
    found = value.strip().removeprefix("<").removesuffix(">").strip()
    return found or None


def sha(value: str | None) -> str | None:
    """A whole commit object name, lowercased; anything else (a prefix, text) is ``None``."""
    if not value:
        return None
    found = value.strip().lower()
    return found if _SHA.fullmatch(found) else None


def message_part(text: str) -> str:
    """The commit message part of a mail or patch: up to the ``---`` line or the first
    ``diff`` (what follows is the diffstat and the diff)."""
    out: list[str] = []
    for line in text.splitlines():
        if line.rstrip() == "---" or line.startswith("diff --git "):
            break
        out.append(line)
    return "\n".join(out)


def trailers(message: str) -> list[tuple[str, str]]:
    """The trailers of a commit message, as git reads them: the last paragraph, when its
    lines are ``Token: value`` (continuation lines indented) with at least one in four a
    trailer. A ``Change-Id:`` quoted in a reply (``> Change-Id: …``) or in the middle of the
    text is not a trailer."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip("\n")) if p.strip()]
    if not paragraphs:
        return []
    found: list[tuple[str, str]] = []
    lines = paragraphs[-1].splitlines()
    others = 0
    for line in lines:
        if line[:1] in (" ", "\t") and found:
            found[-1] = (found[-1][0], f"{found[-1][1]} {line.strip()}")
            continue
        m = _TRAILER.fullmatch(line.rstrip())
        if m is None:
            others += 1
        else:
            found.append((m.group(1), m.group(2).strip()))
    if not found or len(found) * 4 < len(found) + others:
        return []
    return found


def link_msgid(url: str) -> str | None:
    """The Message-Id a ``Link:`` URL ends in: its last path segment holding an ``@``
    (``https://lore.kernel.org/r/<id>``, ``https://patch.msgid.link/<id>``,
    ``https://lore.kernel.org/netdev/<id>/T/``)."""
    try:
        path = urlsplit(url.strip().strip("<>")).path
    except ValueError:
        return None
    for segment in reversed([unquote(s) for s in path.split("/") if s]):
        if "@" in segment:
            return msgid(segment)
    return None


def keys_of_message(message: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """The Change-Ids and Link Message-Ids a commit message's trailers name."""
    if not message:
        return frozenset(), frozenset()
    change_ids: set[str] = set()
    links: set[str] = set()
    for token, value in trailers(message_part(message)):
        if token.lower() == "change-id" and _CHANGE_ID.fullmatch(value):
            change_ids.add(value)
        elif token.lower() == "link" and (found := link_msgid(value)):
            links.add(found)
    return frozenset(change_ids), frozenset(links)


def header_msgid(mail: str | None) -> str | None:
    """The Message-Id header of a mail (an mbox's first message)."""
    if not mail:
        return None
    head = mail.split("\n\n", 1)[0]
    found = _HEADER_MSGID.search(head)
    return msgid(found.group(1)) if found else None


def plain_title(title: str) -> str:
    """A title without its mail prefixes (``[PATCH v2 1/2]``, ``[RFC]``): what every forge
    shows of one change."""
    return _PREFIXES.sub("", title).strip()


def patch_keys(p: model.Patch, mail: str | None = None) -> LinkKeys:
    """A Patchwork-style patch's keys: its Message-Id, the trailers of its content, its
    ``commit_ref`` and its diff's patch-id. ``mail``: the patch's mbox, where the API keeps
    the Message-Id and commit message only there (the fdo fork)."""
    ids = {m for m in (msgid(p.msgid), header_msgid(mail)) if m}
    change_ids, links = keys_of_message(mail or p.content)
    shas = frozenset(s for s in (sha(p.commit_ref),) if s)
    return LinkKeys(frozenset(ids), change_ids, links, shas, patch_id(p.diff or mail))


def change_id(value: str | None) -> str | None:
    """A Gerrit Change-Id (``I`` + 40 hex), or ``None``."""
    return value if value and _CHANGE_ID.fullmatch(value) else None
