"""The ABF compat layer: the gateway in front of the ABF simulator (in the real server's mode
and in the documented one) answers every entry point as the simulator itself does, with API
paths moved under the gateway, JSON error bodies, an ETag on every 2xx and 304 on a match;
writes reach the backend exactly once."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from adapters.abf.simulator import TOKEN, RunningSimulator, start_simulator
from gateway.app import create_app
from gateway.settings import settings_from_dict

pytestmark = pytest.mark.asyncio(loop_scope="module")

WRITER = "a1" * 20  # gateway compat tokens
READER = "a2" * 20


def _basic(login: str, password: str = "") -> dict[str, str]:
    value = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


@dataclass
class AbfGateway:
    client: httpx.AsyncClient
    direct: httpx.AsyncClient
    sim: RunningSimulator

    def writes(self, before: int) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.sim.state.requests[before:] if m != "GET"]


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def compat_app(sim: RunningSimulator) -> Starlette:
    """The gateway over one ABF simulator with a writer and a reader compat token."""
    settings = settings_from_dict(
        {
            "backends": [
                {"name": "abf", "kind": "abf", "url": sim.url, "retries": 0, "token_env": "ABF"}
            ],
            "compat": {
                "tokens": [
                    {"name": "writer", "sha256": _sha(WRITER)},
                    {"name": "reader", "sha256": _sha(READER), "write": False},
                ]
            },
        },
        env={"ABF": TOKEN},
    )
    return create_app(settings)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[AbfGateway]:
    sim = await start_simulator()
    app = compat_app(sim)
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://revgate") as client,
            httpx.AsyncClient(base_url=sim.url, headers=_basic(TOKEN)) as direct,
        ):
            yield AbfGateway(client, direct, sim)
    finally:
        await app.state.backends.close()
        await sim.close()


def _moved(value: Any, key: str | None = None) -> Any:
    """The simulator's answer with its API paths moved under the gateway's mount."""
    if isinstance(value, dict):
        return {k: _moved(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved(v, key) for v in value]
    if key == "url" and isinstance(value, str) and value.startswith("/api/v1/"):
        return "/rest/abf" + value
    return value


SAME_AS_BACKEND = [
    "pull_requests.json",
    "pull_requests.json?status=closed",
    "pull_requests.json?filter=all&sort=updated&direction=asc",
    "pull_requests.json?per_page=1&page=2",
    "user/pull_requests.json",
    "projects.json",
    "projects/666.json",
    "projects/get_id.json?name=evil_tools&owner=abf",
    "projects/666/pull_requests.json",
    "projects/666/pull_requests.json?status=closed&sort=updated",
    "projects/666/pull_requests/11.json",
    "projects/666/pull_requests/12.json",
    "projects/666/pull_requests/13.json",
    "projects/666/pull_requests/11/commits.json",
    "projects/666/pull_requests/11/files.json",
    "user.json",
    "users/2.json",
    "groups/3.json",
    # ABF's own refusals, re-served as sent:
    "projects/999.json",
    "projects/666/pull_requests/99.json",
    "users/999.json",
    "projects/get_id.json?name=nope&owner=abf",
]


@pytest.mark.parametrize("real", [True, False], ids=["real", "documented"])
@pytest.mark.parametrize("path", SAME_AS_BACKEND)
async def test_abf_compat_answers_as_the_backend(gw: AbfGateway, path: str, real: bool) -> None:
    gw.sim.state.real = real
    direct = await gw.direct.get(f"/api/v1/{path}")
    # A token caller: answered with the gateway's account (anonymous callers do not get its
    # own data: tests/reliability/test_private_data.py).
    resp = await gw.client.get(f"/rest/abf/api/v1/{path}", headers=_basic(READER))
    assert resp.status_code == direct.status_code, resp.text[:300]
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    assert resp.json() == _moved(direct.json())


@pytest.mark.parametrize(
    ("real", "path"),
    [(True, "groups/3/pull_requests.json"), (False, "group/3/pull_requests.json")],
)
async def test_abf_compat_group_lists(gw: AbfGateway, real: bool, path: str) -> None:
    gw.sim.state.real = real
    direct = await gw.direct.get(f"/api/v1/{path}")
    resp = await gw.client.get(f"/rest/abf/api/v1/{path}", headers=_basic(READER))
    assert resp.status_code == direct.status_code == 200
    assert resp.json() == _moved(direct.json())


async def test_abf_compat_etag_and_304(gw: AbfGateway) -> None:
    gw.sim.state.real = True
    first = await gw.client.get("/rest/abf/api/v1/projects/666/pull_requests/11.json")
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    again = await gw.client.get(
        "/rest/abf/api/v1/projects/666/pull_requests/11.json", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = await gw.client.get(
        "/rest/abf/api/v1/projects/666/pull_requests/11.json",
        headers={"If-None-Match": 'W/"other"'},
    )
    assert other.status_code == 200
    for path in ("pull_requests.json", "projects.json", "user.json", "groups/3.json"):
        resp = await gw.client.get(f"/rest/abf/api/v1/{path}", headers=_basic(READER))
        assert resp.headers["etag"]
    missing = await gw.client.get("/rest/abf/api/v1/projects/999.json")
    assert "etag" not in missing.headers


async def test_abf_compat_errors_are_json(gw: AbfGateway) -> None:
    # outside the pass-through allow-list (api/v1/): rosa-build's 404, from the gateway
    for path in ("api/v2/user.json", "x", "api/v1x/user.json"):
        resp = await gw.client.get(f"/rest/abf/{path}")
        assert resp.status_code == 404
        assert resp.json() == {"status": 404, "message": "Error 404. Resource not found!"}
    bad = await gw.client.get("/rest/abf/api/v1/user.json", headers=_basic("nobody", "x" * 40))
    assert bad.status_code == 401
    assert bad.json() == {"error": "You need to sign in or sign up before continuing."}
    before = len(gw.sim.state.requests)  # an unmodelled write, anonymous: refused here
    assert (await gw.client.delete("/rest/abf/api/v1/projects/666.json")).status_code == 401
    assert gw.sim.state.requests[before:] == []


async def test_abf_compat_writes_reach_backend_once(gw: AbfGateway) -> None:
    gw.sim.state.real = False
    before = len(gw.sim.state.requests)
    create = {
        "pull_request": {
            "title": "compat pr",
            "body": "via the gateway",
            "to_ref": "update-version",
            "from_ref": "update-rails",
        }
    }
    resp = await gw.client.post(
        "/rest/abf/api/v1/projects/666/pull_requests.json", headers=_basic(WRITER), json=create
    )
    assert resp.status_code == 200, resp.text
    number = resp.json()["pull_request"]["number"]
    assert resp.json()["pull_request"]["message"]
    assert "etag" in resp.headers
    assert gw.writes(before) == [("POST", "/api/v1/projects/666/pull_requests.json")]
    update = {"pull_request": {"title": "compat pr (renamed)"}}
    url = f"/rest/abf/api/v1/projects/666/pull_requests/{number}.json"
    resp = await gw.client.put(url, headers=_basic("me", WRITER), json=update)
    assert resp.status_code == 200, resp.text
    shown = await gw.client.get(url)
    assert shown.json()["pull_request"]["title"] == "compat pr (renamed)"
    assert len(gw.writes(before)) == 2


async def test_abf_compat_write_refusals(gw: AbfGateway) -> None:
    before = len(gw.sim.state.requests)
    url = "/rest/abf/api/v1/projects/666/pull_requests.json"
    body = {"pull_request": {"title": "x", "body": "y", "to_ref": "a", "from_ref": "b"}}
    assert (await gw.client.post(url, json=body)).status_code == 401
    reader = await gw.client.post(url, headers=_basic(READER), json=body)
    assert reader.status_code == 403
    assert reader.json() == {"message": "Access violation to this page!"}
    assert gw.writes(before) == []
    # ABF's own 422 (unknown refs) is re-served, after exactly one attempt.
    invalid = await gw.client.post(url, headers=_basic(WRITER), json=body)
    assert invalid.status_code == 422
    assert set(invalid.json()["pull_request"]) >= {"message"}
    assert len(gw.writes(before)) == 1


# Routes abf-console-client reads that the compat layer does not model (issue 22): passed
# through, so `search`, `show build-platforms` and `info` see what the server answers.
PASSED_THROUGH = [
    "search.json?type=users&query=iv",
    "search.json?type=projects&query=tool",
    "platforms.json",
    "platforms/1.json",
    "platforms/99.json",
    "arches.json",
    "platforms/platforms_for_build.json",
    "repositories/10.json",
    "repositories/99.json",
    "repositories/10/projects.json",
    "build_lists.json?per_page=5",
    "build_lists.json?filter[status]=666&filter[project_id]=666",
    "projects/667/build_lists.json",
    "build_lists/100.json",
    "build_lists/1.json",
]


@pytest.mark.parametrize("path", PASSED_THROUGH)
async def test_abf_unmodelled_reads_pass_through(gw: AbfGateway, path: str) -> None:
    direct = await gw.direct.get(f"/api/v1/{path}")
    before = len(gw.sim.state.requests)
    via = await gw.client.get(f"/rest/abf/api/v1/{path}", headers=_basic(READER))
    assert len(gw.sim.state.requests) == before + 1
    assert via.status_code == direct.status_code
    assert via.json() == _moved(direct.json())
    if direct.status_code == 200:  # the client requires an ETag on every 2xx
        assert via.headers["ETag"] == direct.headers["ETag"]
    else:
        assert via.json() == {"status": 404, "message": "Error 404. Resource not found!"}


async def test_abf_project_has_statistics(gw: AbfGateway) -> None:
    resp = await gw.client.get("/rest/abf/api/v1/projects/666.json", headers=_basic(READER))
    stats = (await gw.direct.get("/api/v1/projects/666.json")).json()["project"]
    assert resp.status_code == 200
    assert stats["project_statistics"]  # abf-console-client reads it from `info`/`build`
    assert resp.json()["project"]["project_statistics"] == stats["project_statistics"]
