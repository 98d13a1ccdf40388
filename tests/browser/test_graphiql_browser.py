"""GraphiQL in a real browser with the network cut off: every request but the gateway's is
refused, and the page still loads, runs a query and shows its result."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlsplit

from tests.reliability.harness import ServedGateway, simulator_setup

QUERY = "{ backends { name kind } }"


async def test_graphiql_offline_runs_a_shared_query(browser: Any) -> None:
    with ServedGateway(simulator_setup()) as gw:
        origin = urlsplit(gw.url).netloc
        refused: list[str] = []
        context = await browser.new_context()
        page = await context.new_page()

        async def only_the_gateway(route: Any) -> None:
            if urlsplit(route.request.url).netloc == origin:
                await route.continue_()
            else:  # the machine may have no network; this makes sure the page never needs it
                refused.append(route.request.url)
                await route.abort()

        await context.route("**/*", only_the_gateway)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{gw.url}/graphql?query={quote(QUERY)}")
        editor = page.locator(".graphiql-query-editor")
        await editor.wait_for(timeout=20_000)
        assert "backends" in await editor.inner_text()  # ?query= prefilled the editor
        await page.locator(".graphiql-execute-button").click()
        result = page.locator(".graphiql-response")
        for _ in range(200):
            text = await result.inner_text()
            if '"pw"' in text:
                break
            await asyncio.sleep(0.05)
        assert '"name": "pw"' in text and '"kind": "PATCHWORK"' in text, text
        # The Docs panel reads the schema over the same endpoint.
        await page.locator('[aria-label="Show Documentation Explorer"]').click()
        await page.get_by_text("Root Types").wait_for(timeout=10_000)
        await context.close()
    assert refused == [] and errors == [], (refused, errors)
