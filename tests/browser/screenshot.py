"""Take the README's GraphiQL screenshot against the demo backends: ``make screenshot``.

Starts the four demo simulators and the gateway (as ``revgate demo`` does) on loopback,
opens GraphiQL in Debian's Chromium, runs the welcome tab's query and saves a PNG.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from adapters.kinds import KINDS
from gateway.app import create_app
from gateway.cli import demo_settings_for, uvicorn_server
from tests.browser.conftest import chromium_path


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def shoot(out: Path) -> None:
    browser_path = chromium_path()
    if browser_path is None:
        raise SystemExit("chromium is not installed (make test installs it)")
    sims: dict[str, Any] = {}
    for kind in KINDS:  # each as `revgate demo` starts it (its kind's Demo.start)
        if kind.demo is not None:
            sims[kind.name] = await kind.demo.start(0.0)
    port = _port()
    settings = demo_settings_for({name: sim.url for name, sim in sims.items()}, "127.0.0.1", port)
    server = uvicorn_server(create_app(settings), "127.0.0.1", port, log_level="warning")
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn has no start-up event)
            await asyncio.sleep(0.05)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1400, "height": 820})
            await page.goto(f"http://127.0.0.1:{port}/graphql")
            await page.locator(".graphiql-query-editor").wait_for(timeout=20_000)
            await page.locator(".graphiql-execute-button").click()
            await page.get_by_text('"missingBackends"').wait_for(timeout=20_000)
            await page.screenshot(path=str(out))
            await browser.close()
    finally:
        server.should_exit = True
        await task
        for sim in sims.values():
            await sim.close()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/graphiql.png")
    asyncio.run(shoot(target))
    print(f"wrote {target}")
