"""Issue 15 item 7: caller input never leaves its upstream route (every kind, every entry).

A recording upstream on loopback answers every request ``404`` and keeps the raw request
target exactly as it came over the wire. Every hostile value goes into every id and string
argument that reaches a path: GraphQL arguments, filters, global ids (``node``), mutations,
and compat paths re-served upstream. For each, the gateway must answer without a 500 or an
internal error, and every upstream request line must stay under the route it was meant for:
no dot segment (even after the server decodes ``%2F``), no raw control character or ``#``,
no injected query parameter, and the prefix of the intended route.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import httpx
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from adapters.paths import BadSegment, check_wire_path, seg
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.settings import settings_from_dict
from schema import node

TOKEN = "paths-token-Quokka-5521"
WRITER = "paths-writer-key-Numbat-7713"
MARK = "evilmark"  # a query key only a hostile value carries

HOSTILE: tuple[str, ...] = (
    "../../users",
    "..",
    ".",
    "../",
    "a/../../users",
    "%2e%2e/%2e%2e/users",
    "%2E%2E",
    "%252e%252e",
    f"a?{MARK}=1",
    f"?{MARK}=1",
    "a#frag",
    "a/b",
    "%2F..%2F..%2Fusers",
    "..\\..\\users",
    "a%00b",
    "a\x00b",
    "a\r\nX-Injected: 1",
    "a\tb",
    "é/中文/😀",
    "١٢٣",  # Arabic-Indic digits: str.isdigit() is true
    "²",
    " ",
    "x" * 5000,
)


@dataclass
class Recorder:
    """Every raw request target the upstream received."""

    targets: list[str] = field(default_factory=list)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.targets.append(request.raw_path)
        # Empty project lists, so that lookups by name go on to the object's own path.
        if request.path == "/base/api/1.0/projects/":
            return web.json_response({"count": 0, "next": None, "previous": None, "results": []})
        if request.path in ("/base/a/projects/", "/base/a/accounts/self/capabilities"):
            return web.Response(text=")]}'\n{}", content_type="application/json")
        return web.json_response({"detail": "Not found."}, status=404)


@dataclass
class Rig:
    client: httpx.AsyncClient
    recorder: Recorder
    app: Any

    async def raw_get(self, raw_path: str) -> tuple[int, bytes]:
        """GET ``raw_path`` exactly as given: httpx would remove its dot segments first."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("ascii"),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"revgate"), (b"authorization", f"Bearer {WRITER}".encode())],
            "client": ("127.0.0.1", 1234),
            "server": ("revgate", 80),
        }
        sent: list[dict[str, Any]] = []
        done = False

        async def receive() -> dict[str, Any]:
            nonlocal done
            if done:
                await asyncio.sleep(3600)
            done = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        status = next(m["status"] for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return status, body


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    recorder = Recorder()
    server = web.Server(recorder.handle)
    runner = web.ServerRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/base"
    common = {"url": url, "token_env": "PATHS_TOKEN", "retries": 0}
    settings = settings_from_dict(
        {
            "backends": [
                {"name": "pw", "kind": "patchwork", "api_version": "1.3", **common},
                {"name": "fdo", "kind": "patchwork-fdo", **common},
                {"name": "g", "kind": "gerrit", **common},
                {"name": "abf", "kind": "abf", **common},
            ],
            "api_keys": [{"name": "writer", "sha256": hash_key(WRITER)}],
        },
        env={"PATHS_TOKEN": TOKEN},
    )
    app = create_app(settings)
    backends = app.state.backends
    try:
        await backends.open()
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {WRITER}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://revgate", headers=headers
        ) as client:
            yield Rig(client, recorder, app)
    finally:
        await backends.close()
        await runner.cleanup()


# Upstream route prefixes each backend may be asked for (``/base`` is the configured path).
PREFIX = {
    "pw": "/base/api/1.3/",
    "fdo": "/base/api/1.0/",
    "g": "/base/",
    "abf": "/base/api/v1/",
}


# Fixed requests a backend may make around any operation (no caller input in them).
BACKGROUND = {"g": (r"a/accounts/self/capabilities", r"a/config/server/version")}


@dataclass(frozen=True)
class Probe:
    """One entry point taking a hostile value; ``routes``: where its requests may go."""

    name: str
    backend: str
    routes: tuple[str, ...]  # regexes over the raw path, after the backend's prefix
    query: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    compat: str = ""  # a compat path (the value percent-encoded into it) instead of GraphQL


