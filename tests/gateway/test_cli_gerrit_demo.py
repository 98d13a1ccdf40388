"""``revgate demo`` includes a Gerrit simulator backend named ``gerrit``."""

from __future__ import annotations

from tests.gateway.test_cli import _free_port, _post, _revgate

QUERY = """{ backends { name kind }
  gerritChanges(backend: "gerrit", first: 3) { nodes { number state revisions { number } } }
  changes(first: 5, filter: {backends: ["gerrit"]}) { nodes { __typename backend { name } } } }"""


async def test_cli_demo_serves_a_gerrit_backend() -> None:
    port = _free_port()
    async with _revgate("demo", "--port", str(port)) as url:
        body = await _post(url, QUERY)
    assert "errors" not in body, body
    data = body["data"]
    assert {"name": "gerrit", "kind": "GERRIT"} in data["backends"]
    changes = data["gerritChanges"]["nodes"]
    assert len(changes) == 3 and all(c["state"] == "OPEN" and c["revisions"] for c in changes)
    kinds = {(n["__typename"], n["backend"]["name"]) for n in data["changes"]["nodes"]}
    assert kinds == {("GerritChange", "gerrit")}
