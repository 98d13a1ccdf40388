"""The ABF simulator's build lists, repositories and build platforms in rosa-build's shapes
(``api/v1/build_lists/{index,show}``, ``api/v1/repositories/show``, ``platforms/
platforms_for_build``) with the fields abf-console-client's models require."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.abf.simulator import TOKEN, start_simulator
from adapters.abf.simulator.data import BUILD_STATUSES

# abf-console-client's abf/model.py `required_fields` (what its models raise without) and
# the JSON keys its BuildList.load reads to fill the derived ones.
BUILD_LIST_KEYS = {
    "id", "container_path", "status", "package_version", "project", "created_at",
    "updated_at", "build_for_platform", "save_to_repository", "arch", "update_type",
    "extra_repositories", "commit_hash", "duration", "include_repos", "priority",
    "build_log_url", "advisory", "mass_build", "logs",
}  # fmt: skip
REPOSITORY_KEYS = {"id", "name", "created_at", "updated_at", "description"}
REPOSITORY_KEYS |= {"publish_without_qa", "platform"}
PLATFORM_KEYS = {
    "id", "name", "description", "parent_platform_id", "created_at", "updated_at",
    "released", "owner", "visibility", "platform_type", "distrib_type", "repositories",
}  # fmt: skip
NOT_FOUND = {"status": 404, "message": "Error 404. Resource not found!"}


def _basic(login: str) -> dict[str, str]:
    """A token as the login, or ``user:password``."""
    pair = login if ":" in login else f"{login}:"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


@pytest.fixture
async def sim() -> AsyncIterator[httpx.AsyncClient]:
    running = await start_simulator()
    try:
        async with httpx.AsyncClient(base_url=running.url + "/api/v1/") as client:
            yield client
    finally:
        await running.close()


async def _get(client: httpx.AsyncClient, path: str, login: str = TOKEN) -> Any:
    resp = await client.get(path, headers=_basic(login))
    assert resp.status_code == 200, resp.text
    assert resp.headers["ETag"].startswith('W/"')
    return resp.json()


async def test_build_list_index_and_show(sim: httpx.AsyncClient) -> None:
    listed = await _get(sim, "build_lists.json?per_page=100")
    items = listed["build_lists"]
    assert listed["url"] == "/api/v1/build_lists.json"
    assert {b["status"] for b in items} == set(BUILD_STATUSES)  # every status code shows
    assert all(set(b) == {"id", "status", "url"} for b in items)
    for item in items:
        shown = (await _get(sim, item["url"].removeprefix("/api/v1/")))["build_list"]
        assert set(shown) >= BUILD_LIST_KEYS
        assert shown["status"] == item["status"] and shown["url"] == item["url"]
        assert set(shown["arch"]) == {"id", "name"}
        assert set(shown["save_to_repository"]["platform"]) == {"id", "name", "url"}
    # Newest update first, paged by per_page.
    firsts = (await _get(sim, "build_lists.json?per_page=2&page=1"))["build_lists"]
    assert [b["id"] for b in firsts] == [b["id"] for b in items[:2]]


async def test_build_list_filters(sim: httpx.AsyncClient) -> None:
    def ids(body: Any) -> list[int]:
        return [b["id"] for b in body["build_lists"]]

    failed = await _get(sim, "build_lists.json?filter[status]=666&per_page=100")
    assert failed["url"] == "/api/v1/build_lists.json?filter%5Bstatus%5D=666"
    assert ids(failed) and all(b["status"] == 666 for b in failed["build_lists"])
    in_project = await _get(sim, "projects/667/build_lists.json?per_page=100")
    by_filter = await _get(sim, "build_lists.json?filter[project_id]=667&per_page=100")
    assert ids(in_project) == ids(by_filter) != []
    for bid in ids(in_project):
        assert (await _get(sim, f"build_lists/{bid}.json"))["build_list"]["project"]["id"] == 667
    assert ids(await _get(sim, "build_lists.json?filter[arch_id]=x")) == []


async def test_hidden_project_builds(sim: httpx.AsyncClient) -> None:
    """User 1 cannot read project 700: its builds are not listed and answer 403."""
    mine = await _get(sim, "build_lists.json?per_page=100")
    theirs = await _get(sim, "build_lists.json?per_page=100", login="olga:olga")
    hidden = {b["id"] for b in theirs["build_lists"]} - {b["id"] for b in mine["build_lists"]}
    assert hidden
    resp = await sim.get(f"build_lists/{min(hidden)}.json", headers=_basic(TOKEN))
    assert resp.status_code == 403
    assert resp.json() == {"message": "Access violation to this page!"}


@pytest.mark.parametrize(
    "path", ["build_lists/1.json", "build_lists/x.json", "repositories/99.json"]
)
async def test_build_refusals(sim: httpx.AsyncClient, path: str) -> None:
    resp = await sim.get(path, headers=_basic(TOKEN))
    assert (resp.status_code, resp.json()) == (404, NOT_FOUND)
    anonymous = await sim.get("build_lists.json")
    assert anonymous.status_code == 401


async def test_repositories_and_build_platforms(sim: httpx.AsyncClient) -> None:
    build = await _get(sim, "platforms/platforms_for_build.json")
    assert build["platforms"] and all(p["platform_type"] == "main" for p in build["platforms"])
    for platform in build["platforms"]:
        shown = (await _get(sim, f"platforms/{platform['id']}.json"))["platform"]
        assert set(shown) >= PLATFORM_KEYS
        for repo in shown["repositories"]:
            detail = (await _get(sim, repo["url"].removeprefix("/api/v1/")))["repository"]
            assert set(detail) >= REPOSITORY_KEYS
            assert detail["platform"]["id"] == platform["id"]
            assert detail["name"] == repo["name"]
