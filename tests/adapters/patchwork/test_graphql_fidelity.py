"""GraphQL against Patchwork as a real 3.2.1 server behaves (issue 20, items 1–4).

1. a series' patches in the series' own order, not patch-id order;
2. ``updatePatch(delegate:)`` with a username or a Person ID (Patchwork takes only a pk);
3. ``changes`` ties in date broken by id, as the backend's listing is;
4. the server's clock (checks, events) read in the backend's ``time_zone``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from adapters.patchwork.simulator import PatchworkData
from adapters.patchwork_fdo import mapping as fdo_mapping
from gateway.settings import ConfigError, settings_from_dict
from schema import node
from tests.conftest import Gateway, _gateway

SERIES2 = node.encode("Series", "pw", "2")
PATCH3 = node.encode("Patch", "pw", "3")
CANBERRA = "Australia/Canberra"


def _data(change: Any) -> PatchworkData:
    data = PatchworkData.from_seed()
    change(data)
    return data


async def _gw(data: PatchworkData, **backend: Any) -> AsyncIterator[Gateway]:
    async for gw in _gateway(data, **backend):
        yield gw


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body.get("errors")
    data: dict[str, Any] = body["data"]
    return data


# --- 1. series order ---------------------------------------------------------------------


@pytest.fixture
async def reordered() -> AsyncIterator[Gateway]:
    """Series 2 as a v2 whose second patch has the lower id: [4, 3]."""

    def change(d: PatchworkData) -> None:
        d.series[2]["patches"] = [4, 3]

    async for gw in _gw(_data(change)):
        yield gw


async def test_series_patches_in_series_order(reordered: Gateway) -> None:
    body = await reordered.query(
        """query($id: ID!) { node(id: $id) { ... on Series {
            patches { id } revisions { patches { id } testResults { id } } } } }""",
        {"id": SERIES2},
    )
    series = _ok(body)["node"]
    want = [node.encode("Patch", "pw", n) for n in ("4", "3")]
    assert [p["id"] for p in series["patches"]] == want
    assert [p["id"] for p in series["revisions"][0]["patches"]] == want


async def test_series_patches_order_from_list_and_patch(reordered: Gateway) -> None:
    # the series known only by a patch's inline reference, and from a list of series
    body = await reordered.query(
        """query($id: ID!) { node(id: $id) { ... on Patch {
            series { patches { id } } } } }""",
        {"id": PATCH3},
    )
    [series] = _ok(body)["node"]["series"]
    assert [p["id"] for p in series["patches"]] == [
        node.encode("Patch", "pw", n) for n in ("4", "3")
    ]
    body = await reordered.query(
        """{ series(first: 50, filter: {backend: "pw"}) { nodes { id patches { id } } } }"""
    )
    by_id = {s["id"]: s for s in _ok(body)["series"]["nodes"]}
    assert [p["id"] for p in by_id[SERIES2]["patches"]] == [
        node.encode("Patch", "pw", n) for n in ("4", "3")
    ]


# --- 2. delegate by username or Person ID ------------------------------------------------

UPDATE = """mutation($input: UpdatePatchInput!) { updatePatch(input: $input) {
    patch { delegate { id username } } errors { code message backend field } } }"""


@pytest.fixture
async def linked() -> AsyncIterator[Gateway]:
    """Person 3 (a mail sender) linked to user 1 (admin): ids that differ."""

    def change(d: PatchworkData) -> None:
        d.people[3]["user"] = 1

    async for gw in _gw(_data(change)):
        yield gw


@pytest.mark.parametrize(
    "delegate",
    [
        "admin",
        node.encode("Person", "pw", "u1"),  # the user
        node.encode("Person", "pw", "3"),  # a person whose account is admin
    ],
)
async def test_update_patch_delegate_forms(linked: Gateway, delegate: str) -> None:
    body = await linked.query(UPDATE, {"input": {"id": PATCH3, "delegate": delegate}})
    payload = _ok(body)["updatePatch"]
    assert payload["errors"] == []
    assert payload["patch"]["delegate"]["username"] == "admin"
    # what reached Patchwork is a pk, the only form it accepts
    assert linked.sim.state.data.patches[3]["delegate"] == 1


@pytest.mark.parametrize(
    ("delegate", "says"),
    [
        ("nobody-here", "no user named"),
        ("adm", "no user named"),  # ``q`` matches substrings: only the exact username counts
        (node.encode("Person", "pw", "2"), "has no user account"),
    ],
)
async def test_update_patch_delegate_unresolvable(
    linked: Gateway, delegate: str, says: str
) -> None:
    before = linked.sim.state.data.patches[3]["delegate"]
    body = await linked.query(UPDATE, {"input": {"id": PATCH3, "delegate": delegate}})
    payload = _ok(body)["updatePatch"]
    [error] = payload["errors"]
    assert error["code"] == "BAD_REQUEST" and says in error["message"]
    assert payload["patch"] is None
    assert linked.sim.state.data.patches[3]["delegate"] == before
    assert not any(m == "PATCH" for m, _ in linked.sim.state.requests)


async def test_update_patch_delegate_clear(linked: Gateway) -> None:
    await linked.query(UPDATE, {"input": {"id": PATCH3, "delegate": "admin"}})
    body = await linked.query(UPDATE, {"input": {"id": PATCH3, "delegate": ""}})
    assert _ok(body)["updatePatch"]["patch"]["delegate"] is None


# --- 3. changes: ties in date ------------------------------------------------------------

CHANGES = """query($order: ChangeOrder) {
  changes(first: 50, filter: {states: [OPEN]}, orderBy: $order) { nodes { id updatedAt } } }"""


@pytest.fixture
async def tied() -> AsyncIterator[Gateway]:
    """Patches 5 and 7 (both new) sent in the same second."""

    def change(d: PatchworkData) -> None:
        d.patches[7]["date"] = d.patches[5]["date"]

    async for gw in _gw(_data(change)):
        yield gw


@pytest.mark.parametrize("order", ["DESC", "ASC"])
async def test_changes_ties_broken_by_id(tied: Gateway, order: str) -> None:
    body = await tied.query(CHANGES, {"order": {"direction": order}})
    ids = [n["id"] for n in _ok(body)["changes"]["nodes"]]
    five, seven = node.encode("Patch", "pw", "5"), node.encode("Patch", "pw", "7")
    assert ids.index(five) < ids.index(seven)  # same date: id ascending, as the backend
    # …because the backend was asked for it: SQL leaves ties unordered between pages
    orders = [
        parse_qs(urlsplit(path).query).get("order")
        for _, path in tied.sim.state.requests
        if urlsplit(path).path.endswith("/patches/")
    ]
    want = "-date,id" if order == "DESC" else "date,id"
    assert orders and all(o == [want] for o in orders), orders


# --- 4. the server's time zone -----------------------------------------------------------

CHECKS = """query($id: ID!) { node(id: $id) { ... on Patch { checks { id date } } } }"""
EVENTS = """{ events(first: 100, filter: {backend: "pw"}) { nodes { id date } } }"""


def _local(raw: str, zone: str) -> str:
    """A naive server-clock time of ``zone`` as the UTC ISO string GraphQL answers."""
    aware = datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return aware.isoformat()


@pytest.fixture
async def canberra() -> AsyncIterator[Gateway]:
    async for gw in _gw(PatchworkData.from_seed(), time_zone=CANBERRA):
        yield gw


async def test_check_and_event_times_in_backend_zone(canberra: Gateway) -> None:
    data = canberra.sim.state.data
    body = await canberra.query(CHECKS, {"id": PATCH3})
    checks = _ok(body)["node"]["checks"]
    assert checks
    for check in checks:
        raw = data.checks[int(node.decode(check["id"], "Check").native.split("/")[-1])]
        assert check["date"] == _local(raw["date"], CANBERRA)
    body = await canberra.query(EVENTS)
    events = _ok(body)["events"]["nodes"]
    assert events
    for ev in events:
        raw = data.events[int(node.decode(ev["id"], "Event").native.split("@")[0])]
        assert ev["date"] == _local(raw["date"], CANBERRA)
    # a mail's date is UTC whatever the zone (Patchwork's parser converts it)
    body = await canberra.query(
        "query($id: ID!) { node(id: $id) { ... on Patch { createdAt } } }", {"id": PATCH3}
    )
    assert _ok(body)["node"]["createdAt"] == "2016-09-11T22:26:34+00:00"


async def test_event_filter_in_backend_zone(canberra: Gateway) -> None:
    body = await canberra.query(
        """{ events(first: 5, filter: {backend: "pw", since: "2026-11-22T08:14:40Z"}) {
            nodes { date } } }"""
    )
    _ok(body)
    sent = [p for _, p in canberra.sim.state.requests if urlsplit(p).path.endswith("/events/")]
    # 08:14:40 UTC is 19:14:40 in Canberra (daylight saving time in November)
    assert parse_qs(urlsplit(sent[-1]).query)["since"] == ["2026-11-22T19:14:40"]


async def test_utc_is_the_default() -> None:
    async for gw in _gw(PatchworkData.from_seed()):
        body = await gw.query(CHECKS, {"id": PATCH3})
        raw = gw.sim.state.data.checks[1]["date"]
        dates = [c["date"] for c in _ok(body)["node"]["checks"]]
        assert datetime.fromisoformat(raw).replace(tzinfo=UTC).isoformat() in dates


def test_fdo_server_clock_in_zone() -> None:
    from adapters.patchwork_common import set_time_zone  # here: the suite collects without it

    set_time_zone("fdo-tz", CANBERRA)
    try:
        ev = fdo_mapping.event(
            "fdo-tz",
            {"name": "series-new-revision", "event_time": "2016-02-18T09:30:33.853206"},
            None,
        )
        assert ev.date == datetime(2016, 2, 17, 22, 30, 33, 853206, tzinfo=UTC)
    finally:
        set_time_zone("fdo-tz", "UTC")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", 10, "../../etc/passwd", "UTC+10"])
def test_time_zone_setting_refused(zone: object) -> None:
    entry = {"name": "pw", "kind": "patchwork", "url": "http://pw.example", "time_zone": zone}
    with pytest.raises(ConfigError, match="time_zone must be an IANA zone name"):
        settings_from_dict({"backends": [entry]})


def test_time_zone_setting_kinds() -> None:
    ok = settings_from_dict(
        {
            "backends": [
                {
                    "name": "a",
                    "kind": "patchwork",
                    "url": "http://a.example",
                    "time_zone": CANBERRA,
                },
                {"name": "b", "kind": "patchwork-fdo", "url": "http://b.example"},
            ]
        }
    )
    assert [b.time_zone for b in ok.backends] == [CANBERRA, "UTC"]
    entry = {"name": "g", "kind": "gerrit", "url": "http://g.example", "time_zone": CANBERRA}
    with pytest.raises(ConfigError, match="time_zone only applies"):
        settings_from_dict({"backends": [entry]})
