"""Strategies for fuzzing the gateway's HTTP surface, and the checks every answer must pass.

``SURFACE`` lists the routes that exist; the compat layer's REST paths (``/rest/<backend>/…``)
join it when they are mounted, and ``http_requests()`` then fuzzes them too. Each strategy
draws a plain ``FuzzRequest`` so that the same requests can be replayed in-process, over a
socket, or collected up front (``collect``) for a scenario run such as the secrets test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from schema import node

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


@dataclass(frozen=True)
class Route:
    """One path the gateway serves and the methods it answers."""

    path: str
    methods: tuple[str, ...]


SURFACE: tuple[Route, ...] = (
    Route("/", ("GET",)),
    Route("/healthz", ("GET",)),
    Route("/readyz", ("GET",)),
    Route("/metrics", ("GET",)),
    Route("/graphql", ("GET", "POST")),
)
# The compat layer re-serves backend "pw" under /rest/pw/ (gateway/compat.py); an unknown
# backend must be a plain 404.
COMPAT_PREFIXES: tuple[str, ...] = (
    "/rest/pw/api/1.3/",
    "/rest/pw/api/",
    "/rest/pw/",
    "/rest/nope/api/1.3/",
)
COMPAT_RESOURCES = (
    "patches", "projects", "series", "covers", "events", "users", "people", "bundles",
    "checks", "comments", "mbox", "raw", "project", "patch", "cover", "user", "",
)  # fmt: skip
COMPAT_IDS = ("1", "3", "0", "-1", "99999999999999999999", "x", "1.5", "%00", "Ā", "..")
COMPAT_PARAMS = (
    "page", "per_page", "order", "state", "since", "before", "q", "project", "submitter",
    "delegate", "archived", "series", "msgid", "hash",
)  # fmt: skip


@dataclass(frozen=True)
class FuzzRequest:
    """One HTTP request to the gateway."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    label: str = ""

    def describe(self) -> str:
        return f"{self.label}: {self.method} {self.path} {self.params!r} {self.body[:200]!r}"


@dataclass
class Verdict:
    """Why an answer is unacceptable; empty when it is fine."""

    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not self.problems


TRACE_MARKERS = ("Traceback", 'File "/', "site-packages", '.py", line')


def check_answer(
    request: FuzzRequest, status: int, body: str, *, internal_ok: bool = False
) -> Verdict:
    """No 5xx, no traceback or source path, and no masked internal error for GraphQL."""
    verdict = Verdict()
    if status >= 500:
        verdict.problems.append(f"HTTP {status}")
    for marker in TRACE_MARKERS:
        if marker in body:
            verdict.problems.append(f"{marker!r} in the body")
    if not internal_ok and "Internal server error" in body:
        verdict.problems.append("an unexpected exception was masked (Internal server error)")
    return verdict


# -- GraphQL documents from the committed schema (schemathesis) -------------------------------


@cache
def graphql_schema() -> Any:
    """The committed SDL loaded by schemathesis, with a strategy for our DateTime scalar."""
    schemathesis.graphql.scalar(
        "DateTime",
        st.one_of(
            st.datetimes().map(lambda d: nodes.String(d.isoformat())),
            st.text(max_size=30).map(nodes.String),
        ),
    )
    return schemathesis.graphql.from_path(SCHEMA_FILE)


def graphql_operations() -> list[Any]:
    """Every root field of the schema as a schemathesis operation (Query.* and Mutation.*)."""
    return [result.ok() for result in graphql_schema().get_all_operations()]


def graphql_documents() -> st.SearchStrategy[FuzzRequest]:
    """Valid GraphQL documents over every root field, POSTed as JSON."""
    strategy: st.SearchStrategy[Any] = graphql_schema().as_strategy()
    return strategy.map(_case_request)


def _case_request(case: Any) -> FuzzRequest:
    return graphql_post({"query": case.body}, label=f"schemathesis {case.operation.label}")


