"""GraphiQL is served by the gateway itself: the page names no third-party host and every
asset it loads comes from the gateway (the browser test drives it with the network cut off)."""

from __future__ import annotations

import re
from importlib import resources

import orjson

from gateway.ide import ASSETS_PATH, EXAMPLES
from tests.gateway.guarded import guarded

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser sends
_REF = re.compile(r'(?:src|href)="([^"]+)"')
_CONFIG = re.compile(r'<script type="application/json" id="revgate-config">(.*?)</script>', re.S)
_TYPES = {".js": "javascript", ".css": "text/css"}


async def test_graphiql_page_loads_only_the_gateways_own_assets() -> None:
    async with guarded(server={"anonymous": False}) as gw:  # page and assets need no key
        page = await gw.client.get("/graphql", headers=HTML)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        refs = _REF.findall(page.text)
        assert len(refs) == 7, refs  # 2 stylesheets, 5 scripts (react, react-dom, graphiql…)
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page.text)
        shipped = resources.files("gateway") / "static" / "graphiql"
        for ref in refs:
            assert ref.startswith(ASSETS_PATH + "/"), ref
            asset = await gw.client.get(ref)
            assert asset.status_code == 200, ref
            assert _TYPES[ref[ref.rindex(".") :]] in asset.headers["content-type"], ref
            assert asset.content == (shipped / ref.rsplit("/", 1)[1]).read_bytes(), ref
        # The example tabs and the endpoint travel as JSON, not as code.
        config = orjson.loads(_CONFIG.search(page.text).group(1))  # type: ignore[union-attr]
        assert config["endpoint"] == "/graphql"
        assert [t["query"] for t in config["tabs"]] == [q for _, q in EXAMPLES]
        assert config["tabs"][0]["query"].startswith("# Welcome to revgate")


async def test_graphiql_query_link_opens_the_page() -> None:
    """A shared ``/graphql?query=…`` link opens GraphiQL in a browser (the page prefills it)."""
    async with guarded() as gw:
        page = await gw.client.get(
            "/graphql", params={"query": "{ backends { name } }"}, headers=HTML
        )
        assert page.status_code == 200 and 'id="revgate-config"' in page.text


async def test_graphiql_config_cannot_close_its_script_element() -> None:
    from gateway.ide import page

    html = page('/graphql"></script><script>alert(1)</script>')
    body = _CONFIG.search(html).group(1)  # type: ignore[union-attr]
    assert "</script>" not in body and orjson.loads(body)["endpoint"].endswith("</script>")


async def test_graphiql_assets_off_with_graphiql() -> None:
    async with guarded(server={"graphiql": False}) as gw:
        assert (await gw.client.get(f"{ASSETS_PATH}/graphiql.min.js")).status_code in (401, 404)
        missing = await gw.client.get(f"{ASSETS_PATH}/../gateway/app.py")
        assert missing.status_code in (401, 404)


async def test_graphiql_assets_refuse_paths_outside_their_folder() -> None:
    async with guarded() as gw:
        for path in ("/../app.py", "/%2e%2e/app.py", "/..%2fapp.py", "/nope.js"):
            resp = await gw.client.get(ASSETS_PATH + path)
            assert resp.status_code == 404, path
            assert b"import" not in resp.content, path