ONE = r"[^/]+"


def _gid(kind: str, backend: str, value: str) -> str:
    return node.encode(kind, backend, value)


NODE_Q = "query($id: ID!) { node(id: $id) { id } }"


def _patchwork_probes(v: str, q: str) -> list[Probe]:
    """Upstream Patchwork's entry points."""
    return [
        # Patchwork (upstream)
        Probe(
            "pw project linkName",
            "pw",
            (rf"projects/{ONE}/",),
            'query($v: String) { project(backend: "pw", linkName: $v) { id } }',
            {"v": v},
        ),
        Probe(
            "pw patches project",
            "pw",
            (r"patches/", r"projects/"),
            'query($v: String) { patches(filter: {backend: "pw", project: $v}) { nodes { id } } }',
            {"v": v},
        ),
        Probe(
            "pw bundles project",
            "pw",
            (r"bundles/", r"projects/"),
            'query($v: String) { bundles(backend: "pw", project: $v) { nodes { id } } }',
            {"v": v},
        ),
        Probe("pw compat project", "pw", (rf"projects/{ONE}/",), compat=f"api/1.3/projects/{q}/"),
        Probe("pw compat patch", "pw", (rf"patches/{ONE}/",), compat=f"api/1.3/patches/{q}/"),
    ]


def _fdo_probes(v: str, q: str) -> list[Probe]:
    """freedesktop Patchwork's entry points."""
    return [
        # freedesktop Patchwork
        Probe(
            "fdo project linkName",
            "fdo",
            (r"projects/", rf"projects/{ONE}/"),
            'query($v: String) { project(backend: "fdo", linkName: $v) { id } }',
            {"v": v},
        ),
        Probe(
            "fdo series project",
            "fdo",
            (r"projects/", rf"projects/{ONE}/series/", r"series/"),
            'query($v: String) { series(filter: {backend: "fdo", project: $v}) { nodes { id } } }',
            {"v": v},
        ),
        Probe(
            "fdo events project",
            "fdo",
            (r"projects/", rf"projects/{ONE}/", rf"projects/{ONE}/events/"),
            'query($v: String) { events(filter: {backend: "fdo", project: $v}) { nodes { id } } }',
            {"v": v},
        ),
        Probe("fdo compat project", "fdo", (rf"projects/{ONE}/",), compat=f"api/1.0/projects/{q}/"),
        Probe(
            "fdo compat revision",
            "fdo",
            (rf"series/{ONE}/revisions/{ONE}/",),
            compat=f"api/1.0/series/{q}/revisions/1/",
        ),
    ]


def _gerrit_probes(v: str, q: str) -> list[Probe]:
    """Gerrit's entry points."""
    return [
        # Gerrit
        Probe(
            "gerrit change id",
            "g",
            (rf"a/changes/{ONE}", r"a/changes/"),
            'query($v: String!) { gerritChange(backend: "g", id: $v) { id } }',
            {"v": v},
        ),
        Probe(
            "gerrit query",
            "g",
            (r"a/changes/",),
            'query($v: String!) { gerritChanges(backend: "g", gerritQuery: $v) { nodes { id } } }',
            {"v": v},
        ),
        Probe(
            "gerrit delete reviewer",
            "g",
            (rf"a/changes/{ONE}/reviewers/{ONE}",),
            "mutation($c: ID!, $v: String!) { gerritDeleteReviewer("
            "input: {change: $c, account: $v}) { done } }",
            {"c": _gid("GerritChange", "g", "1"), "v": v},
        ),
        Probe(
            "gerrit file reviewed",
            "g",
            (rf"a/changes/{ONE}/revisions/current/files/{ONE}/reviewed",),
            "mutation($c: ID!, $v: String!) { gerritSetReviewed(input: {change: $c, path: $v})"
            " { done } }",
            {"c": _gid("GerritChange", "g", "1"), "v": v},
        ),
        Probe(
            "gerrit set topic change",
            "g",
            (rf"a/changes/{ONE}/topic", rf"a/changes/{ONE}"),
            'mutation($c: ID!) { gerritSetTopic(input: {change: $c, topic: "t"})'
            " { change { id } } }",
            {"c": _gid("GerritChange", "g", v)},
        ),
    ]