def graphql_post(payload: Any, label: str = "") -> FuzzRequest:
    """A JSON POST to /graphql."""
    return FuzzRequest(
        "POST",
        "/graphql",
        headers=(("Content-Type", "application/json"),),
        body=json.dumps(payload).encode(),
        label=label,
    )


# -- hand-written strategies over the raw HTTP surface ----------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

QUERY_SNIPPETS = (
    "{ backends { name kind url apiVersion } }",
    "query($id: ID!) { node(id: $id) { id ... on Patch { title state checks { state } } } }",
    "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
    "query($n: Int, $a: String) { patches(first: $n, after: $a) { nodes { id } pageInfo"
    " { hasNextPage endCursor } totalCount } }",
    "query($f: PatchFilterInput) { patches(first: 3, filter: $f) { nodes { id title } } }",
    "query($f: SeriesFilterInput) { series(first: 3, filter: $f) { nodes { id name } } }",
    "query($f: EventFilterInput) { events(first: 3, filter: $f) { nodes { id category } } }",
    "query($b: String, $l: String) { project(backend: $b, linkName: $l) { name } }",
    "mutation($i: UpdatePatchInput!) { updatePatch(input: $i) { patch { id } errors"
    " { code message } } }",
    "mutation($i: CreateCheckInput!) { createCheck(input: $i) { check { id } errors"
    " { code message } } }",
    "{ __schema { queryType { name } } }",
    "{ patches(first: 100) { nodes { id } } }",
    "{",
    "",
    "subscription { x }",
    "query A { backends { name } } query B { backends { kind } }",
)

global_ids = st.one_of(
    st.text(max_size=30),
    st.builds(
        node.encode,
        st.sampled_from(["Patch", "Series", "Cover", "Project", "Person", "Bundle", "Backend"]),
        st.sampled_from(["pw", "good", "nope", ""]),
        st.one_of(st.text(max_size=8), st.integers(-5, 10**12).map(str)),
    ),
)

variables = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(global_ids, json_values),
            "ids": st.lists(global_ids, max_size=5),
            "n": st.one_of(st.integers(-10, 1000), json_values),
            "a": st.one_of(st.text(max_size=20), json_values),
            "b": st.sampled_from(["pw", "good", "nope"]),
            "l": st.sampled_from(["patchwork", "netdev", "x"]),
            "f": json_values,
            "i": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {"id": global_ids},
                    optional={"state": st.text(max_size=10), "archived": json_values},
                ),
                st.fixed_dictionaries(
                    {"patchId": global_ids, "context": st.text(max_size=10)},
                    optional={"state": st.sampled_from(["SUCCESS", "FAIL", "bogus"])},
                ),
            ),
        },
    ),
)

graphql_payloads = st.one_of(
    st.fixed_dictionaries(
        {"query": st.sampled_from(QUERY_SNIPPETS)},
        optional={"variables": variables, "operationName": st.one_of(st.text(max_size=5))},
    ),
    st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions", "x"]),
        json_values,
        max_size=4,
    ),
    json_values,
)

CONTENT_TYPES = (
    "application/json",
    "application/json; charset=latin-1",
    "application/graphql",
    "application/graphql-response+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "",
    'application/json; charset=utf-8; boundary="x"',
    "APPLICATION/JSON",
)


@st.composite
def graphql_bodies(draw: st.DrawFn) -> FuzzRequest:
    """POST /graphql with a JSON payload, raw bytes or text, under any content type."""
    body = draw(
        st.one_of(
            graphql_payloads.map(lambda p: json.dumps(p).encode()),
            st.binary(max_size=200),
            st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        )
    )
    ctype = draw(st.sampled_from(CONTENT_TYPES))
    headers = (("Content-Type", ctype),) if ctype else ()
    return FuzzRequest("POST", "/graphql", headers=headers, body=body, label="graphql body")


query_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=60
)


