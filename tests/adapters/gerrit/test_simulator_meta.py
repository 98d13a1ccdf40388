"""The Gerrit simulator answers what real clients call besides changes (issue 22): server
version and info, accounts, groups, project branches and descriptions, in Gerrit's shapes
(the 2.x/3.x captures in /work/shared/recordings/gerrit-2.x-captures), with ``)]}'`` and the
``/a/`` authenticated variants."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from adapters.gerrit.simulator import start_simulator

pytestmark = pytest.mark.asyncio(loop_scope="module")
MAGIC = b")]}'\n"
ADMIN = ("admin", "secret")
JDOE = ("jdoe", "jdoe-secret")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sim() -> AsyncIterator[httpx.AsyncClient]:
    running = await start_simulator()
    try:
        async with httpx.AsyncClient(base_url=running.url) as client:
            yield client
    finally:
        await running.close()


async def _get(
    client: httpx.AsyncClient, path: str, auth: tuple[str, str] | None = None
) -> tuple[int, Any]:
    resp = await client.get(path, auth=auth)
    if resp.status_code >= 400:
        return resp.status_code, resp.text
    assert resp.content.startswith(MAGIC)
    assert resp.headers["content-type"].startswith("application/json")
    return resp.status_code, json.loads(resp.content[len(MAGIC) :])


async def test_config_server_version_and_info(sim: httpx.AsyncClient) -> None:
    assert await _get(sim, "/config/server/version") == (200, "3.9.1")
    status, info = await _get(sim, "/a/config/server/info", ADMIN)
    assert status == 200
    http = info["download"]["schemes"]["http"]
    assert http["url"] == str(sim.base_url).rstrip("/") + "/a/${project}"
    assert info["gerrit"]["all_projects"] == "All-Projects"


async def test_accounts_self_needs_auth_and_answers_the_caller(sim: httpx.AsyncClient) -> None:
    assert await _get(sim, "/accounts/self") == (403, "Authentication required")
    status, me = await _get(sim, "/a/accounts/self", JDOE)
    assert (status, me["_account_id"], me["username"]) == (200, 1000096, "jdoe")
    status, detail = await _get(sim, "/a/accounts/self/detail", JDOE)
    assert next(iter(detail)) == "registered_on" and detail["email"] == "john.doe@example.com"
    assert await _get(sim, "/a/accounts/self/emails", JDOE) == (
        200,
        [{"email": "john.doe@example.com", "preferred": True}],
    )
    # Another user's emails: only with modifyAccount (the administrator).
    assert (await _get(sim, "/a/accounts/1000097/emails", JDOE))[0] == 403
    assert (await _get(sim, "/a/accounts/1000097/emails", ADMIN))[0] == 200


async def test_accounts_query_and_lookup(sim: httpx.AsyncClient) -> None:
    assert await _get(sim, "/accounts/?q=name:john") == (200, [{"_account_id": 1000096}])
    status, found = await _get(sim, "/accounts/?q=j&o=DETAILS&n=1")
    assert status == 200 and [a["username"] for a in found] == ["jdoe"]
    assert found[-1]["_more_accounts"] is True
    status, suggested = await _get(sim, "/accounts/?suggest&q=jan")
    assert [a["name"] for a in suggested] == ["Jane Roe"]
    assert (await _get(sim, "/accounts/?q="))[0] == 400
    assert (await _get(sim, "/accounts/jroe"))[1]["_account_id"] == 1000097
    assert await _get(sim, "/accounts/nobody") == (404, "Not found")


async def test_groups(sim: httpx.AsyncClient) -> None:
    status, groups = await _get(sim, "/groups/")
    assert status == 200 and list(groups) == ["Joiner", "MyProjectVerifiers"]
    assert "name" not in groups["Joiner"] and groups["Joiner"]["group_id"] == 1
    status, joiner = await _get(sim, "/groups/Joiner?o=MEMBERS")
    assert joiner["name"] == "Joiner" and len(joiner["members"]) == 2
    assert (await _get(sim, "/groups/1/"))[1]["id"] == groups["Joiner"]["id"]
    members = (await _get(sim, f"/groups/{joiner['id']}/members/"))[1]
    assert [m["username"] for m in members] == ["jdoe", "jroe"]
    assert await _get(sim, "/groups/nope") == (404, "Not found")


async def test_projects_branches_and_description(sim: httpx.AsyncClient) -> None:
    _, branches = await _get(sim, "/projects/platform%2Ftools/branches/")
    refs = [b["ref"] for b in branches]
    assert refs == [
        "HEAD",
        "refs/meta/config",
        "refs/heads/master",
        "refs/heads/release-branch",
        "refs/heads/stable",
    ]
    one = (await _get(sim, "/projects/demo/branches/master"))[1]
    assert one["ref"] == "refs/heads/master" and len(one["revision"]) == 40
    assert await _get(sim, "/projects/demo/branches/nope") == (404, "Not found")
    assert await _get(sim, "/projects/gerrit/description") == (200, "Gerrit Code Review")
    # ``d=0`` is false (args4j), paging with n and S
    assert await _get(sim, "/projects/?d=0&n=2&S=1") == (
        200,
        {"demo": {"id": "demo"}, "external/bison": {"id": "external%2Fbison"}},
    )