def _gerrit_passthrough_probes(v: str, q: str) -> list[Probe]:
    """Gerrit routes the compat router does not model: passed through."""
    return [
        # a value the router does not model is passed through anonymously (no a/), same route
        Probe(
            "gerrit compat change",
            "g",
            (rf"a/changes/{ONE}", rf"changes/{ONE}"),
            compat=f"changes/{q}",
        ),
        Probe(
            "gerrit compat reviewer",
            "g",
            (rf"a/changes/1/reviewers/{ONE}", rf"changes/1/reviewers/{ONE}"),
            compat=f"changes/1/reviewers/{q}",
        ),
        Probe(
            "gerrit compat project",
            "g",
            (rf"a/projects/{ONE}", rf"projects/{ONE}"),
            compat=f"projects/{q}",
        ),
    ]


def _abf_probes(v: str, q: str) -> list[Probe]:
    """ABF's entry points."""
    return [
        # ABF
        Probe(
            "abf pull request project",
            "abf",
            (r"projects/get_id\.json", rf"projects/{ONE}/pull_requests/1\.json"),
            'query($v: String) { pullRequest(backend: "abf", project: $v, number: 1) { id } }',
            {"v": v},
        ),
        Probe(
            "abf pull request owner/name",
            "abf",
            (r"projects/get_id\.json",),
            "query($v: String, $w: String) {"
            ' a: pullRequest(backend: "abf", project: $v, number: 1) { id }'
            ' b: pullRequest(backend: "abf", project: $w, number: 1) { id } }',
            {"v": f"owner/{v}", "w": f"{v}/name"},
        ),
        Probe(
            "pw update patch",
            "pw",
            (rf"patches/{ONE}/",),
            'mutation($id: ID!) { updatePatch(input: {id: $id, state: "new"}) { patch { id } } }',
            {"id": _gid("Patch", "pw", v)},
        ),
        Probe(
            "abf pull requests group",
            "abf",
            (rf"groups?/{ONE}/pull_requests\.json",),
            'query($v: String) { pullRequests(filter: {backend: "abf", scope: GROUP, group: $v})'
            " { nodes { id } } }",
            {"v": v},
        ),
        Probe(
            "abf merge",
            "abf",
            (rf"projects/{ONE}/pull_requests/{ONE}(/merge)?\.json",),
            "mutation($id: ID!) { mergePullRequest(input: {id: $id}) { pullRequest { id } } }",
            {"id": _gid("PullRequest", "abf", f"1/{v}")},
        ),
        Probe(
            "abf compat project",
            "abf",
            (rf"projects/{ONE}\.json",),
            compat=f"api/v1/projects/{q}.json",
        ),
    ]


def _node_probes(v: str) -> list[Probe]:
    """Every type fetched by global id, on every backend that serves it."""
    node_q = NODE_Q
    out: list[Probe] = []
    for kind, backend, routes in (
        ("Patch", "pw", (rf"patches/{ONE}/",)),
        ("Series", "pw", (rf"series/{ONE}/",)),
        ("Cover", "pw", (rf"covers/{ONE}/",)),
        ("Person", "pw", (rf"people/{ONE}/", rf"users/{ONE}/")),
        ("Project", "pw", (rf"projects/{ONE}/",)),
        ("Bundle", "pw", (rf"bundles/{ONE}/",)),
        ("Patch", "fdo", (rf"patches/{ONE}/",)),
        ("Series", "fdo", (rf"series/{ONE}/",)),
        ("Project", "fdo", (r"projects/", rf"projects/{ONE}/")),
        ("Person", "fdo", (r"patches/",)),  # a submitter is found through their patches
        ("GerritChange", "g", (rf"a/changes/{ONE}", r"a/changes/")),
        ("GerritRevision", "g", (rf"a/changes/{ONE}", r"a/changes/", rf"a/changes/{ONE}/.*")),
        ("Project", "g", (r"a/projects/", rf"a/projects/{ONE}/?")),
        ("AbfGroup", "abf", (rf"groups/{ONE}\.json",)),
        ("Project", "abf", (rf"projects/{ONE}\.json", r"projects/get_id\.json")),
        ("Person", "abf", (rf"users/{ONE}\.json",)),
    ):
        out.append(
            Probe(
                f"node {kind} on {backend}", backend, routes, node_q, {"id": _gid(kind, backend, v)}
            )
        )
    for native in (f"1/{v}", f"{v}/1"):  # a pull request's id is <project id>/<number>
        out.append(
            Probe(
                f"node PullRequest {native[:8]!r}",
                "abf",
                (rf"projects/{ONE}/pull_requests/{ONE}\.json",),
                node_q,
                {"id": _gid("PullRequest", "abf", native)},
            )
        )
    return out