@st.composite
def graphql_gets(draw: st.DrawFn) -> FuzzRequest:
    """GET /graphql with a random query string (queries over GET are not allowed)."""
    params = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["query", "variables", "operationName", "x", ""]),
                st.one_of(st.sampled_from(QUERY_SNIPPETS), query_text),
            ),
            max_size=3,
        )
    )
    accept = draw(st.sampled_from(["text/html", "application/json", "*/*", ""]))
    headers = (("Accept", accept),) if accept else ()
    return FuzzRequest("GET", "/graphql", tuple(params), headers, label="graphql get")


path_segments = st.text(
    st.characters(categories=["Ll", "Lu", "Nd", "Pd", "Po", "So"], exclude_characters="/?#%"),
    min_size=1,
    max_size=12,
)


@st.composite
def http_requests(draw: st.DrawFn) -> FuzzRequest:
    """Any method on a known route, a compat prefix or a random path."""
    prefix = draw(st.sampled_from(["", *(r.path for r in SURFACE), *COMPAT_PREFIXES, "/graphql/"]))
    tail = draw(st.lists(path_segments, max_size=3))
    path = "/" + "/".join([p for p in prefix.split("/") if p] + tail)
    if draw(st.booleans()):
        path += "/"
    method = draw(st.sampled_from(METHODS))
    params = tuple(draw(st.lists(st.tuples(path_segments, query_text), max_size=2)))
    body = draw(st.one_of(st.just(b""), st.binary(max_size=50)))
    return FuzzRequest(method, path, params, body=body, label="http")


@st.composite
def compat_requests(draw: st.DrawFn) -> FuzzRequest:
    """Patchwork REST requests through the compat layer: real resource names and ids mixed
    with garbage, real filter names with fuzzed values, writes with odd bodies, with and
    without a token."""
    version = draw(st.sampled_from(["api/1.3", "api/1.2", "api/1.0", "api", "api/9.9"]))
    names = st.sampled_from(COMPAT_RESOURCES)
    ids = st.one_of(st.sampled_from(COMPAT_IDS), path_segments)
    parts = draw(st.lists(st.one_of(names, ids), min_size=0, max_size=4))
    path = "/rest/pw/" + "/".join([version, *(p for p in parts if p)])
    if draw(st.booleans()):
        path += "/"
    method = draw(st.sampled_from(("GET", "GET", "HEAD", "POST", "PATCH", "PUT", "DELETE")))
    values = st.one_of(st.sampled_from(["1", "-1", "0", "true", "x", "", "2024-01-01"]), query_text)
    params = tuple(draw(st.lists(st.tuples(st.sampled_from(COMPAT_PARAMS), values), max_size=3)))
    headers: tuple[tuple[str, str], ...] = ()
    auth = draw(st.sampled_from(["none", "good", "bad"]))
    if auth != "none":
        token = "a0" * 20 if auth == "good" else "not-a-token"
        headers = (("Authorization", f"Token {token}"),)
    body = b""
    if method in ("POST", "PATCH", "PUT"):
        body = draw(
            st.one_of(
                st.binary(max_size=40),
                st.dictionaries(
                    st.sampled_from(["state", "archived", "delegate", "context", "target_url"]),
                    st.one_of(st.none(), st.booleans(), st.integers(), query_text),
                    max_size=3,
                ).map(lambda d: json.dumps(d).encode()),
            )
        )
        headers += (("Content-Type", "application/json"),)
    return FuzzRequest(method, path, params, headers=headers, body=body, label="compat")


def any_request() -> st.SearchStrategy[FuzzRequest]:
    """Every kind of fuzzed request."""
    return st.one_of(graphql_documents(), graphql_bodies(), graphql_gets(), http_requests())


FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,  # the suite must be reproducible: same requests every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def collect(strategy: st.SearchStrategy[FuzzRequest], count: int) -> list[FuzzRequest]:
    """``count`` requests drawn (reproducibly) from ``strategy``, for replaying elsewhere."""
    drawn: list[FuzzRequest] = []

    @settings(FUZZ_SETTINGS, max_examples=count, phases=[Phase.generate])
    @given(strategy)
    def draw(request: FuzzRequest) -> None:
        drawn.append(request)

    draw()
    return drawn


Sender = Callable[[FuzzRequest], tuple[int, str]]
