"""People across forges (issue 16, part 1): identities joined by email and by the [[people]]
map, ``people(search:)``, ``node(id)`` of an Identity, and ``changes(filter: {people})``
pushed down per kind, with no read at all on backends where the person has no account.

The four simulators run behind one gateway. Data used: the recorded upstream Patchwork has
Stephen Finucane as three people (three emails: 8 + 3 + more patches); the fdo simulator's
generated submitter 10; ABF's user ``petr``; Gerrit's ``jdoe``, whose email is changed here
to a recorded Patchwork sender's (Florian Fainelli's) so that the two join by email.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.abf.simulator import RunningSimulator as AbfSim
from adapters.abf.simulator import start_simulator as start_abf
from adapters.gerrit.simulator import GerritData
from adapters.gerrit.simulator import RunningSimulator as GerritSim
from adapters.gerrit.simulator import start_simulator as start_gerrit
from adapters.patchwork.simulator import RunningSimulator as PwSim
from adapters.patchwork.simulator import start_simulator as start_pw
from adapters.patchwork_fdo.simulator import FdoData, RunningFdoSimulator
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from adapters.people import IdentityEntry
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.cli import demo_settings
from gateway.settings_access import ApiKeySettings
from schema import node

API_KEY = "people-test-key-" + "k" * 24
STEPHEN = ("stephenfinucane@gmail.com", "stephenfinucane@hotmail.com", "stephen@that.guru")
FAINELLI = "f.fainelli@gmail.com"
ENTRY = IdentityEntry(
    name="Stephen Finucane",
    emails=STEPHEN,
    accounts={"gerrit": ("jroe",), "abf": ("petr",), "fdo": ("10",)},
)

CHANGES = """query($people: [ID!]) {
  changes(first: 100, filter: {people: $people}) {
    missingBackends
    nodes { backend { name } author { id username email } }
  }
}"""


@dataclass
class Fleet:
    client: httpx.AsyncClient
    pw: PwSim
    fdo: RunningFdoSimulator
    gerrit: GerritSim
    abf: AbfSim

    def requests(self) -> dict[str, list[str]]:
        """The path and query of every request each simulator has received so far."""
        sims: dict[str, Any] = {
            "patchwork": self.pw,
            "fdo": self.fdo,
            "gerrit": self.gerrit,
            "abf": self.abf,
        }
        return {name: [r[1] for r in sim.state.requests] for name, sim in sims.items()}

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, anonymous: bool = False
    ) -> dict[str, Any]:
        headers = {} if anonymous else {"X-Api-Key": API_KEY}
        sent = {"query": query, "variables": variables}
        resp = await self.client.post("/graphql", json=sent, headers=headers)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, anonymous: bool = False
    ) -> dict[str, Any]:
        body = await self.query(query, variables, anonymous)
        assert "errors" not in body, body["errors"]
        found: dict[str, Any] = body["data"]
        return found


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    gerrit_data = GerritData.generated(8)
    gerrit_data.accounts[1000096]["email"] = FAINELLI  # jdoe joins Patchwork's Fainelli
    pw, fdo = await start_pw(), await start_fdo(FdoData.generated(6))
    gerrit, abf = await start_gerrit(gerrit_data), await start_abf()
    settings = demo_settings(
        pw.url, fdo.url, "127.0.0.1", 8000, abf_url=abf.url, gerrit_url=gerrit.url
    )
    key = ApiKeySettings(name="dashboard", sha256=hash_key(API_KEY))
    app = create_app(dataclasses.replace(settings, people=(ENTRY,), api_keys=(key,)))
    backends = app.state.backends
    await backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield Fleet(client, pw, fdo, gerrit, abf)
    finally:
        await backends.close()
        for sim in (pw, fdo, gerrit, abf):
            await sim.close()


def identity_id(key: str) -> str:
    return node.encode("Identity", "*", key)


def _since(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: after[name][len(before[name]) :] for name in after}


async def _count_by_author(fleet: Fleet, backend: str, author: str) -> int:
    """How many changes the old ``author`` filter finds (read whole, filtered in the gateway)."""
    found = await fleet.data(
        """query($b: [String!], $a: String) {
            changes(first: 100, filter: {backends: $b, author: $a}) { nodes { id } } }""",
        {"b": [backend], "a": author},
    )
    return len(found["changes"]["nodes"])


def _params(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query)


async def test_a_mapped_person_matches_every_account_on_every_forge(fleet: Fleet) -> None:
    pw = fleet.pw.state.data
    stephen = {pid for pid, p in pw.people.items() if p["email"] in STEPHEN}
    assert len(stephen) == 3  # one person per email on Patchwork
    wanted_pw = sorted(str(i) for i, p in pw.patches.items() if p["submitter"] in stephen)
    before = fleet.requests()
    found = await fleet.data(CHANGES, {"people": [identity_id("map:stephen-finucane")]})
    changes = found["changes"]
    assert changes["missingBackends"] == []
    by_backend: dict[str, list[dict[str, Any]]] = {}
    for n in changes["nodes"]:
        by_backend.setdefault(n["backend"]["name"], []).append(n)
    # every patch of all three emails, not the 3 or 8 a single email gives
    pw_ids = sorted(node.decode(n["author"]["id"]).native for n in by_backend["patchwork"])
    posting = {p["submitter"] for p in pw.patches.values() if p["submitter"] in stephen}
    assert {int(i) for i in pw_ids} == posting and len(posting) == 2
    assert len(by_backend["patchwork"]) == len(wanted_pw) > 8
    assert {n["author"]["username"] for n in by_backend["abf"]} == {"petr"}
    assert len(by_backend["abf"]) == await _count_by_author(fleet, "abf", "petr")
    assert {n["author"]["username"] for n in by_backend["gerrit"]} == {"jroe"}
    fdo_authors = {node.decode(n["author"]["id"]).native for n in by_backend["fdo"]}
    assert fdo_authors == {"10"} and len(by_backend["fdo"]) == 16

    sent = _since(before, fleet.requests())
    # Patchwork: the three emails resolved to person ids, then one list with all three
    lists = [p for p in sent["patchwork"] if "/patches/" in p]
    assert len(lists) == 1
    assert sorted(_params(lists[0])["submitter"]) == sorted(str(i) for i in stephen)
    # Gerrit: each key resolved to an account first (owner:<unknown> fails a whole query
    # on Gerrit), the ones it knows OR-ed as ids: here only jroe
    looked_up = sorted(p for p in sent["gerrit"] if "/accounts/" in p)
    assert looked_up == sorted(["/a/accounts/jroe", *(f"/a/accounts/{e}" for e in STEPHEN)])
    (gerrit_q,) = [_params(p)["q"][0] for p in sent["gerrit"] if "/changes/" in p]
    assert "owner:1000097" in gerrit_q and "@" not in gerrit_q
    # fdo: its one submitter id pushed down
    (fdo_list,) = [p for p in sent["fdo"] if "/patches/" in p and "submitter" in p]
    assert _params(fdo_list)["submitter"] == ["10"]


async def test_backends_where_the_person_has_no_account_are_not_read(fleet: Fleet) -> None:
    # A Gerrit account outside the map (Gerrit reads it by id to learn its email): its email
    # may name a Patchwork sender, but neither fdo (ids only) nor ABF (no emails) can tell it.
    spearce = node.encode("Person", "gerrit", "1000001")
    before = fleet.requests()
    found = await fleet.data(CHANGES, {"people": [spearce]})
    sent = _since(before, fleet.requests())
    assert sent["fdo"] == [] and sent["abf"] == []
    (pw_list,) = [p for p in sent["patchwork"] if "/patches/" in p]
    assert _params(pw_list)["submitter"] == ["sop@google.com"]
    (gerrit_q,) = [_params(p)["q"][0] for p in sent["gerrit"] if "/changes/" in p]
    assert "owner:1000001" in gerrit_q
    assert {n["author"]["username"] for n in found["changes"]["nodes"]} <= {"spearce"}

    # An ABF user: its email (from /users/:id) may name accounts elsewhere, but fdo names
    # submitters by id only: fdo is not read.
    olga = node.encode("Person", "abf", "3")
    before = fleet.requests()
    found = await fleet.data(CHANGES, {"people": [olga]})
    sent = _since(before, fleet.requests())
    assert sent["fdo"] == [] and sent["abf"]
    authors = {n["author"]["username"] for n in found["changes"]["nodes"]}
    olgas = await _count_by_author(fleet, "abf", "olga")
    assert authors == {"olga"} and len(found["changes"]["nodes"]) == olgas > 0

    # An email identity: neither ABF (no emails) nor fdo (ids only) can tell it: no reads.
    before = fleet.requests()
    found = await fleet.data(CHANGES, {"people": [identity_id(f"email:{FAINELLI}")]})
    sent = _since(before, fleet.requests())
    assert sent["abf"] == [] and sent["fdo"] == []
    (pw_list,) = [p for p in sent["patchwork"] if "/patches/" in p]
    assert _params(pw_list)["submitter"] == [FAINELLI]  # one key: no look-up first
    backends = {n["backend"]["name"] for n in found["changes"]["nodes"]}
    assert backends == {"patchwork", "gerrit"}
    gerrit = [n for n in found["changes"]["nodes"] if n["backend"]["name"] == "gerrit"]
    assert gerrit and all(n["author"]["username"] == "jdoe" for n in gerrit)


async def test_a_person_id_expands_to_its_identity(fleet: Fleet) -> None:
    """An account the map names stands for the whole mapped human."""
    petr = node.encode("Person", "abf", "2")
    found = await fleet.data(CHANGES, {"people": [petr]})
    backends = {n["backend"]["name"] for n in found["changes"]["nodes"]}
    assert backends == {"patchwork", "gerrit", "abf", "fdo"}
    # A Patchwork person of one of the map's emails: the same human.
    person = node.encode("Person", "patchwork", "13")  # stephen@that.guru
    found = await fleet.data(CHANGES, {"people": [person]})
    backends = {n["backend"]["name"] for n in found["changes"]["nodes"]}
    assert backends == {"patchwork", "gerrit", "abf", "fdo"}
    # Patchwork shows people to authenticated callers only: for an anonymous caller a
    # Patchwork Person ID is that person alone (its email is not read for it).
    found = await fleet.data(CHANGES, {"people": [person]}, anonymous=True)
    authors = {n["author"]["id"] for n in found["changes"]["nodes"]}
    assert authors == {person}


async def test_bad_people_ids_are_bad_id_errors(fleet: Fleet) -> None:
    patch = node.encode("Patch", "patchwork", "1")
    for value in (patch, "garbage!", identity_id("map:nobody"), identity_id("what:ever")):
        before = fleet.requests()
        body = await fleet.query(CHANGES, {"people": [value]})
        assert body["errors"][0]["extensions"]["code"] == "BAD_ID", value
        assert fleet.requests() == before  # refused before any read


async def test_identity_of_an_account_and_its_accounts(fleet: Fleet) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on Person {
        username
        identity { id displayName emails accounts { backend { name } username email } }
    } } }"""
    jdoe = node.encode("Person", "gerrit", "1000096")
    # Gerrit has no person reader: the account comes from its search instead
    found = await fleet.data(
        """query { people(search: "jdoe", backends: ["gerrit"]) { nodes {
            id displayName emails accounts { id backend { name } email } } } }"""
    )
    (ident,) = found["people"]["nodes"]
    assert ident["id"] == identity_id(f"email:{FAINELLI}")
    assert ident["emails"] == [FAINELLI]
    accounts = {(a["backend"]["name"], a["email"]) for a in ident["accounts"]}
    assert accounts == {("gerrit", FAINELLI), ("patchwork", FAINELLI)}  # joined by email
    assert jdoe in {a["id"] for a in ident["accounts"]}

    # node(id) of a Patchwork person: its identity is the map entry, with every account
    stephen = await fleet.data(query, {"id": node.encode("Person", "patchwork", "1")})
    ident = stephen["node"]["identity"]
    assert ident["id"] == identity_id("map:stephen-finucane")
    assert ident["displayName"] == "Stephen Finucane"
    assert set(STEPHEN) <= set(ident["emails"])
    where = {(a["backend"]["name"], a["username"] or a["email"]) for a in ident["accounts"]}
    assert {("abf", "petr"), ("gerrit", "jroe")} <= where
    assert {e for b, e in where if b == "patchwork"} >= set(STEPHEN)
    # named by the map (fdo has no people search), then named from one of its patches
    (fdo,) = [a for a in ident["accounts"] if a["backend"]["name"] == "fdo"]
    assert fdo["email"] == fleet.fdo.state.data.people[10]["email"]


