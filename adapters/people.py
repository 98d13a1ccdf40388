"""People across backends: the ``[[people]]`` identity map's entries and identity keys.

One human may hold an account on several backends (a Patchwork person per email, a Gerrit
account, an ABF user). Accounts are joined by email (case-insensitive) and by the operator's
``[[people]]`` entries (``gateway/settings_people.py``), which name a display name, emails and
each backend's usernames, emails or ids. The key of the identity an account belongs to:

- ``map:<slug>`` — a ``[[people]]`` entry names the account or one of its emails;
- ``email:<lowercased email>`` — otherwise, the account's email;
- ``account:<backend>:<native id>`` — an account with no email (a singleton).

The schema (``schema/identity.py``) encodes that key in the ``Identity`` global ID.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from adapters.model import Person

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    """The map key of a display name: lowercase words joined by ``-`` (``ada-lovelace``)."""
    return _SLUG_RE.sub("-", name.casefold()).strip("-")


@dataclass(frozen=True, slots=True)
class IdentityEntry:
    """One ``[[people]]`` entry: a human and the accounts the operator says are theirs."""

    name: str
    emails: tuple[str, ...] = ()  # lowercased
    # backend name → the usernames, emails or native ids of their accounts there
    accounts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """The entry's key (``map:<slug>``)."""
        return slug(self.name)

    def names_account(self, person: Person) -> bool:
        """Whether ``person`` is one of this entry's accounts (by email anywhere, or by the
        username, email or id named for its backend)."""
        email = (person.email or "").casefold()
        if email and email in self.emails:
            return True
        wanted = {v.casefold() for v in self.accounts.get(person.backend, ())}
        keys = (person.id, person.username, person.email)
        return any(k is not None and k.casefold() in wanted for k in keys)


@dataclass(frozen=True, slots=True)
class Directory:
    """The ``[[people]]`` entries of one configuration generation, indexed."""

    entries: tuple[IdentityEntry, ...] = ()

    def by_slug(self, key: str) -> IdentityEntry | None:
        """The entry whose slug is ``key``."""
        return next((e for e in self.entries if e.slug == key), None)

    def entry_of(self, person: Person) -> IdentityEntry | None:
        """The entry naming ``person``, if any (the first, in configuration order)."""
        return next((e for e in self.entries if e.names_account(person)), None)

    def entry_of_email(self, email: str) -> IdentityEntry | None:
        """The entry listing ``email`` (case-insensitive)."""
        wanted = email.casefold()
        return next((e for e in self.entries if wanted in e.emails), None)

    def search(self, term: str) -> list[IdentityEntry]:
        """Entries whose name, an email or an account value contains ``term``."""
        wanted = term.casefold()
        out = []
        for e in self.entries:
            values = [e.name, *e.emails, *(v for vs in e.accounts.values() for v in vs)]
            if any(wanted in v.casefold() for v in values):
                out.append(e)
        return out


def identity_key(person: Person, directory: Directory) -> str:
    """The key of the identity ``person`` belongs to (see the module doc)."""
    entry = directory.entry_of(person)
    if entry is not None:
        return f"map:{entry.slug}"
    if person.email:
        return f"email:{person.email.casefold()}"
    return f"account:{person.backend}:{person.id}"


def author_matches(author: Person | None, keys: Sequence[str]) -> bool:
    """Whether a change's ``author`` is one of the account ``keys`` of its backend (a native
    id, a username or an email; names and emails compare case-insensitively)."""
    if author is None:
        return False
    wanted = {k.casefold() for k in keys}
    values = (author.id, author.username, author.email)
    return any(v is not None and v.casefold() in wanted for v in values)


class KeyCache:
    """Account keys (emails, usernames) resolved to native ids on one backend, for the
    pushdown of ``changes(filter: {people})``: found ids are kept for the source's life (an
    account's id never changes), "unknown here" for ``UNKNOWN_TTL`` seconds (an account may
    appear); at most ``KEPT`` keys (then it starts over)."""

    UNKNOWN_TTL = 600.0
    KEPT = 4096

    def __init__(self) -> None:
        self._ids: dict[str, tuple[float, tuple[str, ...]]] = {}

    def get(self, key: str) -> tuple[str, ...] | None:
        """The ids ``key`` resolved to (``()``: unknown here); ``None``: not asked yet."""
        found = self._ids.get(key.casefold())
        if found is None:
            return None
        at, ids = found
        if not ids and time.monotonic() - at > self.UNKNOWN_TTL:
            return None
        return ids

    def put(self, key: str, ids: tuple[str, ...]) -> None:
        if len(self._ids) >= self.KEPT:
            self._ids.clear()
        self._ids[key.casefold()] = (time.monotonic(), ids)
