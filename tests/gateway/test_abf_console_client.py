"""abf-console-client's commands (reproduced by ``tests/gateway/abf_console.py``) print the
same through the gateway's ABF compat mount as straight against the simulator (issue 22):
``search``, ``info``, ``status``, ``show`` (project, buildlists, build-platforms,
build-repos) and ``pullrequest``, with the client's ETag requirement on every 2xx (writes
included), ``If-None-Match`` revalidation and its error-text → exception mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from adapters.abf.simulator import TOKEN, RunningSimulator, start_simulator
from tests.gateway.abf_console import AbfApiError, AbfConsole, Exit, MissingETagError
from tests.gateway.test_compat_abf import READER, WRITER, compat_app  # the client's login

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Both:
    gateway: httpx.AsyncClient
    direct: httpx.AsyncClient
    sim: RunningSimulator

    def consoles(self, gateway_login: str = READER) -> tuple[AbfConsole, AbfConsole]:
        """A fresh client configured for the simulator, and one for the gateway."""
        straight = AbfConsole(self.direct, self.sim.url, TOKEN)
        via = AbfConsole(self.gateway, "http://revgate/rest/abf", gateway_login)
        return straight, via


def _unmoved(lines: list[str]) -> list[str]:
    """The gateway's output with its mount taken out of links: the gateway rewrites the
    server's API paths under ``/rest/abf`` on purpose (``show`` prints a maintainer's
    ``url``), everything else must be the same."""
    return [line.replace("/rest/abf/api/v1/", "/api/v1/") for line in lines]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def both() -> AsyncIterator[Both]:
    sim = await start_simulator()
    app = compat_app(sim)  # the same gateway as the compat tests
    await app.state.backends.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://revgate") as gateway,
            httpx.AsyncClient() as direct,
        ):
            yield Both(gateway, direct, sim)
    finally:
        await app.state.backends.close()
        await sim.close()


READS: list[tuple[str, ...]] = [
    ("search", "users", "iv"),
    ("search", "groups", "ab"),
    ("search", "projects", "e"),
    ("search", "platforms", "o"),
    ("info", "platforms"),
    ("info", "repositories"),
    ("info", "projects"),
    ("status", "100"),
    ("status", "110"),  # a build started: no logs yet
    ("status", "105"),  # published: container path
    ("show", "project", "abf/evil_tools"),
    ("show", "buildlists", "abf/evil_tools"),
    ("show", "buildlists", "petr/hwinfo"),
    ("show", "build-platforms"),
    ("show", "build-repos"),
]
REFUSED: list[tuple[str, ...]] = [  # mapped from ABF's error texts
    ("status", "1"),  # PageNotFoundError
    ("status", "123"),  # a hidden project's build: ForbiddenError
    ("show", "project", "abf/nope"),
    ("show", "project", "olga/secret"),
    ("show", "buildlists", "nobody/nothing"),
]


@pytest.mark.parametrize("command", READS + REFUSED, ids=["-".join(c) for c in READS + REFUSED])
async def test_read_commands_print_the_same(both: Both, command: tuple[str, ...]) -> None:
    straight, via = both.consoles()
    expected = await straight.run(*command)
    assert expected  # every command prints something
    failed = any(line.startswith(("ERROR", "exit")) for line in expected)
    assert failed == (command in REFUSED), expected
    assert _unmoved(await via.run(*command)) == expected
    # Run again: every GET revalidates with If-None-Match; 304s come from the cache and
    # the output does not change (the gateway answers 304 as the server does).
    assert await straight.run(*command) == expected
    assert _unmoved(await via.run(*command)) == expected
    assert via.revalidated == straight.revalidated


async def test_outputs_are_the_clients(both: Both) -> None:
    """What the commands print (so the comparison above compares something)."""
    straight, _ = both.consoles()
    status = await straight.run("status", "100")
    assert status[0] == f"{'Buildlist ID:':<20}100"
    assert status[2] == f"{'Status:':<20}build complete"
    assert any(line.startswith("Chroot Tree:") for line in status)
    assert await straight.run("show", "build-platforms") == ["cooker rock"]
    assert await straight.run("status", "1") == [
        "ERROR: Can not read buildlist 1: Error 404. Resource not found!",
        "exit 3",
    ]
    assert await straight.run("status", "123") == [
        "ERROR: Can not read buildlist 123: Access violation to this page!",
        "exit 3",
    ]
    assert await straight.run("show", "project", "abf/nope") == [
        "ERROR: The project abf/nope does not exist!",
        "exit 1",
    ]
    revalidated = straight.revalidated
    await straight.run("show", "build-platforms")
    assert straight.revalidated == revalidated + 1


async def test_bad_credentials_print_the_same(both: Both) -> None:
    straight = AbfConsole(both.direct, both.sim.url, "not-a-token")
    via = AbfConsole(both.gateway, "http://revgate/rest/abf", "not-a-token")
    expected = ["ERROR: Authorization failed. Incorrect username or password", "exit 0"]
    assert await straight.run("show", "build-platforms") == expected
    assert await via.run("show", "build-platforms") == expected


PULLS = [
    # opened (200 + ETag: the client reads it on writes too)
    ("abf/evil_tools", "abf/evil_tools", "From the client", "body", "master", "feature"),
    # refused by ABF (422): the client still logs success, on both paths
    ("abf/evil_tools", "abf/evil_tools", "Same ref", "body", "master", "master"),
    # an unknown project: the client's lookup error
    ("abf/nope", "abf/evil_tools", "x", "y", "master", "devel"),
]


@pytest.mark.parametrize(
    ("args", "created"),
    list(zip(PULLS, [1, 0, 0], strict=True)),
    ids=["opened", "refused", "unknown"],
)
async def test_pullrequest_prints_the_same(both: Both, args: tuple[str, ...], created: int) -> None:
    straight, via = both.consoles(gateway_login=WRITER)
    before = len(both.sim.state.data.pulls)
    expected = await straight.run("pullrequest", *args)
    assert len(both.sim.state.data.pulls) - before == created
    assert await via.run("pullrequest", *args) == expected
    # The write reached ABF once per path (a 2xx without ETag would have raised).
    assert len(both.sim.state.data.pulls) - before == 2 * created


async def test_the_double_enforces_the_clients_rules() -> None:
    """The double fails where the real client does: a 2xx without ETag (also on writes), a
    non-JSON error body, an unknown error text."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("html.json"):
            return httpx.Response(502, text="<h1>Bad gateway</h1>")
        if request.url.path.endswith("odd.json"):
            return httpx.Response(404, json={"message": "Not Found"})
        return httpx.Response(200, json={"platforms": []})  # no ETag

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        console = AbfConsole(http, "http://abf", TOKEN)
        with pytest.raises(MissingETagError):
            await console.run("show", "build-platforms")
        with pytest.raises(MissingETagError):
            await console.get_url_contents("/api/v1/x.json", post={"a": 1})
        with pytest.raises(Exit):
            await console.get_url_contents("/api/v1/html.json")
        # The gateway's old 404 text: not one the client knows, so a traceback.
        with pytest.raises(AbfApiError, match="Not Found"):
            await console.get_url_contents("/api/v1/odd.json")
        assert console.out == [
            "ERROR: Internal server error: it has returned non-json data. ",
            "ERROR: Unknown server error: Not Found",
        ]
