"""Gerrit accounts for the people features: search (``GET /accounts/?q=``) and the accounts
behind ``changes(filter: {people})``.

``owner:<x>`` in a change query fails the whole query when Gerrit cannot resolve ``x``
(``QueryParseException``: 400 "Account 'x' not found"), and a person's map entry or emails
need not all have an account here. So each key is resolved first with
``GET /accounts/<key>`` (Gerrit's account identifier: id, username, email or "Full Name
<email>"; one request per key, issued together, answers kept: ``adapters.people.KeyCache``), keys
Gerrit does not know are dropped, and the query names account ids (``owner:1000096``).
Reference: Gerrit's REST documentation (``/accounts/``, account identifiers, query
operators ``owner:``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from adapters.errors import NotFound, UpstreamError
from adapters.gerrit import mapping
from adapters.model import Person
from adapters.paths import BadSegment, seg

if TYPE_CHECKING:
    from adapters.gerrit.source import GerritSource

SELF = frozenset({"self", "me"})  # the signed-in account upstream: never the gateway's


async def search(src: GerritSource, term: str, limit: int) -> list[Person]:
    """``GET /accounts/?q=<term>&o=DETAILS&n=<limit>``: accounts whose name, email or
    username match (Gerrit's default account search; words are ANDed)."""
    words = " ".join(w.replace('"', "") for w in term.split())
    if not words:
        return []
    params = {"q": words, "o": "DETAILS", "n": str(max(1, min(limit, 100)))}
    found = await src.client.get_json("/accounts/", params)
    items = found if isinstance(found, list) else []
    return [mapping.account(src.name, d) for d in items if isinstance(d, Mapping)][:limit]


async def owner_ids(src: GerritSource, keys: Sequence[str]) -> tuple[str, ...]:
    """The account ids behind ``keys`` (see the module doc); empty: Gerrit knows none."""
    found = await asyncio.gather(*(_account_id(src, k) for k in keys))
    return tuple(dict.fromkeys(i for i in found if i is not None))


async def _account_id(src: GerritSource, key: str) -> str | None:
    if key.isdigit():
        return key
    if key.strip().casefold() in SELF:
        return None
    known = src.account_ids.get(key)
    if known is not None:
        return known[0] if known else None
    try:
        d = await src.client.get_json(f"/accounts/{seg(key)}")
    except (NotFound, BadSegment):
        d = None
    except UpstreamError:  # accounts hidden from this caller: the key as it is
        return key
    account_id = d.get("_account_id") if isinstance(d, Mapping) else None
    found = (str(account_id),) if account_id is not None else ()
    src.account_ids.put(key, found)
    return found[0] if found else None
