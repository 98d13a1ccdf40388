"""Golden-style tests of every documented Gerrit read through the compat layer: for each
endpoint (change by every id form, revisions by every revision id form, reviewers, files,
diffs, downloads, comments, drafts …) the gateway in front of the Gerrit simulator answers
with the status and the JSON (or downloaded bytes) the simulator gives directly — with and
without ``/a/`` — and its refusals (404, 400) with Gerrit's text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.gateway.gerrit_support import (
    ADMIN,
    WRITER,
    GerritGateway,
    anonymous_json,
    basic,
    decode,
    gerrit_gateway,
    same_answer,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHANGE_IDS = [
    "3965",
    "I8473b95934b5732ac55d26311a706c9c2bde9940",
    "myProject~master~I8473b95934b5732ac55d26311a706c9c2bde9940",
]
REVISION_IDS = ["current", "674ac754f91e64a0efb8087e59a176484bd534d1", "674ac754", "2"]
FILE = (
    "gerrit-server%2Fsrc%2Fmain%2Fjava%2Fcom%2Fgoogle%2Fgerrit%2Fserver%2Fproject%2FRefControl.java"
)

CHANGE_READS = [
    "",
    "/detail",
    "/topic",
    "/in",
    "/reviewers/",
    "/reviewers/jdoe",
    "/reviewers/John%20Doe",
    "/reviewers/john.doe@example.com",
    "/suggest_reviewers?q=J&n=5",
    "/suggest_reviewers?q=my",
    "?o=LABELS",
    "?o=DETAILED_LABELS&o=DETAILED_ACCOUNTS",
    "?o=LABELS&o=DETAILED_LABELS",
    "?o=MESSAGES&o=DETAILED_ACCOUNTS",
    "?o=ALL_REVISIONS&o=ALL_COMMITS&o=ALL_FILES&o=DOWNLOAD_COMMANDS&o=DRAFT_COMMENTS",
    "?o=CURRENT_REVISION&o=CURRENT_COMMIT&o=CURRENT_FILES&o=REVIEWED",
]
REVISION_READS = [
    "/commit",
    "/review",
    "/files/",
    "/files/?reviewed",
    f"/files/{FILE}/content",
    "/files/%2FCOMMIT_MSG/content",
    f"/files/{FILE}/diff",
    f"/files/{FILE}/diff?intraline",
    f"/files/{FILE}/diff?base=1",
    f"/files/{FILE}/diff?context=3",
    f"/files/{FILE}/diff?ignore-whitespace=ALL&context=ALL",
    "/patch",
    "/patch?download",
    "/patch?zip",
    "/mergeable",
    "/submit_type",
    "/drafts/",
    "/drafts/TvcXrmjN",
    "/comments/",
    "/comments/TveXwFiA",
]
OTHER_READS = [
    "changes/9",
    "changes/packages%2Ftest~master~Ieabd72e73f3da0df90fd6e8cba8f6c5dd7d120df/detail",
    "changes/9/in",
    "changes/9/revisions/1/mergeable",
    "changes/3965/revisions/1/files/",
    "changes/3965/revisions/b6b9c106/commit",
    "changes/?q=status:open+project:myProject&n=2&o=LABELS",
    "changes/?q=status:open&n=2&S=2",
    "changes/?q=is:open+owner:self&q=is:open+reviewer:self+-owner:self&q=status:merged",
    "projects/",
    "projects/?d",
    "projects/packages%2Ftest",
    "accounts/self/capabilities",
    "accounts/self/capabilities?q=createAccount&q=createGroup",
]
REFUSED_READS = [
    "changes/424242",  # 404 unknown change
    "changes/424242/revisions/current/files/",
    "changes/3965/revisions/9/commit",  # no such patch set
    "changes/3965/revisions/abcdef12/review",  # no such sha
    "changes/3965/revisions/current/files/nope.txt/diff",
    "changes/3965/revisions/current/comments/zzzz",
    "changes/3965/revisions/current/drafts/zzzz",
    "changes/3965/reviewers/nobody",
    "projects/no-such-project",
    "changes/3965/suggest_reviewers",  # 400: q is required
    "changes/?q=foo:bar",  # 400: unsupported operator
    "changes/?o=LABELS",  # 400: missing query
    f"changes/3965/revisions/current/files/{FILE}/diff?context=abc",  # 400
    f"changes/3965/revisions/current/files/{FILE}/diff?ignore-whitespace=SOME",  # 400
]

PATHS = (
    [f"changes/{cid}{tail}" for cid in CHANGE_IDS for tail in CHANGE_READS]
    + [
        f"changes/{cid}/revisions/{rev}{tail}"
        for cid in CHANGE_IDS[:2]
        for rev in REVISION_IDS
        for tail in REVISION_READS
    ]
    + [f"changes/{CHANGE_IDS[2]}/revisions/{rev}/files/" for rev in REVISION_IDS]
    + OTHER_READS
    + REFUSED_READS
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[GerritGateway]:
    async with gerrit_gateway() as running:
        yield running


def anonymous_refusal(path: str) -> tuple[int, str] | None:
    """Gerrit's answer to an anonymous user where the signed-in user's own data is asked."""
    personal = ("/drafts/", "/files/?reviewed", "/suggest_reviewers", "accounts/self/")
    if any(marker in path for marker in personal):
        return 403, "Authentication required"
    if ":self" in path:
        return 400, "Must be signed-in to use this operator"
    return None


@pytest.mark.parametrize("auth", ["a/", ""], ids=["authenticated", "anonymous"])
@pytest.mark.parametrize("path", PATHS)
async def test_gerrit_read_answers_as_the_backend(gw: GerritGateway, path: str, auth: str) -> None:
    # Anonymous compat reads use the gateway's own credential: the reference answer is the
    # backend's answer to that account, less what only that account may see (Gerrit's
    # anonymous answer, given without asking the backend).
    direct = await gw.direct.get(f"/a/{path}", headers=basic(*ADMIN))
    headers = basic("me", WRITER) if auth else {}
    before = len(gw.sim.state.requests)
    resp = await gw.client.get(f"/rest/gerrit/{auth}{path}", headers=headers)
    refused = None if auth else anonymous_refusal(path)
    if refused is not None:
        assert (resp.status_code, resp.text.strip()) == refused, resp.text
        assert gw.sim.state.requests[before:] == []
        return
    same_answer(resp, direct, expect=None if auth else anonymous_json)
    if auth or direct.status_code < 400:
        assert len(gw.sim.state.requests) - before == 1  # one upstream request per request


async def test_every_documented_read_is_covered() -> None:
    # The GET endpoints of the changes document (and the overview's), by their last segment.
    covered = {p.split("?")[0].rstrip("/").rsplit("/", 1)[-1] for p in PATHS}
    documented = {"commit", "review", "files", "content", "diff", "patch", "mergeable"}
    documented |= {"submit_type", "drafts", "comments", "detail", "topic", "in", "reviewers"}
    documented |= {"suggest_reviewers", "capabilities", "projects", "changes"}
    assert documented <= covered | {"changes"}


async def test_gerrit_read_pretty_and_gzip_on_new_endpoints(gw: GerritGateway) -> None:
    path = f"/rest/gerrit/changes/3965/revisions/current/files/{FILE}/diff?format=JSON"
    pretty = await gw.client.get(path)
    assert pretty.content.startswith(b")]}'\n{\n  ")
    compact = await gw.client.get(path.replace("?format=JSON", ""))
    assert decode(pretty) == decode(compact)
    async with gw.client.stream(
        "GET",
        "/rest/gerrit/changes/3965/revisions/current/patch",
        headers={"Accept-Encoding": "gzip"},
    ) as resp:
        raw = b"".join([chunk async for chunk in resp.aiter_raw()])
    assert resp.headers["content-encoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b"


async def test_gerrit_read_head_has_no_body(gw: GerritGateway) -> None:
    for tail in ("commit", "patch", "patch?zip"):
        resp = await gw.client.head(f"/rest/gerrit/changes/3965/revisions/current/{tail}")
        assert resp.status_code == 200 and resp.content == b"", tail


async def test_gerrit_read_refusals_without_upstream_request(gw: GerritGateway) -> None:
    # Paths outside Gerrit's REST collections are refused here; unmodelled ones inside
    # them are passed through (tests/gateway/test_compat_passthrough.py).
    before = len(gw.sim.state.requests)
    for path in ("nothing", "Documentation/rest-api.html", "changesx/1", "nothing/changes/"):
        resp = await gw.client.get(f"/rest/gerrit/{path}")
        assert resp.status_code == 404, path
        assert resp.text.strip() == "Not found"
    wrong = await gw.client.get("/rest/gerrit/a/changes/3965/in", headers=basic("me", "nope"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Basic realm="Gerrit Code Review"'
    assert gw.sim.state.requests[before:] == []


LEGACY_READS = [
    "changes/?q=status:open&n=2",
    "changes/3965/detail",
    "changes/3965/in",
    "changes/3965/reviewers/",
    "changes/3965/suggest_reviewers?q=J",
    "changes/3965/revisions/current/commit",
    "changes/3965/revisions/current/review",
    "changes/3965/revisions/current/comments/",
    "changes/3965/revisions/2/drafts/TvcXrmjN",
    f"changes/3965/revisions/1/files/{FILE}/diff",
    "changes/3965/revisions/current/patch",
    "projects/",
]


async def test_gerrit_reads_from_a_gerrit_2_8() -> None:
    # A 2.8-era server (``kind`` fields, ``_sortkey`` and N= paging, digest auth): the
    # compat answers keep its form.
    digest = httpx.DigestAuth(*ADMIN)
    async with gerrit_gateway(legacy=True, auth="digest") as old:
        for path in LEGACY_READS:
            resp = await old.client.get(f"/rest/gerrit/a/{path}", headers=basic("me", WRITER))
            same_answer(resp, await old.direct.get(f"/a/{path}", auth=digest))
        page = decode(await old.client.get("/rest/gerrit/changes/?q=status:open&n=2"))
        assert all(c["kind"] == "gerritcodereview#change" and c["_sortkey"] for c in page)
        more = f"changes/?q=status:open&n=2&N={page[-1]['_sortkey']}"
        after = await old.client.get(f"/rest/gerrit/{more}")
        same_answer(after, await old.direct.get(f"/a/{more}", auth=digest))
        assert decode(after)[0]["_number"] not in {c["_number"] for c in page}


async def test_gerrit_read_unencoded_file_path_means_the_same_file(gw: GerritGateway) -> None:
    encoded = f"/rest/gerrit/changes/3965/revisions/current/files/{FILE}/diff"
    plain = encoded.replace("%2F", "/")
    before = len(gw.sim.state.requests)
    assert decode(await gw.client.get(plain)) == decode(await gw.client.get(encoded))
    sent = [p for _, p in gw.sim.state.requests[before:]]
    assert len(sent) == 2 and sent[0] == sent[1]  # the same upstream request, encoded
