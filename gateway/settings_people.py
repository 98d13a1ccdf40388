"""The ``[[people]]`` part of the settings checker: the identity map (``adapters/people.py``).

```toml
[[people]]
name = "Ada Lovelace"                       # display name (its slug is the identity's key)
emails = ["ada@example.org", "ada@work.example"]
[people.accounts]                           # backend name → username/email/id (string or list)
abf = "ada"
gerrit = ["ada", "ada@example.org"]
```

Every backend named under ``accounts`` must be configured; two entries may not share a
name's slug or an email (a join must have one answer). Reloaded with the rest of the
configuration (``gateway/reload.py``: the access policy carries the settings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.people import IdentityEntry, slug

PEOPLE_KEYS: tuple[str, ...] = ("name", "emails", "accounts")


class PeopleChecks:
    """The ``[[people]]`` part of the settings checker."""

    problems: list[Any]
    _at: Callable[..., None]
    _unknown_key: Callable[..., None]

    def _people(self, raw: object, backend_names: list[str]) -> tuple[IdentityEntry, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self._at(("people",), "people must be an array of tables ([[people]])")
            return ()
        entries: list[IdentityEntry] = []
        for index, item in enumerate(raw):
            entry = self._person_entry(index, item, backend_names, entries)
            if entry is not None:
                entries.append(entry)
        return tuple(entries)

    def _person_entry(
        self, index: int, raw: object, backend_names: list[str], seen: list[IdentityEntry]
    ) -> IdentityEntry | None:
        header = ("people", index)
        if not isinstance(raw, Mapping):
            self._at(header, f"people entry {index + 1} must be a table, not {type(raw).__name__}")
            return None
        start = len(self.problems)
        name = raw.get("name")
        label = f"people entry {name!r}" if isinstance(name, str) else f"people entry #{index + 1}"

        def at(key: str, message: str) -> None:
            self._at((*header, key), f"{label}: {message}")

        for key in raw:
            if key not in PEOPLE_KEYS:
                self._unknown_key((*header, key), key, PEOPLE_KEYS, label)
        if not isinstance(name, str) or not slug(name):
            at("name", "name is required: a display name with a letter or digit")
        elif any(e.slug == slug(name) for e in seen):
            at("name", f"another entry has the same name ({slug(name)!r})")
        emails = _strings(raw.get("emails", []))
        if emails is None or not all("@" in e for e in emails):
            at("emails", "emails must be an array of email addresses")
            emails = ()
        taken = {e for s in seen for e in s.emails}
        for email in emails:
            if email.casefold() in taken:
                at("emails", f"{email!r} is listed by another entry")
        accounts = self._accounts(raw.get("accounts", {}), backend_names, at)
        if len(self.problems) != start or not isinstance(name, str):
            return None
        lowered = tuple(dict.fromkeys(e.casefold() for e in emails))
        return IdentityEntry(name=name.strip(), emails=lowered, accounts=accounts)

    @staticmethod
    def _accounts(
        raw: object, backend_names: list[str], at: Callable[[str, str], None]
    ) -> dict[str, tuple[str, ...]]:
        if not isinstance(raw, Mapping):
            at("accounts", "accounts must be a table: backend name = username (or a list)")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for backend, value in raw.items():
            if backend not in backend_names:
                known = ", ".join(backend_names) or "none"
                at("accounts", f"accounts names unknown backend {backend!r} (configured: {known})")
                continue
            values = _strings([value] if isinstance(value, str) else value)
            if not values:
                at("accounts", f"accounts.{backend} must be a non-empty string or list of them")
                continue
            out[backend] = values
        return out


def _strings(value: object) -> tuple[str, ...] | None:
    """``value`` as a tuple of stripped non-empty strings, or ``None`` if it is not one."""
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return tuple(v.strip() for v in value)