async def test_node_round_trips_every_identity_key(fleet: Fleet) -> None:
    query = "query($id: ID!) { node(id: $id) { __typename id ... on Identity { displayName } } }"
    keys = ("map:stephen-finucane", f"email:{FAINELLI}", "account:gerrit:1000200")
    for key in keys:
        found = await fleet.data(query, {"id": identity_id(key)})
        assert found["node"]["__typename"] == "Identity"
        assert found["node"]["id"] == identity_id(key)
    # petr is in the map: his account's identity is the map entry's
    found = await fleet.data(
        "query($id: ID!) { node(id: $id) { ... on Person { identity { id } } } }",
        {"id": node.encode("Person", "abf", "2")},
    )
    assert found["node"]["identity"]["id"] == identity_id("map:stephen-finucane")
    missing = await fleet.data(query, {"id": identity_id("map:nobody")})
    assert missing["node"] is None


async def test_people_search_groups_accounts_into_humans(fleet: Fleet) -> None:
    found = await fleet.data(
        """query { people(search: "finucane") { totalCount nodes { id displayName
            accounts { backend { name } } } } }"""
    )
    nodes = found["people"]["nodes"]
    assert nodes[0]["id"] == identity_id("map:stephen-finucane")
    # the three Patchwork people are one human, not three
    assert [n["displayName"] for n in nodes].count("Stephen Finucane") == 1
    # without a search: the map's entries, no upstream read
    before = fleet.requests()
    listed = await fleet.data("{ people { nodes { displayName } } }")
    assert listed["people"]["nodes"] == [{"displayName": "Stephen Finucane"}]
    assert fleet.requests() == before


