"""Plain JSON POSTs read without strawberry's header parse answer as strawberry's own reading.

``gateway/over_http.py`` ``PlainPosts`` keeps, per (Content-Type, Accept) pair, whether a POST
is one JSON body over plain HTTP, and ``request_data`` reads it as strawberry's
``parse_http_body`` does. Each request below is sent with that shortcut and without it
(strawberry's reading); status, media type and body must be the same.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from gateway.over_http import PlainPosts
from tests.conftest import Gateway

QUERY = "{ backends { name } }"
BODIES = [
    orjson.dumps({"query": QUERY}),
    orjson.dumps({"query": QUERY, "variables": None, "operationName": None}),
    orjson.dumps({"query": "query Q($n: Int) { backends { name } }", "variables": {"n": 1}}),
    orjson.dumps({"query": 1}),
    orjson.dumps({"query": QUERY, "variables": []}),
    orjson.dumps({"query": QUERY, "extensions": "x"}),
    orjson.dumps({"query": QUERY, "extensions": {}}),
    orjson.dumps({"variables": {}}),
    orjson.dumps({"query": "{ nope }"}),
    orjson.dumps({"query": "mutation { x }"}),
    orjson.dumps([{"query": QUERY}]),
    b"{",
    b"[]",
    b"null",
]
HEADERS = [
    {"Content-Type": "application/json"},
    {"Content-Type": "application/json; charset=utf-8"},
    {"Content-Type": "application/json", "Accept": "application/graphql-response+json"},
    {"Content-Type": "application/json", "Accept": "*/*"},
    {"Content-Type": "application/json", "Accept": "text/event-stream"},
    {"Content-Type": "application/json", "Accept": 'multipart/mixed;subscriptionSpec="1.0"'},
    {"Content-Type": "text/plain"},
    {"Content-Type": "application/jsonx"},
    {},
]


async def _answer(gateway: Gateway, body: bytes, headers: dict[str, str]) -> tuple[Any, ...]:
    resp = await gateway.client.post("/graphql", content=body, headers=headers)
    media = resp.headers.get("content-type", "")
    try:
        decoded: Any = resp.json()
    except ValueError:  # a stream: its cost report changes from one request to the next
        decoded = re.sub(r'"(remaining|requestId|resetAt)":("[^"]*"|\d+)', "", resp.text)
        decoded = re.sub(r"Content-Length: \d+", "", decoded)
    if isinstance(decoded, dict):
        decoded.pop("extensions", None)  # the cost report: the same, but keep it out of it
        for error in decoded.get("errors") or ():
            error.get("extensions", {}).pop("requestId", None)
    return resp.status_code, media, decoded


@pytest.mark.parametrize("headers", HEADERS)
async def test_plain_posts_answer_as_strawberry_reads_them(
    gateway: Gateway, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    real = PlainPosts.applies

    def counting(self: PlainPosts, request: Any) -> bool:
        taken.append(real(self, request))
        return taken[-1]

    for body in BODIES:
        monkeypatch.setattr(PlainPosts, "applies", counting)
        short = await _answer(gateway, body, headers)
        monkeypatch.setattr(PlainPosts, "applies", lambda self, request: False)
        plain = await _answer(gateway, body, headers)
        assert short == plain, (body, headers)
    # strawberry's own test: the media type *contains* application/json
    plain_json = "application/json" in headers.get("Content-Type", "")
    streaming = headers.get("Accept", "").startswith(("text/event-stream", "multipart/"))
    assert any(taken) == (plain_json and not streaming), headers


def test_plain_posts_are_bounded() -> None:
    class Request:
        method = "POST"

        def __init__(self, n: int) -> None:
            self.content_type = "application/json"
            self.headers = {"accept": f"type/{n}"}

    plain = PlainPosts(lambda headers: None)
    assert all(plain.applies(Request(n)) for n in range(1000))
    assert len(plain._known) <= 256
