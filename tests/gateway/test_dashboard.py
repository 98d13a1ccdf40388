"""The review dashboard as HTTP sees it: served at ``/`` (browsers) and ``/dashboard`` from the
package, open without a key, strict CSP, its operations trusted documents (it works with
``persisted_only``), and ``[server] dashboard = false`` turns it off. Browser behaviour:
tests/browser/test_dashboard_browser.py."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import orjson
import pytest

from gateway.dashboard import ASSETS_PATH, operations
from gateway.persisted import manifest_of, sha256
from gateway.settings import ConfigError, settings_from_dict
from schema.build import build_schema
from schema.execution.strawberry_private import graphql_schema
from tests.gateway.guarded import guarded

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser sends
_REF = re.compile(r'(?:src|href)="([^"]+)"')
_CONFIG = re.compile(r'<script id="revgate-config" type="application/json">(.*?)</script>', re.S)
STATIC = resources.files("gateway") / "static" / "dashboard"
# The dashboard's operations that need issue 16's review model (left out without it).
REVIEW = {
    "DashboardPeople",
    "DashboardRelated",
    "DashboardRowsRelated",
    "DashboardViewerCan",
    "DashboardComment",
    "DashboardReview",
    "DashboardSetState",
    "DashboardReportCheck",
}


def _config(text: str) -> dict[str, object]:
    found = _CONFIG.search(text)
    assert found is not None, text[:300]
    config: dict[str, object] = orjson.loads(found.group(1))
    return config


@pytest.mark.parametrize("path", ["/", "/dashboard"])
async def test_dashboard_page_and_assets_need_no_key(path: str) -> None:
    async with guarded(server={"anonymous": False}) as gw:
        page = await gw.client.get(path, headers=HTML)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "connect-src 'self'" in csp
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page.text)  # no other host
        for ref in _REF.findall(page.text):
            if ref == "data:,":  # the empty favicon: no request at all
                continue
            assert ref.startswith(ASSETS_PATH + "/"), ref
            asset = await gw.client.get(ref)
            assert asset.status_code == 200, ref
            assert asset.content == (STATIC / ref.rsplit("/", 1)[1]).read_bytes()
        vendor = await gw.client.get(f"{ASSETS_PATH}/vendor/htm-preact-standalone.module.js")
        assert vendor.status_code == 200 and "javascript" in vendor.headers["content-type"]
        # The API behind it is still guarded, and the index for API clients too.
        assert (
            await gw.client.post("/graphql", json={"query": "{ backends { name } }"})
        ).status_code == 401
        assert (await gw.client.get("/", headers={"Accept": "application/json"})).status_code == 401


async def test_dashboard_index_for_api_clients_is_unchanged() -> None:
    async with guarded() as gw:
        index = await gw.client.get("/", headers={"Accept": "application/json"})
        assert index.json()["backends"] == [{"name": "pw", "kind": "patchwork", "url": gw.sim.url}]


async def test_dashboard_operations_run_by_hash_alone() -> None:
    async with guarded(server={"persisted_queries": False}) as gw:  # no APQ store either
        page = await gw.client.get("/dashboard", headers=HTML)
        hashes = _config(page.text)["operations"]
        assert isinstance(hashes, dict)
        body = {
            "operationName": "DashboardChanges",
            "variables": {"first": 3, "filter": {}},
            "extensions": {
                "persistedQuery": {"version": 1, "sha256Hash": hashes["DashboardChanges"]}
            },
        }
        answer = (await gw.client.post("/graphql", json=body)).json()
        assert "errors" not in answer, answer
        assert len(answer["data"]["changes"]["nodes"]) == 3


async def test_dashboard_works_with_persisted_only(tmp_path: Path) -> None:
    manifest = tmp_path / "ops.json"
    manifest.write_bytes(orjson.dumps(manifest_of({"Q": "query Q { backends { name } }"})))
    server = {"persisted_only": True, "trusted_documents": str(manifest)}
    async with guarded(server=server) as gw:
        hashes = _config((await gw.client.get("/dashboard", headers=HTML)).text)["operations"]
        assert isinstance(hashes, dict)
        body = {
            "operationName": "DashboardBackends",
            "extensions": {
                "persistedQuery": {"version": 1, "sha256Hash": hashes["DashboardBackends"]}
            },
        }
        answer = (await gw.client.post("/graphql", json=body)).json()
        assert answer["data"] == {
            "backends": [{"name": "pw", "kind": "PATCHWORK", "url": gw.sim.url}]
        }
        # Any other document is still refused, and the deployment's own manifest still runs.
        refused = await gw.client.post("/graphql", json={"query": "{ backends { kind } }"})
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
        own = {
            "extensions": {
                "persistedQuery": {
                    "version": 1,
                    "sha256Hash": sha256("query Q { backends { name } }"),
                }
            }
        }
        assert "errors" not in (await gw.client.post("/graphql", json=own)).json()


async def test_dashboard_off() -> None:
    async with guarded(server={"dashboard": False}) as gw:
        assert (await gw.client.get("/dashboard", headers=HTML)).status_code == 404
        assert (await gw.client.get(f"{ASSETS_PATH}/app.js")).status_code == 404
        index = await gw.client.get("/", headers=HTML)  # open to anyone: no backends listed
        assert "text/html" not in index.headers["content-type"]
        assert "backends" not in index.json()


def test_dashboard_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match="dashboard must be true or false"):
        settings_from_dict({"server": {"dashboard": "yes"}, "backends": []})


def test_dashboard_operations_left_out_are_only_the_review_models() -> None:
    """Every operation validates against this build's schema but those of issue 16's review
    model (people, related, viewerCan, kind-neutral actions) that it lacks yet."""
    runnable = set(operations(graphql_schema(build_schema())))
    text = (STATIC / "operations.graphql").read_text()
    shipped = set(re.findall(r"^(?:query|mutation|subscription) (\w+)", text, re.M))
    assert runnable <= shipped
    assert shipped - runnable <= REVIEW, shipped - runnable


def test_dashboard_vendored_code_has_its_licences() -> None:
    # Package data: tests/test_packaging.py.
    licences = (STATIC / "vendor" / "THIRD_PARTY_LICENSES.txt").read_text()
    assert "htm 3.1.1" in licences and "Apache License" in licences and "preact" in licences
