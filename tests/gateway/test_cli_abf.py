"""``revgate demo`` serves an ABF simulator backend beside Patchwork."""

from __future__ import annotations

from tests.gateway.test_cli import _free_port, _post, _revgate

QUERY = """{ backends { name kind }
  pullRequests(first: 2, filter: {involvement: ALL}) { nodes { title toRef { ref } } }
  changes(first: 100, orderBy: {direction: ASC}) { nodes { __typename } } }"""


async def test_cli_demo_has_an_abf_backend() -> None:
    port = _free_port()
    async with _revgate("demo", "--port", str(port)) as url:
        body = await _post(url, QUERY)
    assert "errors" not in body, body
    data = body["data"]
    assert {"name": "abf", "kind": "ABF"} in data["backends"]
    assert len(data["pullRequests"]["nodes"]) == 2
    assert {"Patch", "PullRequest"} <= {n["__typename"] for n in data["changes"]["nodes"]}