async def test_fdo_submitters_are_named_lazily_once_per_person(fleet: Fleet) -> None:
    query = """{ changes(first: 40, filter: {backends: ["fdo"]}) {
        nodes { author { id displayName name email } } } }"""
    ids_only = """{ changes(first: 40, filter: {backends: ["fdo"]}) { nodes { author { id } } } }"""
    before = fleet.requests()
    await fleet.data(ids_only)
    sent = _since(before, fleet.requests())["fdo"]
    assert not [p for p in sent if "/mbox/" in p]  # ids alone: nobody is named

    before = fleet.requests()
    found = await fleet.data(query)
    sent = _since(before, fleet.requests())["fdo"]
    people = fleet.fdo.state.data.people
    authors = [n["author"] for n in found["changes"]["nodes"]]
    distinct = {node.decode(a["id"]).native for a in authors}
    for a in authors:
        person = people[int(node.decode(a["id"]).native)]
        assert (a["name"], a["email"]) == (person["name"], person["email"])
        assert a["displayName"] == person["name"]  # not "10" any more
    # one mbox per distinct submitter (a patch of theirs was in the list), none to find one
    mboxes = [p for p in sent if "/mbox/" in p]
    assert len(mboxes) == len(distinct)
    assert not [p for p in sent if _params(p).get("perpage") == ["1"]]

    before = fleet.requests()
    await fleet.data(query)
    sent = _since(before, fleet.requests())["fdo"]
    assert not [p for p in sent if "/mbox/" in p]  # named people are kept (an hour)


