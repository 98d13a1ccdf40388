"""The dashboard in Debian's Chromium against the four demo simulators: the list, filters in
the URL, the detail pane, live updates, a stopped backend, persisted-only gateways, keyboard
and 375 px use, and axe-core. What needs issue 16's review model (people, related changes,
kind-neutral actions, the rebuilt demo data): tests/browser/test_dashboard_review_*.py."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson

from gateway.persisted import manifest_of
from tests.browser.dashboard_harness import (
    KEY,
    KIND_NAMES,
    axe_violations,
    demo_setup,
    graphql,
    open_dashboard,
    rows,
)
from tests.reliability.harness import ServedGateway


async def test_dashboard_lists_every_forge_and_filters_in_the_url(browser: Any) -> None:
    with ServedGateway(demo_setup()) as gw:
        page = await open_dashboard(browser, f"{gw.url}/")
        assert len(await rows(page)) == 30  # one page
        assert await page.locator(".banner").count() == 0
        kinds = {}
        for backend in ("patchwork", "fdo", "gerrit", "abf"):
            await page.select_option("#filter-backend", backend)
            await page.wait_for_url(f"**/?backend={backend}")
            await page.locator(".rows .row").first.wait_for()
            await page.wait_for_function(  # this filter's rows (not an empty list in between)
                "b => { const rows = [...document.querySelectorAll('.row .forge')];"
                " return rows.length && rows.every(e => e.textContent.startsWith(b + ' ')); }",
                arg=backend,
            )
            kinds[backend] = {r["kind"] for r in await rows(page)}
        assert sorted(k for ks in kinds.values() for k in ks) == sorted(KIND_NAMES)
        # Back: the previous filter, its rows.
        await page.go_back()
        await page.wait_for_url("**/?backend=gerrit")
        await page.wait_for_function(
            "() => { const rows = [...document.querySelectorAll('.row')];"
            " return rows.length && rows.every(e => e.dataset.kind === 'GERRIT'); }"
        )
        assert await page.input_value("#filter-backend") == "gerrit"
        # A shared link opens with its filters: text search.
        await page.goto(f"{gw.url}/dashboard?q=bitmap")
        await page.locator(".rows .row").first.wait_for()
        titles = [r["title"] for r in await rows(page)]
        assert titles and all("bitmap" in t.lower() for t in titles)
        assert await page.input_value("#filter-q") == "bitmap"
        await page.close()


async def test_dashboard_scrolls_on_the_composite_cursor(browser: Any) -> None:
    with ServedGateway(demo_setup()) as gw:
        page = await open_dashboard(browser, f"{gw.url}/dashboard")
        first = await rows(page)
        await page.locator(".sentinel").scroll_into_view_if_needed()
        await page.wait_for_function("() => document.querySelectorAll('.rows .row').length > 30")
        shown = await rows(page)
        assert shown[:30] == first
        assert len({r["id"] for r in shown}) == len(shown)  # every change once
        await page.close()


async def test_dashboard_detail_shows_checks_revisions_and_links(browser: Any) -> None:
    with ServedGateway(demo_setup()) as gw:
        page = await open_dashboard(browser, f"{gw.url}/dashboard?backend=gerrit")
        with_checks = page.locator(".row", has=page.locator("button.check")).first
        title = await with_checks.locator(".row-open").text_content()
        await with_checks.locator("button.check").click()  # the rollup's checks, on expand
        await with_checks.locator(".popover .checks li").first.wait_for()
        await with_checks.locator(".row-open").click()
        detail = page.locator(".detail")
        await detail.locator("h2").wait_for()
        assert await detail.locator("h2").text_content() == title
        assert "change=" in page.url
        await detail.locator("#section-checks ~ .checks li").first.wait_for()
        await detail.locator("h3", has_text="Patch sets").wait_for()
        links = await detail.locator("a").all_text_contents()
        assert "Open on gerrit" in links and "patch (base64)" in links
        # A Patchwork patch: its series, revisions and their test results, mbox downloads.
        await page.goto(f"{gw.url}/dashboard?backend=patchwork")
        await page.locator(".rows .row-open").first.click()
        await detail.locator("h3", has_text="Series").wait_for()
        assert await detail.locator("h3", has_text="Revisions").count() == 1
        links = await detail.locator("a").all_text_contents()
        assert "Open on patchwork" in links and "patch mbox" in links
        assert "series mbox (v1)" in links
        # The back button closes the detail.
        await page.go_back()
        await page.wait_for_function("() => !document.querySelector('.detail')")
        await page.close()


async def test_dashboard_shows_a_change_live_without_losing_the_scroll(browser: Any) -> None:
    with ServedGateway(demo_setup({"poll_interval": 0.3})) as gw:
        page = await open_dashboard(browser, f"{gw.url}/dashboard?backend=patchwork")
        target = (await rows(page))[5]
        await page.locator(".list").evaluate("e => { e.scrollTop = 200; }")
        states, deadline = ["accepted", "rejected"], time.monotonic() + 30
        marked: list[str] = []
        n = 0
        while time.monotonic() < deadline and not marked:
            # Changed through the API until the page shows it (the first change may fall
            # before the subscription's baseline poll).
            answer = await graphql(
                gw.url,
                "mutation($id: ID!, $s: String) { updatePatch(input: {id: $id, state: $s})"
                " { errors { message } } }",
                {"id": target["id"], "s": states[n % 2]},
            )
            assert answer["data"]["updatePatch"]["errors"] == [], answer
            n += 1
            await asyncio.sleep(0.5)
            marked = [r["mark"] for r in await rows(page) if r["id"] == target["id"] and r["mark"]]
        assert marked == ["updated"]
        assert await page.locator(".list").evaluate("e => e.scrollTop") == 200
        await page.close()


async def test_dashboard_names_a_stopped_backend_and_keeps_the_others(browser: Any) -> None:
    with ServedGateway(demo_setup(stopped="gerrit")) as gw:
        page = await open_dashboard(browser, f"{gw.url}/")
        banner = page.locator(".banner[role=alert]")
        await banner.wait_for()
        assert await banner.locator(".missing").all_text_contents() == ["gerrit"]
        kinds = {r["kind"] for r in await rows(page)}
        assert kinds and "GERRIT" not in kinds
        await page.close()


async def test_dashboard_runs_on_a_persisted_only_gateway(browser: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "ops.json"
    manifest.write_bytes(orjson.dumps(manifest_of({"Q": "query Q { backends { name } }"})))
    server = {"persisted_only": True, "trusted_documents": str(manifest)}
    with ServedGateway(demo_setup(server)) as gw:
        page = await open_dashboard(browser, f"{gw.url}/")
        assert len(await rows(page)) == 30
        await page.locator(".rows .row-open").first.click()
        await page.locator(".detail h2").wait_for()
        assert await page.locator(".detail .error").count() == 0
        await page.close()


async def test_dashboard_keyboard(browser: Any) -> None:
    with ServedGateway(demo_setup()) as gw:
        page = await open_dashboard(browser, f"{gw.url}/dashboard")
        shown = await rows(page)
        await page.keyboard.press("j")
        await page.keyboard.press("j")
        await page.keyboard.press("k")
        await page.keyboard.press("j")
        focused = await page.evaluate("() => document.activeElement.closest('.row').dataset.id")
        assert focused == shown[1]["id"]
        await page.keyboard.press("Enter")
        await page.locator(".detail h2").wait_for()
        assert await page.locator(".detail h2").text_content() == shown[1]["title"]
        await page.keyboard.press("Escape")
        await page.wait_for_function("() => !document.querySelector('.detail')")
        await page.keyboard.press("/")
        assert await page.evaluate("() => document.activeElement.id") == "filter-q"
        await page.close()


async def test_dashboard_at_375_px(browser: Any) -> None:
    with ServedGateway(demo_setup()) as gw:
        page = await open_dashboard(browser, f"{gw.url}/dashboard", width=375)
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 375
        await page.locator(".rows .row-open").first.click()
        await page.locator(".detail h2").wait_for()
        assert not await page.locator(".list").is_visible()  # the detail takes the screen
        assert await page.evaluate("() => document.documentElement.scrollWidth") <= 375
        await page.locator(".detail .close").click()
        await page.locator(".list").wait_for(state="visible")
        await page.close()


async def test_dashboard_has_no_serious_accessibility_violations(browser: Any) -> None:
    with ServedGateway(demo_setup()) as gw:
        for width in (1280, 375):
            for scheme in ("light", "dark"):
                url = f"{gw.url}/dashboard?backend=gerrit"
                page = await open_dashboard(browser, url, width, axe=True)
                await page.emulate_media(color_scheme=scheme)
                assert await axe_violations(page) == [], (width, scheme)
                await page.locator(".rows .row-open").first.click()
                await page.locator(".detail h2").wait_for()
                await page.locator(".detail .checks, .detail p.muted").first.wait_for()
                assert await axe_violations(page) == [], (width, scheme, "detail")
                await page.close()


async def test_dashboard_on_a_closed_gateway_takes_a_key(browser: Any) -> None:
    with ServedGateway(demo_setup({"anonymous": False})) as gw:
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(f"{gw.url}/")  # the page itself is open
        banner = page.locator(".banner[role=alert]")
        await banner.wait_for()  # the API's refusal, shown (no empty list)
        assert await page.locator(".rows .row").count() == 0
        await page.click(".keypanel > button")
        await page.fill("#api-key", KEY)
        await page.click(".key-form button[type=submit]")
        await page.locator(".rows .row").first.wait_for()
        assert await banner.count() == 0
        # Kept by the browser: a new page of the same context needs no key entry.
        other = await context.new_page()
        await other.goto(f"{gw.url}/dashboard")
        await other.locator(".rows .row").first.wait_for()
        assert await page.evaluate("() => localStorage.getItem('revgate.apiKey')") == KEY
        await context.close()


async def test_dashboard_filters_by_project_state_and_checks(browser: Any) -> None:
    with ServedGateway(demo_setup()) as gw:
        page = await open_dashboard(browser, f"{gw.url}/dashboard?backend=gerrit&check=FAILURE")
        badges = await page.locator(".rows .row button.check").all_text_contents()
        assert badges and all(b.strip() == "checks: failure" for b in badges)
        assert await page.input_value("#filter-check") == "FAILURE"
        # Project: its menu is read when opened; the choice goes to the URL and the API.
        await page.goto(f"{gw.url}/dashboard?backend=abf")
        await page.locator(".rows .row").first.wait_for()
        await page.locator("#filter-project").focus()
        await page.locator("#filter-project option:nth-child(2)").wait_for(state="attached")
        value = await page.locator("#filter-project option:nth-child(2)").get_attribute("value")
        name = await page.locator("#filter-project option:nth-child(2)").text_content() or ""
        await page.select_option("#filter-project", value)
        await page.wait_for_url("**project=*")
        await page.wait_for_function(
            "p => { const rows = [...document.querySelectorAll('.rows .project')];"
            " return rows.length && rows.every(e => e.textContent === p); }",
            arg=name.split(" (")[0],
        )
        await page.select_option("#filter-state", "MERGED")
        await page.wait_for_url("**state=MERGED*")
        await page.wait_for_function(
            "() => { const s = [...document.querySelectorAll('.rows .state')];"
            " return s.length && s.every(e => e.textContent === 'merged'); }"
        )
        await page.close()
