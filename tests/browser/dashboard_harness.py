"""The dashboard's browser tests' set-up: the four demo simulators (what ``revgate demo``
serves) behind a served gateway, one of them optionally stopped, and helpers for the page.

axe-core (``tests/browser/vendor/axe-core``, from the npm registry: its README) is injected
into a page by ``axe_violations``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from adapters.kinds import KINDS
from adapters.plugin import Simulator
from gateway.auth import hash_key
from gateway.cli import demo_settings_for
from gateway.settings import Settings
from gateway.settings_access import ApiKeySettings
from tests.reliability.harness import Setup

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
KEY = "dashboard-test-key"  # an [[api_keys]] entry of every set-up below
KIND_NAMES = ("PATCHWORK", "PATCHWORK_FDO", "GERRIT", "ABF")


def demo_setup(
    server: Mapping[str, Any] | None = None,
    *,
    stopped: str | None = None,
    anonymous_writes: bool = True,
    started: list[Mapping[str, Simulator]] | None = None,
) -> Setup:
    """Every kind's demo simulator and a gateway over them as ``revgate demo`` configures it
    (``gateway.cli.demo_settings_for``), with these ``[server]`` keys and the API key ``KEY``.
    ``stopped``: that backend's simulator is stopped before the gateway starts (its URL still
    configured). ``started`` receives the simulators by backend name."""

    async def setup() -> tuple[Settings, Callable[[], Awaitable[None]]]:
        running: dict[str, Simulator] = {}
        urls: dict[str, str] = {}
        for kind in KINDS:
            if kind.demo is not None:
                sim = await kind.demo.start(0.0)
                running[str(kind.demo.backend["name"])] = sim
                urls[kind.name] = sim.url
        demo = demo_settings_for(urls, "127.0.0.1", 8000)  # what `revgate demo` serves
        settings = dataclasses.replace(
            demo,
            server=dataclasses.replace(demo.server, **dict(server or {})),
            api_keys=(ApiKeySettings(name="tester", sha256=hash_key(KEY)),),
            backends=tuple(
                dataclasses.replace(b, anonymous_writes=anonymous_writes) for b in demo.backends
            ),
        )
        if stopped is not None:
            await running.pop(stopped).close()
        if started is not None:
            started.append(running)

        async def cleanup() -> None:
            for sim in running.values():
                await sim.close()

        return settings, cleanup

    return setup


async def graphql(url: str, query: str, variables: Mapping[str, Any] | None = None) -> Any:
    """One GraphQL request to the served gateway, with ``KEY``."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{url}/graphql",
            json={"query": query, "variables": dict(variables or {})},
            headers={"Authorization": f"Bearer {KEY}"},
        ) as resp,
    ):
        return orjson.loads(await resp.read())


async def rows(page: Any) -> list[dict[str, str]]:
    """The list's rows as shown: id, kind, title."""
    found: list[dict[str, str]] = await page.eval_on_selector_all(
        ".rows .row",
        """els => els.map(e => ({id: e.dataset.id, kind: e.dataset.kind,
            title: e.querySelector('.row-open').textContent.trim(),
            mark: e.querySelector('.badge.mark')?.textContent ?? ''}))""",
    )
    return found


async def open_dashboard(browser: Any, url: str, width: int = 1280, axe: bool = False) -> Any:
    """A page on the dashboard, its first rows shown. ``axe``: the page's CSP lets the test
    inject axe-core (the dashboard's own policy allows no inline script)."""
    context = await browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=axe)
    page = await context.new_page()
    await page.goto(url)
    await page.locator(".rows .row").first.wait_for(timeout=20_000)
    return page


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is."""
    await page.add_script_tag(content=AXE.read_text())
    result: dict[str, Any] = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
