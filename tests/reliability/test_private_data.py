"""What only the gateway's own account may see stays hidden from anonymous callers
(issue 15 item 11), as the compat layer hides it: the account's private bundles (listed, by
node id, through a fragment), Patchwork people and user accounts (Patchwork shows them to
authenticated users only), Gerrit drafts and reviewed flags (the account's own), Gerrit
queries naming the signed-in user and permitted votes, the Gerrit compat layer's anonymous
view (paths without ``/a/``). An API key caller still sees them (it is trusted with the
backend credential it maps to). Every refusal is made before any upstream request. ABF:
hidden projects and their pull requests, and what ABF keeps for "the authenticated user";
fdo's ``submitter=self``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

import httpx

from adapters.abf.simulator import AbfData
from adapters.abf.simulator import RunningSimulator as AbfSim
from adapters.abf.simulator import start_simulator as start_abf
from adapters.patchwork.simulator.data import PatchworkData
from adapters.patchwork_fdo.simulator import start_simulator as start_fdo
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.settings import settings_from_dict
from schema import node
from tests.gateway.gerrit_support import WRITER, basic, decode, sha
from tests.gateway.gerrit_support import gerrit_gateway as compat_gateway
from tests.gateway.guarded import BOT_KEY, ENV, guarded
from tests.schema.gerrit.conftest import KEY as GERRIT_KEY
from tests.schema.gerrit.conftest import gerrit_gateway

ADMIN_TOKEN = "a0" * 20
SECRET = node.encode("Bundle", "pw", "2")
BUNDLES = '{ bundles(backend: "pw") { nodes { id name public } } }'
BY_ID = """query($id: ID!) { node(id: $id) { id ... on Bundle { name public } } }"""
NESTED = """query($id: ID!) { a: node(id: $id) { ...B } } fragment B on Bundle { name }"""


def _data() -> PatchworkData:
    data = PatchworkData.from_seed()
    # a private bundle owned by the gateway's account (the admin token's user)
    data.bundles[2] = {**data.bundles[1], "id": 2, "name": "secret", "public": False}
    return data


async def test_private_bundles_are_hidden_from_anonymous_callers() -> None:
    env = {**ENV, "PW_TOKEN": ADMIN_TOKEN}
    async with guarded(data=_data(), env=env) as gw:

        async def names(key: str | None) -> list[str]:
            body = await gw.data(BUNDLES, key=key)
            return [b["name"] for b in body["data"]["bundles"]["nodes"]]

        assert "secret" not in await names(None)
        assert await names(None)  # the public one is still listed
        assert "secret" in await names(BOT_KEY)
        for query in (BY_ID, NESTED):
            anon: dict[str, Any] = await gw.data(query, {"id": SECRET}, key=None)
            assert "secret" not in str(anon["data"]), (query, anon)
            keyed = await gw.data(query, {"id": SECRET}, key=BOT_KEY)
            assert "secret" in str(keyed["data"]), (query, keyed)


async def test_patchwork_people_and_users_are_hidden_from_anonymous_callers() -> None:
    env = {**ENV, "PW_TOKEN": ADMIN_TOKEN}
    query = """query($id: ID!) { node(id: $id) { ... on Person { name email } } }"""
    async with guarded(env=env) as gw:
        for native in ("1", "u1"):
            pid = node.encode("Person", "pw", native)
            before = gw.upstream_requests()
            anon = await gw.data(query, {"id": pid}, key=None)
            assert anon["data"]["node"] is None, anon
            assert gw.upstream_requests() == before  # never read with the gateway's token
            keyed = await gw.data(query, {"id": pid}, key=BOT_KEY)
            assert keyed["data"]["node"] is not None, keyed


async def test_gerrit_drafts_and_reviewed_flags_are_hidden_from_anonymous_callers() -> None:
    query = """query($id: ID!) { node(id: $id) { ... on GerritRevision {
        drafts { message } reviewedFiles } } }"""
    async with gerrit_gateway(keyed=False) as gw:
        rid = node.encode("GerritRevision", "g", "1756/1")
        before = len(gw.sim.state.requests)
        body = await gw.data(query, {"id": rid})
        assert body["node"] == {"drafts": [], "reviewedFiles": []}, body
        sent = [r[1] for r in gw.sim.state.requests[before:]]
        assert not any("/drafts" in p or "/reviewed" in p for p in sent), sent


# --- Gerrit queries naming the caller (GraphQL) -------------------------------------------

# Every shape of "the signed-in user" in a Gerrit query: account operators given self/me
# (quoted, braced, negated, nested, any case), user-relative is:/has: values, label votes by
# self, star:, and a named query (the caller's own when no user= is given).
CALLER_QUERIES = [
    "owner:self",
    "status:open reviewer:self",
    "-owner:self",
    "status:open AND NOT (project:demo OR uploader:me)",
    'owner:"self"',
    "owner:{self}",
    "cc:SELF",
    "label:Code-Review=+2,user=self",
    "label:Verified=1,self",
    "is:owner",
    "is:REVIEWER",
    "(is:open OR is:starred)",
    "is:watched",
    "is:mine",
    "is:attention",
    "is:cc",
    "is:ignored",
    "has:draft",
    "has:star",
    "has:stars",
    "has:edit",
    "star:ignore",
    "starredby:self",
    "watchedby:me",
    "visibleto:self",
    "draftby:self",
    "commentby:self",
    "reviewedby:me",
    "query:mine",
    "query:name=mine,user=self",
]
GERRIT_CHANGES = """query($q: String!) {
    gerritChanges(backend: "g", gerritQuery: $q) { nodes { number } } }"""
FEDERATED = """query($q: String!) {
    changes(filter: {gerritQuery: $q, backends: ["g"]}) { nodes { id } } }"""
LABELS = """{ gerritChange(backend: "g", id: "3965") { labels { name permitted } } }"""


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def test_gerrit_queries_naming_the_caller_are_refused_to_anonymous_callers() -> None:
    keyed = {"Authorization": f"Bearer {GERRIT_KEY}"}
    async with gerrit_gateway(keyed=False) as gw:
        for q in CALLER_QUERIES:
            for doc in (GERRIT_CHANGES, FEDERATED):
                before = len(gw.sim.state.requests)
                body = await gw.query(doc, {"q": q})
                assert _codes(body) == ["UNAUTHENTICATED"], (q, body)
                assert "gateway" not in str(body) and "admin" not in str(body)
                assert gw.sim.state.requests[before:] == [], q  # refused before any request
        # With a key the caller is trusted with the backend credential: the query runs.
        resp = await gw.client.post(
            "/graphql",
            json={"query": GERRIT_CHANGES, "variables": {"q": "owner:self"}},
            headers=keyed,
        )
        assert [n["number"] for n in resp.json()["data"]["gerritChanges"]["nodes"]] == [9, 4801]
        # Queries about other accounts, or a value "self" where no account is meant, run.
        for q in ("owner:jdoe", "is:open", "label:Code-Review=+2,owner", "topic:me", "self"):
            before = len(gw.sim.state.requests)
            body = await gw.query(GERRIT_CHANGES, {"q": q})
            assert "UNAUTHENTICATED" not in _codes(body), (q, body)
            assert len(gw.sim.state.requests) > before, q


async def test_federated_author_self_is_not_sent_as_owner_self() -> None:
    # `author: "self"` is a name the gateway matches on the records; pushed down as
    # owner:self it would list the gateway account's changes.
    doc = """{ changes(filter: {author: "self", backends: ["g"]}) { nodes { id } } }"""
    async with gerrit_gateway(keyed=False) as gw:
        before = len(gw.sim.state.requests)
        body = await gw.data(doc)
        assert body["changes"]["nodes"] == []
        sent = [unquote(r[1]) for r in gw.sim.state.requests[before:]]
        assert sent and not any("self" in p for p in sent), sent


async def test_gerrit_permitted_votes_are_hidden_from_anonymous_callers() -> None:
    keyed = {"Authorization": f"Bearer {GERRIT_KEY}"}
    async with gerrit_gateway(keyed=False) as gw:
        anon = await gw.data(LABELS)
        assert anon["gerritChange"]["labels"]
        assert all(label["permitted"] == [] for label in anon["gerritChange"]["labels"]), anon
        resp = await gw.client.post("/graphql", json={"query": LABELS}, headers=keyed)
        labels = resp.json()["data"]["gerritChange"]["labels"]
        assert any(label["permitted"] for label in labels), labels


# --- Gerrit compat: a path without /a/ is an anonymous user's ------------------------------

PERSONAL_PATHS = [
    "changes/3965/revisions/2/drafts/",
    "changes/3965/revisions/current/drafts",
    "changes/3965/revisions/2/drafts/TvcXrmjN",
    "changes/3965/revisions/2/files/?reviewed",
    "changes/3965/revisions/2/files?reviewed=true",
    "accounts/self/capabilities",
    "accounts/self/capabilities?q=createAccount",
    "changes/3965/suggest_reviewers?q=J",
]
SELF_QUERIES = [
    "changes/?q=owner:self",
    "changes/?q=is:open+owner:self&q=is:open+reviewer:self",
    "changes/?q=status:open&q=is:starred",  # only the second query names the caller
    "changes/?q=label:Code-Review%3D%2B2,user%3Dself",
    "changes/?q=-has:draft&n=2",
    "changes/?q=(status:open+OR+watchedby:me)",
]


async def test_gerrit_compat_anonymous_view_never_serves_the_gateway_account() -> None:
    async with compat_gateway() as gw:
        gw.sim.state.data.changes[3965].starred_by.add(1000000)  # the gateway's account
        for paths, status, text in (
            (PERSONAL_PATHS, 403, "Authentication required"),
            (SELF_QUERIES, 400, "Must be signed-in to use this operator"),
        ):
            for path in paths:
                before = len(gw.sim.state.requests)
                anon = await gw.client.get(f"/rest/gerrit/{path}")
                assert (anon.status_code, anon.text.strip()) == (status, text), path
                assert gw.sim.state.requests[before:] == [], path
                keyed = await gw.client.get(f"/rest/gerrit/a/{path}", headers=basic("me", WRITER))
                assert len(gw.sim.state.requests) == before + 1, path  # asked as the account
                # the simulator evaluates some operators only (else its own 400)
                assert (keyed.status_code, keyed.text.strip()) != (status, text), path
        # Change answers lose the account's own flags (stars, reviewed, permitted votes …).
        path = "changes/3965?o=DETAILED_LABELS&o=REVIEWED&o=ALL_REVISIONS&o=DRAFT_COMMENTS"
        anon_change = decode(await gw.client.get(f"/rest/gerrit/{path}"))
        own = decode(await gw.client.get(f"/rest/gerrit/a/{path}", headers=basic("me", WRITER)))
        assert own["starred"] is True and own["permitted_labels"]
        assert any(r.get("has_draft_comments") for r in own["revisions"].values())
        assert "starred" not in anon_change and "reviewed" not in anon_change
        assert anon_change["permitted_labels"] == {}
        assert not any("has_draft_comments" in r for r in anon_change["revisions"].values())
        assert anon_change["labels"] == own["labels"]  # everything else as the backend sent
        listed = decode(await gw.client.get("/rest/gerrit/changes/?q=change:3965&o=REVIEWED"))
        assert listed and all("starred" not in c and "reviewed" not in c for c in listed)


# --- ABF: hidden projects and "the authenticated user" -------------------------------------

READER = "a2" * 20  # an ABF compat token

OLGA = "olga-token-" + "0" * 20  # a member of the hidden project 700 "secret" (the sim's)
ABF_KEY = "rgk-tester-Hidden-7000-Larch"
SECRET_PROJECT = node.encode("Project", "abf", "700")
SECRET_PR = node.encode("PullRequest", "abf", "700/1")
ABF_QUERIES = {
    "projects": '{ projects(first: 100, backends: ["abf"]) { nodes { id linkName } } }',
    "byName": '{ project(backend: "abf", linkName: "olga/secret") { id name } }',
    "byId": '{ node(id: "' + SECRET_PROJECT + '") { id ... on Project { name } } }',
    "pr": '{ node(id: "' + SECRET_PR + '") { id ... on PullRequest { title commits { sha } } } }',
    "prByNumber": '{ pullRequest(project: "700", number: 1) { title project { name } } }',
    "prs": """{ pullRequests(first: 100, filter: {involvement: ALL}) {
        totalCount nodes { id project { linkName } } } }""",
    "changes": """{ changes(first: 100, filter: {backends: ["abf"]}) {
        nodes { id project { linkName } } } }""",
}


@asynccontextmanager
async def abf_gateway() -> AsyncIterator[tuple[httpx.AsyncClient, AbfSim]]:
    data = AbfData.from_seed()
    data.tokens[OLGA] = 3
    sim = await start_abf(data)
    settings = settings_from_dict(
        {
            "backends": [{"name": "abf", "kind": "abf", "url": sim.url, "token_env": "ABF"}],
            "api_keys": [{"name": "tester", "sha256": hash_key(ABF_KEY)}],
            "compat": {"tokens": [{"name": "reader", "sha256": sha(READER), "write": False}]},
        },
        env={"ABF": OLGA},
    )
    app = create_app(settings)
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            yield client, sim
    finally:
        await app.state.backends.close()
        await sim.close()


async def _graphql(client: httpx.AsyncClient, query: str, key: str | None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    resp = await client.post("/graphql", json={"query": query}, headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_abf_hidden_projects_are_hidden_from_anonymous_graphql_callers() -> None:
    async with abf_gateway() as (client, _):
        for name, query in ABF_QUERIES.items():
            anon = await _graphql(client, query, None)
            keyed = await _graphql(client, query, ABF_KEY)
            assert "errors" not in keyed, (name, keyed)
            assert "secret" in str(keyed) or SECRET_PR in str(keyed), (name, keyed)  # it exists
            text = str(anon.get("data"))
            assert "secret" not in text and SECRET_PR not in text, (name, anon)
            assert SECRET_PROJECT not in text, (name, anon)
            codes = set(_codes(anon))
            assert codes <= {"NOT_FOUND"}, (name, anon)  # a hidden project is not found
        # Lists count visible items only: every public pull request, once, across pages.
        prs = """query($after: String) { pullRequests(first: 7, after: $after,
            filter: {involvement: ALL}) { pageInfo { hasNextPage endCursor } nodes { id } } }"""
        seen: list[str] = []
        after = None
        while True:
            resp = await client.post("/graphql", json={"query": prs, "variables": {"after": after}})
            page = resp.json()["data"]["pullRequests"]
            seen += [n["id"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        everything = (await _graphql(client, ABF_QUERIES["prs"], ABF_KEY))["data"]
        public = [n["id"] for n in everything["pullRequests"]["nodes"] if "secret" not in str(n)]
        assert seen == public and len(public) < everything["pullRequests"]["totalCount"]


async def test_abf_lists_of_the_signed_in_user_are_refused_to_anonymous_callers() -> None:
    queries = [
        "{ pullRequests { nodes { id } } }",  # ABF's default: assigned to the signed-in user
        "{ pullRequests(filter: {involvement: CREATED}) { nodes { id } } }",
        "{ pullRequests(filter: {scope: USER, involvement: ALL}) { nodes { id } } }",
        '{ pullRequests(filter: {scope: GROUP, group: "4"}) { nodes { id } } }',
        "{ abfViewer { username email } }",
    ]
    async with abf_gateway() as (client, sim):
        for query in queries:
            before = len(sim.state.requests)
            anon = await _graphql(client, query, None)
            assert _codes(anon) == ["UNAUTHENTICATED"], (query, anon)
            assert "olga" not in str(anon), anon
            assert sim.state.requests[before:] == [], query  # refused before any request
            keyed = await _graphql(client, query, ABF_KEY)
            assert "errors" not in keyed, (query, keyed)


ABF_HIDDEN = [
    "projects/700.json",
    "projects/700/pull_requests.json",
    "projects/700/pull_requests/1.json",
    "projects/700/pull_requests/1/commits.json",
    "projects/700/pull_requests/1/files.json",
    "projects/get_id.json?name=secret&owner=olga",
]
ABF_SIGNED_IN = [
    "user.json",
    "user/pull_requests.json",
    "pull_requests.json",
    "pull_requests.json?filter=created",
    "groups/4/pull_requests.json",
]


async def test_abf_compat_anonymous_callers_do_not_get_the_gateway_account_data() -> None:
    async with abf_gateway() as (client, sim):
        token = basic(READER, "")
        for paths, status, body in (
            (ABF_HIDDEN, 404, {"status": 404, "message": "Error 404. Resource not found!"}),
            (ABF_SIGNED_IN, 401, {"error": "You need to sign in or sign up before continuing."}),
        ):
            for path in paths:
                before = len(sim.state.requests)
                anon = await client.get(f"/rest/abf/api/v1/{path}")
                assert (anon.status_code, anon.json()) == (status, body), path
                sent = {p for _, p, _ in sim.state.requests[before:]}
                # at most the project's own detail or id lookup (its visibility), never the
                # data asked for
                assert sent <= {"/api/v1/projects/700.json", f"/api/v1/{path}"}, sent
                assert "pull_requests" not in str(sent) and "user" not in str(sent), sent
                keyed = await client.get(f"/rest/abf/api/v1/{path}", headers=token)
                assert keyed.status_code == 200, (path, keyed.text)
        for path in ("projects.json?per_page=100", "pull_requests.json?filter=all&per_page=100"):
            anon = await client.get(f"/rest/abf/api/v1/{path}")
            keyed = await client.get(f"/rest/abf/api/v1/{path}", headers=token)
            assert anon.status_code == keyed.status_code == 200, anon.text
            assert "secret" not in anon.text and "secret" in keyed.text, path


# --- fdo: submitter "self" ------------------------------------------------------------------

FDO_TOKEN = "fd" * 20  # the simulator's maintainer (person 21)
FDO_KEY = "rgk-tester-Forked-2121-Rowan"
FDO_SELF = [
    '{ patches(filter: {backend: "fdo", submitters: ["self"]}) { nodes { id } } }',
    '{ series(filter: {backend: "fdo", submitters: ["self"]}) { nodes { id } } }',
]


async def test_fdo_submitter_self_is_refused_to_anonymous_callers() -> None:
    sim = await start_fdo()
    settings = settings_from_dict(
        {
            "backends": [
                {"name": "fdo", "kind": "patchwork-fdo", "url": sim.url, "token_env": "FDO"}
            ],
            "api_keys": [{"name": "tester", "sha256": hash_key(FDO_KEY)}],
            "compat": {"tokens": [{"name": "reader", "sha256": sha(READER), "write": False}]},
        },
        env={"FDO": FDO_TOKEN},
    )
    app = create_app(settings)
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://revgate") as client:
            for query in FDO_SELF:
                before = len(sim.state.requests)
                anon = await _graphql(client, query, None)
                assert _codes(anon) == ["UNAUTHENTICATED"], (query, anon)
                assert sim.state.requests[before:] == [], query
                keyed = await _graphql(client, query, FDO_KEY)
                assert "errors" not in keyed and "UNAUTHENTICATED" not in str(keyed), keyed
            for path in ("patches/?submitter=self", "series/?submitter=self&perpage=2"):
                before = len(sim.state.requests)
                anon_rest = await client.get(f"/rest/fdo/api/1.0/{path}")
                assert anon_rest.status_code == 403, anon_rest.text
                assert anon_rest.json() == {"detail": "'self' needs an authenticated user."}
                assert sim.state.requests[before:] == [], path
                keyed_rest = await client.get(
                    f"/rest/fdo/api/1.0/{path}", headers={"Authorization": f"Token {READER}"}
                )
                assert keyed_rest.status_code == 200, keyed_rest.text
    finally:
        await app.state.backends.close()
        await sim.close()


# --- Gerrit draft (and private) changes -----------------------------------------------------

OPEN_PAGE = """query($after: String) { gerritChanges(backend: "g", gerritQuery: "status:open",
    first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { number } } }"""
DRAFT_CHANGE = node.encode("GerritChange", "g", "4801")  # a draft change of the gateway's account


async def _numbers(gw: Any, headers: dict[str, str]) -> list[int]:
    """Every change of the open list, page by page."""
    seen: list[int] = []
    after = None
    while True:
        resp = await gw.client.post(
            "/graphql", json={"query": OPEN_PAGE, "variables": {"after": after}}, headers=headers
        )
        page = resp.json()["data"]["gerritChanges"]
        seen += [n["number"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_gerrit_draft_changes_are_hidden_from_anonymous_callers() -> None:
    keyed = {"Authorization": f"Bearer {GERRIT_KEY}"}
    queries = [
        '{ gerritChanges(backend: "g", gerritQuery: "status:draft") { nodes { number } } }',
        '{ gerritChange(backend: "g", id: "4801") { number } }',
        '{ gerritChangesByNumber(backend: "g", numbers: [4801]) { number } }',
        '{ node(id: "' + DRAFT_CHANGE + '") { id ... on GerritChange { title } } }',
        '{ changes(first: 50, filter: {backends: ["g"]}) { nodes { id title } } }',
    ]
    async with gerrit_gateway(keyed=False) as gw:
        for query in queries:
            anon = await gw.data(query)
            resp = await gw.client.post("/graphql", json={"query": query}, headers=keyed)
            own = resp.json()["data"]
            assert "4801" in str(own) or DRAFT_CHANGE in str(own), own  # the account sees it
            assert "4801" not in str(anon) and DRAFT_CHANGE not in str(anon), anon
        # Pages count shown changes only: nothing skipped, nothing twice.
        shown, everything = await _numbers(gw, {}), await _numbers(gw, keyed)
        assert 4801 in everything and shown == [n for n in everything if n != 4801]


async def test_gerrit_compat_anonymous_view_hides_draft_changes() -> None:
    async with compat_gateway() as gw:
        for path in ("changes/4801", "changes/4801/detail", "changes/4801/revisions/1/review"):
            anon = await gw.client.get(f"/rest/gerrit/{path}")
            assert (anon.status_code, anon.text.strip()) == (404, "Not found"), path
            own = await gw.client.get(f"/rest/gerrit/a/{path}", headers=basic("me", WRITER))
            assert own.status_code == 200, path
        listed = decode(await gw.client.get("/rest/gerrit/changes/?q=status:open"))
        own_list = decode(
            await gw.client.get(
                "/rest/gerrit/a/changes/?q=status:open", headers=basic("me", WRITER)
            )
        )
        numbers = [c["_number"] for c in listed]
        assert 4801 in [c["_number"] for c in own_list] and 4801 not in numbers