async def test_people_search_asks_each_kind_with_its_own_api(fleet: Fleet) -> None:
    query = """query($s: String, $after: String) { people(search: $s, first: 2, after: $after) {
        pageInfo { hasNextPage endCursor } nodes { displayName } } }"""
    before = fleet.requests()
    found = await fleet.data(query, {"s": "o"})
    sent = _since(before, fleet.requests())
    searches = [p for p in sent["patchwork"] if "?" in p]  # (the first also detects versions)
    assert sorted(p.split("?")[0] for p in searches) == ["/api/1.3/people/", "/api/1.3/users/"]
    assert all(_params(p)["q"] == ["o"] for p in searches)
    (gerrit,) = sent["gerrit"]
    assert gerrit.startswith("/a/accounts/?") and _params(gerrit)["q"] == ["o"]
    assert _params(gerrit)["o"] == ["DETAILS"]
    (abf,) = sent["abf"]
    assert _params(abf) == {"type": ["users"], "query": ["o"]}
    assert sent["fdo"] == []  # no people search in the fork's API
    # paged: every identity once across the pages
    page = found["people"]
    names = [n["displayName"] for n in page["nodes"]]
    while page["pageInfo"]["hasNextPage"]:
        after = page["pageInfo"]["endCursor"]
        page = (await fleet.data(query, {"s": "o", "after": after}))["people"]
        names += [n["displayName"] for n in page["nodes"]]
    assert len(names) == len(set(names)) > 2
    assert "Olga Ivanova" in names and "Stephen Finucane" in names  # ABF; map (+Patchwork)

    # anonymous: Patchwork shows people to authenticated users only, so it is not asked
    before = fleet.requests()
    await fleet.data(query, {"s": "o"}, anonymous=True)
    assert _since(before, fleet.requests())["patchwork"] == []


