"""Apollo's automatic persisted queries from a page: the hash computed in the browser, the
``PersistedQueryNotFound`` dance, then a short GET that carries the hash alone."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import gateway_setup
from tests.reliability.harness import ServedGateway

APQ = """async () => {
  const query = "{ backends { name kind } }";
  const bytes = new TextEncoder().encode(query);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const extensions = {persistedQuery: {version: 1, sha256Hash: hash}};
  const short = "/graphql?extensions=" + encodeURIComponent(JSON.stringify(extensions));
  const get = async () => (await fetch(short, {headers: {Accept: "application/json"}})).json();
  const first = await get();
  await fetch("/graphql", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({query, extensions}),
  });
  const second = await fetch(short, {headers: {Accept: "application/json"}});
  return {
    first: first.errors[0].message,
    second: (await second.json()).data,
    etag: second.headers.get("ETag") !== null,
  };
}"""


async def test_apq_round_trip_from_a_page(browser: Any) -> None:
    with ServedGateway(gateway_setup({})) as gw:
        page = await browser.new_page()
        await page.goto(f"{gw.url}/healthz")  # a page of the gateway's origin
        result = await page.evaluate(APQ)
        await page.close()
    assert result == {
        "first": "PersistedQueryNotFound",
        "second": {"backends": [{"name": "pw", "kind": "PATCHWORK"}]},
        "etag": True,
    }
