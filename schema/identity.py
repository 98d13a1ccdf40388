"""People across forges: ``Identity``, ``Person.identity``/``accounts``, ``people(search:)``
and the expansion of ``changes(filter: {people})`` into each backend's account keys.

An identity is keyed as ``adapters/people.py`` says (``map:<slug>``, ``email:<email>``,
``account:<backend>:<id>``); its global ID is ``node.encode("Identity", "*", key)``. Knowing
an account's identity costs nothing (its record and the ``[[people]]`` map); finding an
identity's other accounts searches the backends through ``base.PersonSearcher`` (one search per
backend and term, batched per request). Upstream reads per kind: docs/federation.md "People".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from adapters import base, model
from adapters.errors import UpstreamError
from adapters.people import Directory, IdentityEntry, identity_key
from schema import node
from schema.context import Context, Info
from schema.descriptions import After, First
from schema.errors import UserInputError
from schema.pagination import Connection, Edge, PageInfo, offset_cursor, page_request
from schema.types_base import Node, Person

SEARCH_LIMIT = 100  # accounts asked of each backend per search


@strawberry.type(
    description="One human across forges: accounts joined by email (case-insensitive) and "
    "by the gateway's [[people]] identity map."
)
class Identity(Node):
    display_name: str = strawberry.field(
        description="What to show: the map's name, else an account's name, else the email."
    )
    name: str | None = strawberry.field(
        description="Full name (the [[people]] entry's, else an account's; null: unknown)."
    )
    emails: list[str] = strawberry.field(description="Known email addresses, lowercased.")
    _key: strawberry.Private[str]
    _known: strawberry.Private[tuple[model.Person, ...]]  # accounts known without a read

    @strawberry.field(
        description="The per-backend accounts of this human (this account included). Map "
        "entries and emails are searched on each backend that can search people (one "
        "request per backend and term); a backend that fails is left out."
    )
    async def accounts(self, info: Info) -> list[Person]:
        return await converted_accounts(info, self._key, self._known)


def _make(
    key: str, name: str | None, emails: Iterable[str], known: Sequence[model.Person]
) -> Identity:
    mails = list(dict.fromkeys(e.casefold() for e in emails if e))
    label = name or next((p.display_name for p in known), None) or (mails[0] if mails else key)
    return Identity(
        id=strawberry.ID(node.encode("Identity", node.ANY_BACKEND, key)),
        display_name=label,
        name=name,
        emails=mails,
        _key=key,
        _known=tuple(known),
    )


def _of_entry(entry: IdentityEntry, known: Sequence[model.Person] = ()) -> Identity:
    emails = [*entry.emails, *(p.email for p in known if p.email)]
    return _make(f"map:{entry.slug}", entry.name, emails, known)


def identity_of(directory: Directory, person: model.Person) -> Identity:
    """The identity ``person`` belongs to (no upstream read)."""
    key = identity_key(person, directory)
    if key.startswith("map:"):
        entry = directory.by_slug(key[4:])
        if entry is not None:
            return _of_entry(entry, (person,))
    return _make(key, person.name, [person.email] if person.email else [], (person,))


async def identity_by_key(info: Info, key: str) -> Identity | None:
    """``node(id)`` of an Identity: ``None`` when the key names nobody (any more)."""
    kind, _, rest = key.partition(":")
    ctx = info.context
    if kind == "map":
        entry = ctx.people.by_slug(rest)
        return None if entry is None else _of_entry(entry)
    if kind == "email" and "@" in rest:
        entry = ctx.people.entry_of_email(rest)
        return _of_entry(entry) if entry is not None else _make(key, None, [rest], ())
    if kind == "account":
        backend, _, native = rest.partition(":")
        if not native:
            return None
        ctx.source(backend)
        record = await _account(ctx, backend, native)
        if record is None:
            return None
        found = identity_of(ctx.people, record)
        if found._key.startswith("map:"):
            return found
        # Handed out for an account listed without an email: reading it may find one, but
        # the ID asked for stays the node's ID (node() round-trips).
        return _make(key, record.name, [record.email] if record.email else [], (record,))
    return None


async def _account(ctx: Context, backend: str, native: str) -> model.Person | None:
    """One account by id where the backend reads people; else a record of the id alone."""
    if base.provides(ctx.source(backend), base.PersonReader):
        return await ctx.person(backend, native)
    return model.Person(backend=backend, id=native, name=None, email=None)


# -- finding accounts -----------------------------------------------------------------------


def searchers(ctx: Context, names: Iterable[str] | None = None) -> list[tuple[str, Any]]:
    """The backends that search people for this caller (anonymous callers skip those that
    show people to authenticated users only), in configuration order."""
    wanted = set(names) if names is not None else None
    out = []
    for name, src in ctx.all_capable(base.PersonSearcher):
        if wanted is not None and name not in wanted:
            continue
        if ctx.meta.anonymous and _private(src):
            continue
        out.append((name, src))
    return out


def _private(src: object) -> bool:
    return base.provides(src, base.PrivatePeople) and src.people_are_private()


async def search(info: Info, backend: str, src: Any, term: str) -> list[model.Person]:
    """``src.search_people(term)`` through the request's loader (one read per backend and
    term per request); a failing backend is reported and contributes nothing."""

    async def batch(terms: Sequence[str]) -> list[list[model.Person]]:
        return list(await asyncio.gather(*(src.search_people(t, SEARCH_LIMIT) for t in terms)))

    try:
        found: list[model.Person] = await info.context.load(backend, "people-search", batch, term)
    except UpstreamError as exc:
        info.context.report(info, exc)
        return []
    return found


def _exact(people: Iterable[model.Person], value: str) -> list[model.Person]:
    wanted = value.casefold()
    keys = ("id", "username", "email")
    return [p for p in people if any((getattr(p, k) or "").casefold() == wanted for k in keys)]


async def accounts_of(info: Info, key: str, known: Sequence[model.Person]) -> list[model.Person]:
    """Every account of the identity ``key``: ``known`` plus what searching finds."""
    ctx = info.context
    kind, _, rest = key.partition(":")
    asks: list[tuple[str, Any, str]] = []  # (backend, source, value that must match exactly)
    named: list[model.Person] = []
    emails: list[str] = [rest] if kind == "email" else []
    if kind == "map" and (entry := ctx.people.by_slug(rest)) is not None:
        emails = list(entry.emails)
        can_search = dict(searchers(ctx))
        for backend, values in entry.accounts.items():
            if backend not in ctx.sources:
                continue
            for value in values:
                if backend in can_search:
                    asks.append((backend, can_search[backend], value))
                else:  # no search there: the account as the map names it
                    readable = base.provides(ctx.sources[backend], base.PersonReader)
                    named.append(_named(backend, value, readable))
    asks += [(b, s, e) for e in emails for b, s in searchers(ctx)]
    found = await asyncio.gather(*(search(info, b, s, v) for b, s, v in asks))
    hits = [p for (_, _, v), people in zip(asks, found, strict=True) for p in _exact(people, v)]
    return _unique([*known, *hits, *named])


async def converted_accounts(info: Info, key: str, known: Sequence[model.Person]) -> list[Person]:
    """``accounts_of`` as GraphQL ``Person`` objects."""
    found = await accounts_of(info, key, known)
    return [p for p in (Person.of(r) for r in found) if p is not None]


def _named(backend: str, value: str, readable: bool) -> model.Person:
    """An account as the map names it: an email, a native id (digits: ``partial`` where the
    backend reads people, so its name is read when selected) or a username."""
    email = value if "@" in value else None
    native = value.isdigit()
    return model.Person(
        backend=backend,
        id=value,
        name=None,
        email=email,
        username=None if email or native else value,
        partial=native and readable,
    )


def _unique(people: Iterable[model.Person]) -> list[model.Person]:
    seen: dict[tuple[str, str], model.Person] = {}
    for p in people:
        seen.setdefault((p.backend, p.id), p)
    return list(seen.values())


# -- people(search:) -------------------------------------------------------------------------


@dataclass
class _Group:
    entry: IdentityEntry | None
    accounts: list[model.Person]


async def find_people(info: Info, term: str | None, backends: list[str] | None) -> list[Identity]:
    """Map entries matching ``term`` (all of them without one), then the identities of the
    accounts each searchable backend finds for it, grouped by identity key."""
    ctx = info.context
    for name in backends or ():
        ctx.source(name)
    entries = ctx.people.search(term) if term else list(ctx.people.entries)
    groups: dict[str, _Group] = {f"map:{e.slug}": _Group(e, []) for e in entries}
    if term and term.strip():
        found = searchers(ctx, backends)
        results = await asyncio.gather(*(search(info, b, s, term.strip()) for b, s in found))
        for person in (p for people in results for p in people):
            key = identity_key(person, ctx.people)
            entry = ctx.people.by_slug(key[4:]) if key.startswith("map:") else None
            groups.setdefault(key, _Group(entry, [])).accounts.append(person)
    out = []
    for key, group in groups.items():
        if group.entry is not None:
            out.append(_of_entry(group.entry, group.accounts))
            continue
        label = next((p.name for p in group.accounts if p.name), None)
        mails = [p.email for p in group.accounts if p.email]
        out.append(_make(key, label, mails, group.accounts))
    mapped = [i for i in out if i._key.startswith("map:")]
    rest = sorted((i for i in out if not i._key.startswith("map:")), key=_order)
    return mapped + rest


def _order(identity: Identity) -> tuple[str, str]:
    return (identity.display_name.casefold(), identity._key)


@strawberry.type
class PeopleQuery:
    @strawberry.field(
        description="People across forges, one entry per human (accounts joined by email and "
        "by the [[people]] map). With `search`: the map entries it matches, then each "
        "backend's own people search (one request per backend; Patchwork two: people and "
        "users; at most 100 accounts each). Without: the map's entries only."
    )
    async def people(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(description="A name, email or username fragment."),
        ] = None,
        backends: Annotated[
            list[str] | None,
            strawberry.argument(description="Only search these backends (by name)."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Identity]:
        window = page_request(first, after)
        found = await find_people(info, search, backends)
        items = found[window.offset : window.offset + window.count]
        edges = [Edge(cursor=offset_cursor(window.offset + i), node=n) for i, n in enumerate(items)]
        return Connection(
            edges=edges,
            nodes=items,
            page_info=PageInfo(
                has_next_page=window.offset + len(items) < len(found),
                has_previous_page=window.offset > 0,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=len(found),
        )


async def load_identity(info: Info, gid: node.GlobalId) -> Identity | None:
    """The ``node(id:)`` loader of ``Identity``."""
    return await identity_by_key(info, gid.native)


# -- changes(filter: {people}) ---------------------------------------------------------------


async def people_keys(info: Info, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Each backend's account keys (``ChangeFilter.people``) of the people ``ids`` (Identity
    or Person IDs); a backend missing from the answer has none of them (it is skipped)."""
    ctx = info.context
    wanted = [node.decode(str(v), ("Identity", "Person")) for v in ids]
    merged = _merge(*await asyncio.gather(*(_keys_of(info, gid) for gid in wanted)))
    out: dict[str, tuple[str, ...]] = {}
    for backend, keys in merged.items():
        if backend in ctx.sources and keys:
            out[backend] = tuple(dict.fromkeys(keys))
    return out


