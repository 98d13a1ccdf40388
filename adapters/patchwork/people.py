"""Patchwork people: search (``people/?q=``, ``users/?q=``) and the ``submitter=`` pushdown of
``changes(filter: {people})``.

Patchwork keeps one *person* per email (a mail sender) and *users* (accounts, ``u<N>``).
Both lists take ``q`` (a substring of the name or email; users also the username) and need
authentication. The patch list's ``submitter`` filter is multi-valued (OR) and takes person
ids or emails (``iexact``), but one value Patchwork does not know empties the whole answer
(its ``ModelMultipleChoiceField`` refuses the form). So one key is pushed down as it is, and
several are first resolved to person ids (one ``people/?q=<email>`` each, concurrently, kept:
``adapters.people.KeyCache``), dropping those Patchwork does not know.
Reference: Patchwork's ``patchwork/api/filters.py`` (``PersonFilter``) and its REST API
documentation (``/api/people/``, ``/api/users/``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.errors import UpstreamError
from adapters.model import Person
from adapters.patchwork import mapping

if TYPE_CHECKING:
    from adapters.patchwork.source import PatchworkSource


async def search(src: PatchworkSource, term: str, limit: int) -> list[Person]:
    """People then users matching ``term`` (two requests, issued together)."""
    params: dict[str, Any] = {"q": term, "per_page": max(1, min(limit, 100))}
    people, users = await asyncio.gather(
        src.client.get("people/", params), src.client.get("users/", params)
    )
    found: list[Person] = []
    for d in _items(people):
        if (p := mapping.person(src.name, d)) is not None:
            found.append(p)
    for d in _items(users):
        if (u := mapping.user(src.name, d)) is not None:
            found.append(u)
    return found[:limit]


def _items(body: Any) -> list[dict[str, Any]]:
    return [d for d in body if isinstance(d, dict)] if isinstance(body, list) else []


def author_keys(emails: Sequence[str], accounts: Sequence[str]) -> tuple[str, ...]:
    """Submitters are people: an email or a person id names one; usernames name users."""
    keys = [*emails, *(a for a in accounts if "@" in a or a.isdigit())]
    return tuple(dict.fromkeys(k.casefold() for k in keys))


async def submitters(src: PatchworkSource, keys: Sequence[str]) -> tuple[str, ...] | None:
    """The ``submitter=`` values for ``keys`` (see the module doc); ``None``: none of them is
    known to this Patchwork (no list request is needed); ``()``: do not push down."""
    if len(keys) <= 1:
        return tuple(keys)
    try:
        resolved = await asyncio.gather(*(_person_ids(src, k) for k in keys))
    except UpstreamError:  # people need authentication: filter in the gateway instead
        return ()
    ids = tuple(dict.fromkeys(i for found in resolved for i in found))
    return ids or None


async def _person_ids(src: PatchworkSource, key: str) -> tuple[str, ...]:
    if key.isdigit():
        return (key,)
    known = src.person_ids.get(key)
    if known is not None:
        return known
    body = await src.client.get("people/", {"q": key, "per_page": 100})
    ids = tuple(str(d["id"]) for d in _items(body) if str(d.get("email") or "").casefold() == key)
    src.person_ids.put(key, ids)
    return ids