async def test_open_changes_of_a_person_across_forges_reads_lists_only(fleet: Fleet) -> None:
    """The dashboard question for one person (docs/federation.md "People"): once the
    person's keys are resolved (first run), Patchwork and Gerrit answer with one list request
    each, fdo with its one person-id list (plus the revision placement of checkState), and
    no backend reads a change one by one for the list itself."""
    query = """query($people: [ID!]) { changes(first: 20, filter: {people: $people,
        states: [OPEN]}) { missingBackends nodes { __typename title updatedAt checkState
        state id backend { name } } } }"""
    variables = {"people": [identity_id("map:stephen-finucane")]}
    await fleet.data(query, variables)
    before = fleet.requests()
    found = (await fleet.data(query, variables))["changes"]
    sent = _since(before, fleet.requests())
    assert found["missingBackends"] == []
    assert {n["state"] for n in found["nodes"]} == {"OPEN"}
    stamps = [n["updatedAt"] for n in found["nodes"]]
    assert stamps == sorted(stamps, reverse=True)
    # Patchwork: the list, then the pages of ONE events read (its activity, "One vocabulary")
    pw_list, *events = sent["patchwork"]
    assert "submitter=" in pw_list and events and all("/events/" in p for p in events)
    assert len(sent["gerrit"]) == 1 and "owner:1000097" in sent["gerrit"][0]
    fdo_lists = [p for p in sent["fdo"] if p.startswith("/api/1.0/patches/")]
    assert len(fdo_lists) == 1 and _params(fdo_lists[0])["submitter"] == ["10"]
    assert not [p for p in sent["fdo"] if "/patches/" in p and "/mbox/" in p]
    # ABF lists carry no timestamps but name each owner: the person's items are kept before
    # any detail is read, so only petr's open pull requests are read in detail (those on the
    # page, and those the merge reads ahead because they could still reach it)
    abf_lists = [p for p in sent["abf"] if "pull_requests?" in p or "pull_requests.json?" in p]
    assert abf_lists and all("status=open" in p for p in abf_lists)
    details = {p for p in sent["abf"] if p not in abf_lists}
    on_page = {n["id"] for n in found["nodes"] if n["backend"]["name"] == "abf"}
    everything = """query($people: [ID!]) { changes(first: 100, filter: {people: $people,
        states: [OPEN], backends: ["abf"]}) { nodes { id } } }"""
    all_petrs = {n["id"] for n in (await fleet.data(everything, variables))["changes"]["nodes"]}
    paths = {
        f"/api/v1/projects/{node.decode(i).native.replace('/', '/pull_requests/')}.json"
        for i in all_petrs
    }
    assert on_page and on_page <= all_petrs and details and details <= paths, (details, paths)
