"""The Patchwork simulator against the recorded Patchwork 3.2.1 responses, plus its test hooks."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.patchwork.simulator import (
    SIM_STATE,
    PatchworkData,
    RunningSimulator,
    create_app,
    start_simulator,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "patchwork-3.2.1"
META: dict[str, dict[str, Any]] = json.loads((FIXTURES / "_meta.json").read_text())
ORIGIN = "http://127.0.0.1:8800"
ADMIN = "a0" * 20
BOT = "b0" * 20

# Request details the recordings do not hold (token used, request body).
SPECIAL: dict[str, dict[str, Any]] = {
    "v1.3-queries/patch-3-bad-token.json": {"token": "c0" * 20, "json": {"state": "accepted"}},
    "v1.3-queries/patch-3-bot-forbidden.json": {"token": BOT, "json": {"state": "accepted"}},
    "v1.3-queries/patch-3-checks-post-anon.json": {"json": {"state": "success"}},
    "v1.3-queries/patch-3-checks-post-bad-state.json": {"json": {"state": "broken"}},
    "v1.3-queries/patch-3-checks-post-missing-state.json": {"json": {"context": "x"}},
    "v1.3-queries/patch-3-patch-noop.json": {"json": {}},
    "v1.3-queries/patches-post-not-allowed.json": {"json": {}},
}
# Recordings whose body the simulator does not reproduce byte for byte (status/headers still
# compared): DRF's browsable-API HTML pages.
HTML_BODY_ONLY_STATUS = {
    "v1.3-queries/patches-accept-html.html",
    "v1.3-queries/patches-format-api.html",
}
SKIPPED: dict[str, str] = {}

GOLDEN = sorted(META)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    running = await start_simulator()
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _swap_origin(value: Any, url: str) -> Any:
    return json.loads(json.dumps(value).replace(ORIGIN, url))


async def _replay(
    http: aiohttp.ClientSession, sim: RunningSimulator, name: str
) -> tuple[aiohttp.ClientResponse, bytes]:
    meta = META[name]
    special = SPECIAL.get(name, {})
    headers = dict(meta.get("request_headers") or {})
    if meta["auth"] == "token":
        headers["Authorization"] = f"Token {special.get('token', ADMIN)}"
    kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
    if "json" in special:
        kwargs["json"] = special["json"]
    async with http.request(meta["method"], sim.url + meta["url"], **kwargs) as resp:
        body = await resp.read()
    return resp, body


@pytest.mark.parametrize("name", GOLDEN)
async def test_golden_recording(
    name: str, sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    if name in SKIPPED:
        pytest.skip(SKIPPED[name])
    meta = META[name]
    resp, body = await _replay(http, sim, name)
    assert resp.status == meta["status"], body[:300]
    recorded_headers = meta["headers"]
    for header in ("Link", "Location", "Content-Disposition", "Allow"):
        if header in recorded_headers:
            expected = recorded_headers[header].replace(ORIGIN, sim.url)
            assert resp.headers.get(header) == expected, header
    recorded_type = recorded_headers.get("Content-Type", "").split(";")[0]
    assert resp.headers.get("Content-Type", "").split(";")[0] == recorded_type
    recorded = (FIXTURES / name).read_bytes()
    if meta["method"] == "HEAD":
        assert body == b""
    elif name.endswith(".json"):
        assert json.loads(body) == _swap_origin(json.loads(recorded), sim.url)
    elif name.endswith((".mbox", ".txt")):
        assert body == recorded


def test_golden_covers_every_recording() -> None:
    assert len(GOLDEN) == 210
    assert not SKIPPED


# -- behaviour beyond the recordings ------------------------------------------------------------


async def _get(
    http: aiohttp.ClientSession, sim: RunningSimulator, path: str, token: str | None = None
) -> tuple[int, Any, aiohttp.ClientResponse]:
    headers = {"Authorization": f"Token {token}"} if token else {}
    async with http.get(sim.url + path, headers=headers, allow_redirects=False) as resp:
        raw = await resp.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw
    return resp.status, body, resp


async def test_link_header_order_and_prev_to_first_page(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    base = f"{sim.url}/api/1.3/patches/"
    _, body, resp = await _get(http, sim, "/api/1.3/patches/?per_page=10&page=2")
    assert [p["id"] for p in body] == list(range(11, 21))
    assert resp.headers["Link"] == (
        f'<{base}?page=3&per_page=10>; rel="next", <{base}?per_page=10>; rel="prev", '
        f'<{base}?page=1&per_page=10>; rel="first", <{base}?page=5&per_page=10>; rel="last"'
    )
    _, body, resp = await _get(http, sim, "/api/1.3/patches/?per_page=10&page=5")
    assert [p["id"] for p in body] == [41, 42, 43]
    assert "next" not in resp.headers["Link"]
    assert f'<{base}?page=4&per_page=10>; rel="prev"' in resp.headers["Link"]


@pytest.mark.parametrize(
    "per_page, expected", [("0", 30), ("-5", 30), ("abc", 30), ("", 30), ("1000", 43), ("7", 7)]
)
async def test_per_page_rules(
    per_page: str, expected: int, sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await _get(http, sim, f"/api/1.3/patches/?per_page={per_page}")
    assert status == 200 and len(body) == expected


async def test_per_page_capped_at_250(http: aiohttp.ClientSession) -> None:
    sim = await start_simulator(PatchworkData.generated(300))
    try:
        _, body, resp = await _get(http, sim, "/api/1.3/patches/?per_page=1000")
        assert len(body) == 250 and 'rel="next"' in resp.headers["Link"]
    finally:
        await sim.close()


@pytest.mark.parametrize("page", ["999", "0", "abc", "-1"])
async def test_invalid_page_is_404(
    page: str, sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await _get(http, sim, f"/api/1.3/patches/?page={page}")
    assert status == 404 and body == {"detail": "Invalid page."}


async def test_empty_result_has_one_page(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body, resp = await _get(http, sim, "/api/1.3/patches/?project=nope")
    assert status == 200 and body == []
    assert 'rel="last"' in resp.headers["Link"]


@pytest.mark.parametrize("path", ["/api/1.3/people/", "/api/users/1/", "/api/1.0/people/1/"])
async def test_people_and_users_need_auth(
    path: str, sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await _get(http, sim, path)
    assert status == 403
    assert body == {"detail": "Authentication credentials were not provided."}
    status, _, _ = await _get(http, sim, path, token=ADMIN)
    assert status == 200


async def test_bad_token_is_403_everywhere(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await _get(http, sim, "/api/1.3/patches/", token="nope")
    assert status == 403 and body == {"detail": "Invalid token."}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_basic_auth_and_bearer(sim: RunningSimulator, http: aiohttp.ClientSession) -> None:
    url = f"{sim.url}/api/1.3/users/"
    async with http.get(url, headers={"Authorization": _basic("bot", "bot")}) as resp:
        assert resp.status == 200
    async with http.get(url, headers={"Authorization": _basic("admin", "wrong")}) as resp:
        assert resp.status == 403
        assert await resp.json() == {"detail": "Invalid username/password."}
    async with http.get(url, headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
        assert resp.status == 403


async def _patch(
    http: aiohttp.ClientSession,
    sim: RunningSimulator,
    path: str,
    body: dict[str, Any],
    token: str | None,
    method: str = "PATCH",
) -> tuple[int, Any]:
    headers = {"Authorization": f"Token {token}"} if token else {}
    async with http.request(method, sim.url + path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_patch_by_admin_changes_state_and_logs_events(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    status, body = await _patch(
        http, sim, "/api/1.3/patches/5/", {"state": "accepted", "delegate": 1}, ADMIN
    )
    assert status == 200
    assert body["state"] == "accepted" and body["delegate"]["username"] == "admin"
    assert body["url"] == f"{sim.url}/api/1.3/patches/5/"
    _, detail, _ = await _get(http, sim, "/api/patches/5/")
    assert detail["state"] == "accepted"
    _, events, _ = await _get(http, sim, "/api/1.3/events/?patch=5&per_page=2")
    assert [e["category"] for e in events] == ["patch-delegated", "patch-state-changed"]
    assert events[1]["payload"]["previous_state"] == "new"
    assert events[1]["payload"]["current_state"] == "accepted"
    assert events[1]["actor"]["username"] == "admin"
    _, listed, _ = await _get(http, sim, "/api/1.3/patches/?state=accepted")
    assert 5 in [p["id"] for p in listed]


async def test_patch_permissions_and_validation(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    path = "/api/1.3/patches/3/"
    forbidden = {"detail": "You do not have permission to perform this action."}
    assert await _patch(http, sim, path, {"state": "new"}, BOT) == (403, forbidden)
    status, body = await _patch(http, sim, path, {"state": "new"}, None)
    assert status == 403 and body == {"detail": "Authentication credentials were not provided."}
    status, body = await _patch(http, sim, path, {"state": "bogus"}, ADMIN)
    assert status == 400 and "state" in body
    status, body = await _patch(http, sim, path, {"delegate": 2}, ADMIN)
    assert status == 400 and "delegate" in body
    status, body = await _patch(http, sim, path, {"state": "new"}, ADMIN, method="PUT")
    assert status == 400 and body == {"delegate": ["This field is required."]}
    status, body = await _patch(
        http, sim, path, {"state": "rfc", "delegate": None, "archived": True}, ADMIN, "PUT"
    )
    assert status == 200 and body["delegate"] is None and body["archived"] is True
    _, data, _ = await _get(http, sim, "/api/1.3/patches/3/")
    assert data["state"] == "rfc"


async def test_post_check_then_list(sim: RunningSimulator, http: aiohttp.ClientSession) -> None:
    path = "/api/1.3/patches/3/checks/"
    new = {"state": "fail", "context": "sim-ci", "target_url": "https://ci.example.org/9"}
    status, body = await _patch(http, sim, path, new, ADMIN, method="POST")
    assert status == 201 and body["id"] == 8 and body["user"]["username"] == "admin"
    headers = {"Authorization": f"Token {ADMIN}"}
    form = {"state": "warning", "context": "form", "description": "via form"}
    async with http.post(sim.url + path, data=form, headers=headers) as resp:
        assert resp.status == 201
        assert (await resp.json())["description"] == "via form"
    _, checks, _ = await _get(http, sim, path)
    assert [c["context"] for c in checks] == ["build", "test", "sim-ci", "form"]
    _, patch, _ = await _get(http, sim, "/api/1.3/patches/3/")
    assert patch["check"] == "fail"
    _, events, _ = await _get(http, sim, "/api/1.3/events/?category=check-created&per_page=1")
    assert events[0]["payload"]["check"]["context"] == "form"


async def test_faults(sim: RunningSimulator, http: aiohttp.ClientSession) -> None:
    sim.state.fault("/api/1.3/patches/", "500")
    status, _, _ = await _get(http, sim, "/api/1.3/patches/3/checks/")
    assert status == 500
    status, _, _ = await _get(http, sim, "/api/1.3/series/")
    assert status == 200
    sim.state.fault("/api/1.3/patches/", "garbage")
    async with http.get(sim.url + "/api/1.3/patches/") as resp:
        assert resp.status == 200 and await resp.read() == b"<html>not json"
    sim.state.fault("/api/1.3/patches/", "404")
    assert (await _get(http, sim, "/api/1.3/patches/"))[0] == 404
    sim.state.fault("/api/1.3/patches/", "403")
    assert (await _get(http, sim, "/api/1.3/patches/"))[0] == 403
    sim.state.fault("/api/1.3/patches/", "hang")
    with pytest.raises(asyncio.TimeoutError):
        timeout = aiohttp.ClientTimeout(total=0.3)
        async with http.get(sim.url + "/api/1.3/patches/", timeout=timeout):
            pass
    sim.state.clear_faults()
    assert (await _get(http, sim, "/api/1.3/patches/"))[0] == 200
    with pytest.raises(ValueError):
        sim.state.fault("/", "explode")


async def test_slow_fault_still_answers(http: aiohttp.ClientSession) -> None:
    sim = await start_simulator()
    try:
        sim.state.slow_seconds = 0.05
        sim.state.fault("/api/", "slow")
        status, body, _ = await _get(http, sim, "/api/1.3/projects/1/")
        assert status == 200 and body["link_name"] == "patchwork"
    finally:
        await sim.close()


async def test_request_log_records_path_qs(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    await _get(http, sim, "/api/1.3/patches/?page=1&per_page=30")
    await _get(http, sim, "/api/1.3/patches")
    assert sim.state.requests == [
        ("GET", "/api/1.3/patches/?page=1&per_page=30"),
        ("GET", "/api/1.3/patches"),
    ]


def test_generated_data_has_one_big_project() -> None:
    data = PatchworkData.generated(100)
    assert len(data.patches) >= 143
    project = max(data.projects)
    mine = [p for p in data.patches.values() if p["project"] == project]
    assert len(mine) == 100
    assert all(p["series"] and p["diff"] for p in mine)
    assert {p["submitter"] for p in mine} <= set(data.people)
    assert any(c["patch"] in {p["id"] for p in mine} for c in data.checks.values())
    again = PatchworkData.generated(100)
    assert [p["hash"] for p in again.patches.values()] == [p["hash"] for p in data.patches.values()]
    assert len(PatchworkData.from_seed().patches) == 43


async def test_generated_data_served(http: aiohttp.ClientSession) -> None:
    sim = await start_simulator(PatchworkData.generated(1000, seed=3))
    try:
        _, body, resp = await _get(http, sim, "/api/1.3/patches/?project=generated&per_page=250")
        assert len(body) == 250 and "page=4" in resp.headers["Link"]
        series_id = body[0]["series"][0]["id"]
        status, series, _ = await _get(http, sim, f"/api/1.3/series/{series_id}/")
        assert status == 200 and body[0]["id"] in [p["id"] for p in series["patches"]]
    finally:
        await sim.close()


async def test_unversioned_links_and_versions(
    sim: RunningSimulator, http: aiohttp.ClientSession
) -> None:
    _, body, _ = await _get(http, sim, "/api/patches/10/")
    assert body["url"] == f"{sim.url}/api/patches/10/"
    assert body["checks"] == f"{sim.url}/api/patches/10/checks/"
    assert body["prefixes"] == [] and body["diff"].startswith("diff --git")
    _, body, _ = await _get(http, sim, "/api/1.1/patches/10/")
    assert body["url"] == f"{sim.url}/api/1.1/patches/10/"
    assert "related" not in body and "list_archive_url" not in body
    assert (await _get(http, sim, "/api/1.4/patches/"))[0] == 404
    assert (await _get(http, sim, "/api/1.2/patches/10/comments/1/"))[0] == 404
    status, comment, _ = await _get(http, sim, "/api/1.3/patches/10/comments/1/")
    assert status == 200 and comment["subject"].startswith("Re: ")


async def test_mbox_routes(sim: RunningSimulator, http: aiohttp.ClientSession) -> None:
    status, _, resp = await _get(http, sim, "/patch/23/mbox/")
    assert status == 302
    location = resp.headers["Location"]
    assert location == "/project/netdev/patch/20170613191725.26625-2-f.fainelli@gmail.com/mbox/"
    status, body, resp = await _get(http, sim, location)
    assert status == 200 and resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=1-4-net-dsa")
    assert body.startswith(b"From patchwork ") and b"X-Patchwork-Id: 23" in body
    status, body, resp = await _get(http, sim, "/patch/23/raw/")
    status, body, resp = await _get(http, sim, resp.headers["Location"])
    assert resp.headers["Content-Type"] == "text/x-patch" and body.startswith(b"diff --git")
    status, body, _ = await _get(http, sim, "/series/20/mbox/")
    assert status == 200 and body.count(b"From patchwork ") == 4
    assert (await _get(http, sim, "/patch/999/mbox/"))[0] == 404


def test_create_app_exposes_state() -> None:
    data = PatchworkData.from_seed()
    app = create_app(data)
    state = app[SIM_STATE]
    assert state.data is data and state.requests == [] and state.faults == {}


def test_add_latency_delays_api_requests_only_when_asked() -> None:
    from adapters import simulator_common

    app = create_app()
    simulator_common.add_latency(app, 0, "/api/")
    assert simulator_common.latency_of(app) == 0 and app[SIM_STATE].faults == {}
    simulator_common.add_latency(app, 5, "/api/")
    assert simulator_common.latency_of(app) == 5 and app[SIM_STATE].faults == {}
