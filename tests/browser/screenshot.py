"""Take the README's screenshots against the demo backends: ``make screenshot``.

Starts the four demo simulators and the gateway (as ``revgate demo`` does) on loopback, opens
GraphiQL in Debian's Chromium, runs the welcome tab's query and saves a PNG; then the
dashboard (docs/dashboard.md) at desktop width with a change open, and at 375 px.
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


async def shoot_dashboard(browser: Any, url: str, out: Path) -> None:
    """The dashboard at 1400 px with its first change open, and the list at 375 px."""
    page = await browser.new_page(viewport={"width": 1400, "height": 820})
    await page.goto(url)
    await page.locator(".rows .row-open").first.click()
    await page.locator(".detail h2").wait_for(timeout=20_000)
    await page.locator(".detail .checks li, .detail p.muted").first.wait_for(timeout=20_000)
    await page.screenshot(path=str(out / "dashboard.png"))
    phone = await browser.new_page(viewport={"width": 375, "height": 740})
    await phone.goto(url)
    await phone.locator(".rows .row").first.wait_for(timeout=20_000)
    await phone.screenshot(path=str(out / "dashboard-375.png"))


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
            await shoot_dashboard(browser, f"http://127.0.0.1:{port}/", out.parent)
            await browser.close()
    finally:
        server.should_exit = True
        await task
        for sim in sims.values():
            await sim.close()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/graphiql.png")
    asyncio.run(shoot(target))
    print(f"wrote {target}, {target.parent}/dashboard.png and dashboard-375.png")
