"""fdo people: the fork's API names submitters by id only and has no people entry point
(its REST documentation lists projects, series, revisions, patches and events), so a person
is named from the ``From:`` of the mbox of one of their patches.

- A patch of theirs already seen in a list (``FdoSource._remember``) is used directly: one
  request (``patches/<id>/mbox/``) per person. Otherwise ``patches/?submitter=<id>&perpage=1``
  finds one first (two requests); the answer is checked to really be that submitter's patch,
  and a person without patches stays a bare id.
- Named people are kept ``PEOPLE_TTL`` seconds per source (at most ``PEOPLE_KEPT``, least
  recently used out): a name and email behind an id do not change in practice, and a page of
  changes names the same few submitters again and again.
- Records carry the submitter as a ``partial`` stub (``mapping.person_stub``); the GraphQL
  layer names it through its per-request loader only when a name or email is selected.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from adapters.base import fetch_each
from adapters.model import Person
from adapters.patchwork_fdo import mapping
from adapters.patchwork_fdo.keys import numeric

if TYPE_CHECKING:
    from adapters.patchwork_fdo.source import FdoSource

PEOPLE_TTL = 3600.0  # seconds a named person is kept
PEOPLE_KEPT = 4096  # named people kept per source
SUBMITTERS_KEPT = 20_000  # submitter id → a patch of theirs, from lists


class PeopleCache:
    """Named people by id, each for ``PEOPLE_TTL`` seconds; and a patch of each submitter seen
    in lists (the mbox to read them from)."""

    def __init__(self) -> None:
        self._named: OrderedDict[str, tuple[float, Person]] = OrderedDict()
        self.patch_of: OrderedDict[str, str] = OrderedDict()

    def get(self, person_id: str) -> Person | None:
        found = self._named.get(person_id)
        if found is None or time.monotonic() - found[0] > PEOPLE_TTL:
            return None
        self._named.move_to_end(person_id)
        return found[1]

    def put(self, person: Person) -> None:
        self._named[person.id] = (time.monotonic(), person)
        self._named.move_to_end(person.id)
        while len(self._named) > PEOPLE_KEPT:
            self._named.popitem(last=False)

    def saw(self, submitter_id: str, patch_id: str) -> None:
        self.patch_of[submitter_id] = patch_id
        self.patch_of.move_to_end(submitter_id)
        while len(self.patch_of) > SUBMITTERS_KEPT:
            self.patch_of.popitem(last=False)


async def get_people(src: FdoSource, ids: Sequence[str]) -> list[Person | None]:
    """People by id, named from one of their patches (see the module doc)."""

    async def fetch(person_id: str) -> Person:
        pid = numeric(person_id, src.name)
        known = src.people.get(pid)
        if known is not None:
            return known
        stub = Person(backend=src.name, id=pid, name=None, email=None)
        patch_id = src.people.patch_of.get(pid)
        if patch_id is None:
            body = await src.client.get("patches/", {"submitter": pid, "perpage": 1})
            results, _, _ = mapping.envelope(src.name, body)
            if not results or str(results[0].get("submitter")) != pid:
                return stub  # no patch of theirs (or a server ignoring the filter)
            patch_id = str(results[0].get("id"))
        mbox = await src.client.text(f"patches/{numeric(patch_id, src.name)}/mbox/")
        name, email = mapping.mbox_sender(mbox)
        if not email:
            return stub
        found = Person(backend=src.name, id=pid, name=name, email=email)
        src.people.put(found)
        return found

    return await fetch_each(ids, fetch)


def author_keys(accounts: Sequence[str]) -> tuple[str, ...]:
    """Person ids only: the fork's payloads name submitters by id, never by email."""
    return tuple(dict.fromkeys(a for a in accounts if a.isdigit()))
