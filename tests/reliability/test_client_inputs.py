"""Client mistakes, every shape (issue 15, item 12): each is answered with a coded error —
never a 500, a masked ``INTERNAL_SERVER_ERROR`` or a traceback in the log — and a request
whose variables do not coerce is not charged to the caller's cost budget.

Covered: DateTime values at and past the ends of the calendar (in variables and literals,
in every filter that takes one), huge and negative numbers, wrong types, missing
variables, bad enum values, bad cursors and ids, several operations without
``operationName``, an unknown one, a subscription over POST, syntax errors, empty and
non-string queries, non-object variables, invalid JSON and wrong content types; and with
introspection off, no "Did you mean …" naming the schema. A hypothesis fuzzer then throws
arbitrary JSON at every variable position.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema import node
from tests.gateway.guarded import BOT_KEY, Guarded, bearer, guarded
from tests.reliability.harness import LogCapture, capture_logs

CHANGES = "query($d: DateTime) { changes(filter: {%s: $d}) { totalCount nodes { id } } }"
EVENTS = "query($d: DateTime) { events(filter: {%s: $d}) { nodes { id } } }"
DATETIME_QUERIES = [CHANGES % "updatedSince", CHANGES % "updatedBefore", EVENTS % "since"]
BAD_DATES: list[object] = [
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC: OverflowError
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
    "0001-01-01T00:00:00Z",  # the very first instant: no room for the adapters' ±1 µs
    "9999-12-31T23:59:59.999999",
    "not a date",
    "2020-13-45T00:00:00Z",
    "",
    "2020-01-01T00:00:00+99:00",
    12345,
    1.5e308,
    True,
    ["2020-01-01"],
    {"a": 1},
]
EXPENSIVE = (
    "query($n: Int!, $d: DateTime) { changes(first: $n, filter: {updatedSince: $d}) "
    "{ nodes { comments(first: 10) { nodes { id } } } } }"
)


@dataclass
class Case:
    """One request: a JSON body (or raw bytes) and the codes its errors may carry."""

    codes: set[str]
    body: object = None
    raw: bytes | None = None
    content_type: str = "application/json"
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)


def _q(query: str, **extra: object) -> dict[str, object]:
    return {"query": query, **extra}


PATCH = node.encode("Patch", "pw", "3")
INPUT = {"BAD_USER_INPUT"}
INVALID = {"GRAPHQL_VALIDATION_FAILED"}
CASES: dict[str, Case] = {
    **{
        f"datetime {q.split('{')[2].split(':')[0].strip()} {v!r}": Case(
            INPUT, _q(q, variables={"d": v})
        )
        for q in DATETIME_QUERIES
        for v in BAD_DATES
    },
    "datetime literal overflow": Case(
        INVALID,
        _q('{ changes(filter: {updatedSince: "0001-01-01T00:00:00+14:00"}) { totalCount } }'),
    ),
    "datetime literal past the end": Case(
        INVALID, _q('{ events(filter: {before: "9999-12-31T23:59:59-14:00"}) { nodes { id } } }')
    ),
    "int too large (variable)": Case(INPUT, _q(EXPENSIVE, variables={"n": 2**40})),
    "int too large (literal)": Case(
        INVALID, _q("{ patches(first: 99999999999999999999) { totalCount } }")
    ),
    "int as float": Case(INPUT, _q(EXPENSIVE, variables={"n": 1.5})),
    "negative first": Case({"BAD_PAGE_SIZE"}, _q(EXPENSIVE, variables={"n": -1})),
    "wrong type": Case(INPUT, _q(EXPENSIVE, variables={"n": "ten"})),
    "missing variable": Case(INPUT, _q(EXPENSIVE, variables={})),
    "null for non-null": Case(INPUT, _q(EXPENSIVE, variables={"n": None})),
    "bad enum": Case(
        INPUT,
        _q(
            "query($s: [ChangeState!]) { changes(filter: {states: $s}) { totalCount } }",
            variables={"s": ["NOPE"]},
        ),
    ),
    "bad enum literal": Case(INVALID, _q("{ changes(filter: {states: [NOPE]}) { totalCount } }")),
    "bad cursor": Case({"BAD_CURSOR"}, _q('{ patches(after: "%%%") { totalCount } }')),
    "bad base64 cursor": Case({"BAD_CURSOR"}, _q('{ patches(after: "////") { totalCount } }')),
    "bad id": Case({"BAD_ID"}, _q('{ node(id: "!!!") { id } }')),
    "id of another type": Case(
        {"BAD_ID"}, _q("query($id: ID!) { project(id: $id) { id } }", variables={"id": PATCH})
    ),
    "long string": Case(
        set(),
        _q(
            "query($s: String) { changes(filter: {search: $s}) { totalCount } }",
            variables={"s": "x" * 100_000},
        ),
    ),
    "two operations, no name": Case(
        {"OPERATION_RESOLUTION_FAILURE"}, _q("query A { backends { name } } query B { __typename }")
    ),
    "unknown operation name": Case(
        {"OPERATION_RESOLUTION_FAILURE"}, _q("query A { backends { name } }", operationName="Z")
    ),
    "subscription over POST": Case({"OPERATION_NOT_ALLOWED"}, _q("subscription { events { id } }")),
    "mutation over GET": Case(
        {"OPERATION_NOT_ALLOWED"},
        method="GET",
        params={"query": 'mutation { gerritSetTopic(change: "x", topic: "t") { topic } }'},
    ),
    "syntax error": Case({"GRAPHQL_PARSE_FAILED"}, _q("{ backends { ")),
    "blank document": Case({"GRAPHQL_PARSE_FAILED"}, _q("   ")),
    "empty document": Case({"BAD_REQUEST"}, _q("")),
    "no query": Case({"BAD_REQUEST"}, {"variables": {}}),
    "non-string query": Case({"BAD_REQUEST"}, _q(5)),  # type: ignore[arg-type]
    "list variables": Case({"BAD_REQUEST"}, _q("{ __typename }", variables=[1])),
    "string variables": Case({"BAD_REQUEST"}, _q("{ __typename }", variables="x")),
    "non-string operationName": Case(
        {"OPERATION_RESOLUTION_FAILURE"}, _q("{ __typename }", operationName=5)
    ),
    "invalid JSON": Case({"BAD_REQUEST"}, raw=b'{"query": '),
    "NaN in JSON": Case(
        {"BAD_REQUEST"}, raw=b'{"query": "{ __typename }", "variables": {"n": NaN}}'
    ),
    "invalid UTF-8": Case({"BAD_REQUEST"}, raw=b'{"query": "\xff"}'),
    "JSON null body": Case({"BAD_REQUEST"}, raw=b"null"),
    "wrong content type": Case({"BAD_REQUEST"}, raw=b"{ __typename }", content_type="text/plain"),
}


@pytest.fixture
async def gw() -> AsyncIterator[Guarded]:
    async with guarded(limits={"cost_per_minute": 10_000, "requests_per_minute": 0}) as gateway:
        yield gateway


async def _send(gw: Guarded, case: Case) -> tuple[int, dict[str, Any]]:
    headers = {**bearer(BOT_KEY), "content-type": case.content_type}
    content = case.raw if case.raw is not None else orjson.dumps(case.body)
    if case.method == "GET":
        resp = await gw.client.get("/graphql", params=case.params, headers=bearer(BOT_KEY))
    else:
        resp = await gw.client.post("/graphql", content=content, headers=headers)
    return resp.status_code, resp.json()


def _check(status: int, body: dict[str, Any], logs: LogCapture, codes: set[str]) -> list[str]:
    """The answer is a client error or data, every error coded, no traceback logged."""
    assert status < 500, body
    errors = body.get("errors") or []
    got = [e.get("extensions", {}).get("code") for e in errors]
    assert all(got), body
    assert "INTERNAL_SERVER_ERROR" not in got, body
    if codes:
        assert got and got[0] in codes, body
    # (aiohttp.server is the simulator behind the gateway, in this process.)
    ours = [line for line in logs.lines if "aiohttp.server" not in line]
    assert not [line for line in ours if "Traceback" in line or line.startswith("ERROR")], ours
    return [str(c) for c in got]


async def _remaining(gw: Guarded) -> int:
    body = await gw.data("{ rateLimit { remaining } }", key=BOT_KEY)
    return int(body["data"]["rateLimit"]["remaining"])


@pytest.mark.parametrize("name", list(CASES))
async def test_client_mistake_is_a_coded_error(gw: Guarded, name: str) -> None:
    case = CASES[name]
    before = await _remaining(gw)
    with capture_logs() as logs:
        status, body = await _send(gw, case)
    codes = _check(status, body, logs, case.codes)
    if codes and codes[0] in INPUT | INVALID | {"OPERATION_RESOLUTION_FAILURE"}:
        # Refused before it was costed: not charged (the rateLimit probe itself costs 1;
        # the bucket refills meanwhile, so allow a little either way).
        assert "cost" not in (body.get("extensions") or {}), body
        assert await _remaining(gw) >= before - 2


async def test_variable_errors_are_not_charged(gw: Guarded) -> None:
    """A costly operation with bad variables, ten times: the budget does not move (each would
    cost 1 + 100 = 101 points if charged)."""
    before = await _remaining(gw)
    for _ in range(10):
        status, body = await _send(gw, Case(INPUT, _q(EXPENSIVE, variables={"n": "x"})))
        assert status == 200 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await _remaining(gw) >= before - 2  # 1,010 points if they were charged


async def test_valid_datetimes_are_served(gw: Guarded) -> None:
    """The scalar still takes ordinary times, naive ones as UTC, offsets converted."""
    for value in ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00", "2020-01-01T05:30:00+05:30"]:
        for query in DATETIME_QUERIES:
            body = await gw.data(query, {"d": value}, key=BOT_KEY)
            assert "errors" not in body, (query, value, body)


@pytest.mark.parametrize("introspection", [True, False])
async def test_suggestions_only_with_introspection(introspection: bool) -> None:
    misspelt = {
        "field": "{ patchez { totalCount } }",
        "argument": "{ patches(frist: 1) { totalCount } }",
        "type": "query($s: ChangeStat) { changes { totalCount } }",
        "enum literal": "{ changes(filter: {states: [OPNE]}) { totalCount } }",
        "enum variable": (
            "query($s: [ChangeState!]) { changes(filter: {states: $s}) { totalCount } }"
        ),
        "input field": "{ changes(filter: {updatedSinc: null}) { totalCount } }",
    }
    async with guarded(server={"introspection": introspection}) as gw:
        for what, query in misspelt.items():
            variables = {"s": ["OPNE"]} if what == "enum variable" else None
            with capture_logs() as logs:
                resp = await gw.post(query, variables, headers=bearer(BOT_KEY))
            body = resp.json()
            _check(resp.status_code, body, logs, set())
            text = orjson.dumps(body).decode()
            assert ("Did you mean" in text) is introspection, (what, body)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FUZZ_QUERY = """query(
  $d: DateTime, $n: Int, $id: ID!, $s: [ChangeState!], $c: String, $b: [String!]
) {
  changes(first: $n, after: $c, filter: {updatedSince: $d, states: $s, backends: $b}) { totalCount }
  node(id: $id) { id }
}"""


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    values=st.fixed_dictionaries({}, optional={k: JSON for k in ["d", "n", "id", "s", "c", "b"]})
)
async def test_fuzzed_variables_are_coded_errors_or_data(
    gw: Guarded, values: dict[str, Any]
) -> None:
    with capture_logs() as logs:
        status, body = await _send(gw, Case(set(), _q(FUZZ_QUERY, variables=values)))
    _check(status, body, logs, set())
