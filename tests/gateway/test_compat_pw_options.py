"""OPTIONS on every Patchwork API view as Patchwork 3.2.1 answers it (issue 20, item 8).

Names and descriptions are DRF's (class name split into words, the class docstring), derived
from patchwork/api/*.py at v3.2.1 (``adapters/patchwork/views.py``); a caller who may write
gets the backend's ``actions`` where the view takes PUT or POST, others never do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.gateway.compat_support import ADMIN, BOT, CompatGateway, compat_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")

# path under /api/1.3/ → (name, description), written out here (not imported) so a wrong
# table fails; descriptions quoted from the view docstrings
EXPECTED = {
    "": ("Index", ""),
    "projects/": ("Project List", "List projects."),
    "projects/1/": (
        "Project Detail",
        "get:\nShow a project.\n\npatch:\nUpdate a project.\n\nput:\nUpdate a project.",
    ),
    "people/": ("Person List", "List users."),
    "people/1/": ("Person Detail", "Show a user."),
    "users/": ("User List", "List users."),
    "users/1/": (
        "User Detail",
        "get:\nShow a user.\n\npatch:\nUpdate a user.\n\nput:\nUpdate a user.",
    ),
    "patches/": ("Patch List", "List patches."),
    "patches/3/": (
        "Patch Detail",
        "get:\nShow a patch.\n\npatch:\nUpdate a patch.\n\nput:\nUpdate a patch.",
    ),
    "patches/3/checks/": ("Check List Create", "get:\nList checks.\n\npost:\nCreate a check."),
    "patches/3/checks/1/": ("Check Detail", "Show a check."),
    "patches/3/comments/": ("Patch Comment List", "List patch comments"),
    "patches/3/comments/3/": (
        "Patch Comment Detail",
        "get:\nShow a patch comment.\n\npatch:\nUpdate a patch comment.\n\n"
        "put:\nUpdate a patch comment.",
    ),
    "covers/": ("Cover List", "List cover letters."),
    "covers/2/": ("Cover Detail", "Show a cover letter."),
    "covers/2/comments/": ("Cover Comment List", "List cover comments"),
    "covers/2/comments/1/": (
        "Cover Comment Detail",
        "get:\nShow a cover comment.\n\npatch:\nUpdate a cover comment.\n\n"
        "put:\nUpdate a cover comment.",
    ),
    "series/": ("Series List", "List series."),
    "series/2/": ("Series Detail", "Show a series."),
    "events/": ("Event List", "List events."),
    "bundles/": ("Bundle List", "List or create bundles."),
    "bundles/1/": (
        "Bundle Detail",
        "get:\nShow a bundle.\n\npatch:\nUpdate a bundle.\n\nput:\nUpdate a bundle.\n\n"
        "delete:\nDelete a bundle.",
    ),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw() -> AsyncIterator[CompatGateway]:
    async with compat_gateway() as gateway:
        yield gateway


@pytest.mark.parametrize("token", [None, BOT, ADMIN])
@pytest.mark.parametrize("path", sorted(EXPECTED))
async def test_options_names_and_descriptions(
    gw: CompatGateway, path: str, token: str | None
) -> None:
    headers = {"Authorization": f"Token {token}"} if token else {}
    for api in ("/rest/pw/api/1.3/", "/rest/pw/api/"):
        resp = await gw.client.options(api + path, headers=headers)
        assert resp.status_code == 200
        body = resp.json()
        assert (body["name"], body["description"]) == EXPECTED[path]
        assert list(body)[:4] == ["name", "description", "renders", "parses"]
        if token != ADMIN:
            assert "actions" not in body  # DRF gives field metadata to writers only


async def test_options_actions_for_writers(gw: CompatGateway) -> None:
    resp = await gw.client.options(
        "/rest/pw/api/1.3/patches/3/", headers={"Authorization": f"Token {ADMIN}"}
    )
    actions = resp.json()["actions"]
    assert list(actions) == ["PUT"]
    assert actions["PUT"]["state"] == {
        "type": "field",
        "required": True,
        "read_only": False,
        "label": "State",
    }
    # a read-only list view has none, even for a writer
    resp = await gw.client.options(
        "/rest/pw/api/1.3/series/", headers={"Authorization": f"Token {ADMIN}"}
    )
    assert "actions" not in resp.json()


async def test_options_backend_down_still_answers(gw: CompatGateway) -> None:
    gw.sim.state.fault("/api/1.3/patches/3/", "500")
    try:
        resp = await gw.client.options(
            "/rest/pw/api/1.3/patches/3/", headers={"Authorization": f"Token {ADMIN}"}
        )
    finally:
        gw.sim.state.clear_faults()
    assert resp.status_code == 200
    assert resp.json()["name"] == "Patch Detail" and "actions" not in resp.json()
