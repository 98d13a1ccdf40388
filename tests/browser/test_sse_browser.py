"""A browser's own ``EventSource`` receives subscription events over Server-Sent Events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import quote

from tests.gateway.test_streams import SUBSCRIBE, Sim, _changer, _setup
from tests.reliability.harness import ServedGateway

LISTEN = """(url) => new Promise((resolve) => {
  const source = new EventSource(url);
  source.addEventListener("next", (e) => { source.close(); resolve(e.data); });
  source.onerror = () => { source.close(); resolve("error"); };
})"""


async def test_event_source_receives_a_subscription_event(browser: Any) -> None:
    sim = Sim()
    with ServedGateway(_setup(sim)) as gw:
        page = await browser.new_page()
        await page.goto(f"{gw.url}/healthz")  # any page of the gateway's origin
        listening = asyncio.ensure_future(
            page.evaluate(LISTEN, f"{gw.url}/graphql?query={quote(SUBSCRIBE)}")
        )
        changer = asyncio.create_task(_changer(sim))
        try:
            data = await asyncio.wait_for(listening, 20)
        finally:
            changer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await changer
        await page.close()
    assert data != "error"
    assert json.loads(data)["data"]["events"]["category"] == "patch-state-changed"