def probes(v: str) -> list[Probe]:
    q = quote(v, safe="")
    kinds = (_patchwork_probes, _fdo_probes, _gerrit_probes, _gerrit_passthrough_probes)
    return [p for by_kind in (*kinds, _abf_probes) for p in by_kind(v, q)] + _node_probes(v)


def _check_target(raw: str, probe: Probe, value: str) -> None:
    path, _, query = raw.partition("?")
    where = f"{probe.name}: {raw[:200]!r}"
    assert not re.search(r"[\x00-\x20\x7f#]", raw), f"raw control/space/# on the wire: {where}"
    decoded = unquote(path)  # as a server that decodes %2F before routing sees it
    for text in (path, decoded):
        parts = text.split("/")
        assert "." not in parts and ".." not in parts, f"dot segment: {where}"
    assert MARK not in {k for k, _ in parse_qsl(query, keep_blank_values=True)}, where
    prefix = PREFIX[probe.backend]
    assert path.startswith(prefix), f"left the API root: {where}"
    rest = path[len(prefix) :]
    routes = probe.routes + BACKGROUND.get(probe.backend, ())
    assert any(re.fullmatch(r, rest) for r in routes), f"outside {probe.routes}: {where}"


async def _run(rig: Rig, probe: Probe) -> None:
    if probe.compat:
        status, text = await rig.raw_get(f"/rest/{probe.backend}/{probe.compat}")
        assert status < 500, (probe.name, status, text[:300])
        assert b"Traceback" not in text
        return
    resp = await rig.client.post(
        "/graphql", json={"query": probe.query, "variables": probe.variables}
    )
    assert resp.status_code == 200, (probe.name, resp.status_code, resp.text[:300])
    body = resp.json()
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert code and code != "INTERNAL_SERVER_ERROR", (probe.name, error)


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v)[:24] for v in HOSTILE])
async def test_hostile_values_stay_in_their_route(rig: Rig, value: str) -> None:
    for probe in probes(value):
        rig.recorder.targets.clear()
        await _run(rig, probe)
        for raw in rig.recorder.targets:
            _check_target(raw, probe, value)


async def test_probes_reach_upstream_with_plain_values(rig: Rig) -> None:
    """The probes are real: harmless values go upstream through each, on its route."""
    for value, may_stay_silent in (
        ("7", set()),  # a number is a valid id, name and account everywhere
        # ids that must be numbers never go out with a name: refused before any request
        ("plain-1", {"pw compat patch", "fdo compat revision", "abf pull request project"}),
    ):
        silent = set()
        for probe in probes(value):
            rig.recorder.targets.clear()
            await _run(rig, probe)
            for raw in rig.recorder.targets:
                _check_target(raw, probe, value)
            if not [t for t in rig.recorder.targets if "capabilities" not in t]:
                silent.add(probe.name)
        numeric = {n for n in silent if n.startswith(("node ", "abf ", "pw update", "abf merge"))}
        if value == "7":
            assert not silent, silent
        else:
            assert silent - numeric <= may_stay_silent, silent


async def test_traversal_value_is_refused_with_a_code(rig: Rig) -> None:
    """The issue's reproduction: no credentialed ``/api/users/``; the caller learns why."""
    body = (
        await rig.client.post(
            "/graphql",
            json={"query": '{ project(backend: "pw", linkName: "../../users") { id } }'},
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert rig.recorder.targets == []


@given(st.text(max_size=60))
def test_seg_keeps_any_value_in_one_segment(value: str) -> None:
    """Through yarl (what aiohttp sends), an accepted value is exactly one segment."""
    try:
        encoded = seg(value)
    except BadSegment:
        assert (
            value == ""
            or any(ord(c) < 32 or ord(c) == 127 for c in value)
            or {
                ".",
                "..",
            }
            & set(value.split("/") + unquote(value).split("/"))
        )
        return
    url = URL(f"http://h/base/x/{encoded}/y")
    parts = url.raw_path.split("/")  # yarl may spell a sub-delimiter (',') unencoded
    assert parts[:3] == ["", "base", "x"] and parts[4:] == ["y"] and unquote(parts[3]) == value
    assert check_wire_path(str(url)) is None