async def _keys_of(info: Info, gid: node.GlobalId) -> dict[str, list[str]]:
    ctx = info.context
    if gid.type == "Person":
        ctx.source(gid.backend)
        own = {gid.backend: [gid.native]}
        record = await _account(ctx, gid.backend, gid.native)
        if record is None:
            return own
        key = identity_key(record, ctx.people)
        return _merge(own, _expand(ctx, key, [record.email] if record.email else []))
    if gid.backend != node.ANY_BACKEND:
        raise UserInputError(f"{gid.native[:60]!r} is not an Identity key", "BAD_ID")
    kind, _, rest = gid.native.partition(":")
    if kind == "account":
        backend, _, native = rest.partition(":")
        ctx.source(backend)
        return {backend: [native]}
    if kind == "email" and "@" in rest:
        return _expand(ctx, gid.native, [rest])
    if kind == "map" and ctx.people.by_slug(rest) is not None:
        return _expand(ctx, gid.native, [])
    raise UserInputError(f"no person {gid.native[:60]!r} is known", "BAD_ID")


def _expand(ctx: Context, key: str, emails: list[str]) -> dict[str, list[str]]:
    """Per backend, the keys of an identity: emails and map accounts, as each backend's
    ``AuthorKeys`` can use them (no upstream read)."""
    accounts: dict[str, tuple[str, ...]] = {}
    if key.startswith("map:") and (entry := ctx.people.by_slug(key[4:])) is not None:
        emails = [*entry.emails, *emails]
        accounts = dict(entry.accounts)
    out: dict[str, list[str]] = {}
    for name, src in ctx.all_capable(base.ChangeLister):
        mine = accounts.get(name, ())
        if base.provides(src, base.AuthorKeys):
            keys = list(src.author_keys(emails, mine))
        else:
            keys = [*emails, *mine]
        if keys:
            out[name] = keys
    return out


def _merge(*parts: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in parts:
        for backend, keys in part.items():
            out.setdefault(backend, []).extend(keys)
    return out


__all__ = ["Identity", "PeopleQuery", "identity_of", "load_identity", "people_keys"]
