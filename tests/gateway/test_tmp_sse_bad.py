import pytest
from tests.gateway.guarded import guarded

SSE = {"Accept": "text/event-stream"}

@pytest.mark.parametrize("body", [{}, {"query": ""}, {"query": None}, {"variables": {}}, {"query": "{ backends { name }"}, {"query": "query { backends { name } }"}, {"query": "subscription { events { cursor } }"}, {"query": "{ nope }"}, [], "x"])
@pytest.mark.parametrize("accept", ["text/event-stream", "multipart/mixed", "multipart/mixed;subscriptionSpec=1.0, application/json"])
async def test_sse_bad(body, accept) -> None:
    async with guarded() as gw:
        kw = {"json": body} if not isinstance(body, str) else {"content": body}
        resp = await gw.client.post("/graphql", headers={"Accept": accept, "Content-Type": "application/json"}, **kw)
        text = resp.text[:300]
        print(body, accept, resp.status_code, text)
        assert resp.status_code < 500, text
        assert "INTERNAL" not in text
