"""Sales outbound bills (SAL_OUTSTOCK): the simulated ERP books every upload, the connector reads
them; and the simulator's booking rules without HTTP (its clock is injectable)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors.erp import LOGIN_PATH, QUERY_PATH, ErpConnector
from connectors.simulator.app import RENDERERS
from connectors.simulator.outbound import warehouse_of
from connectors.simulator.server import SimulatorHandle, start_simulator
from connectors.simulator.state import SimOptions, build_state
from engine.errors import Rejected, Unavailable
from tests.connectors.conftest import SCENARIO_PATH, SIM_OPTIONS


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorHandle]:
    """This module's simulator books an outbound bill at once for every upload."""
    options = SimOptions(**{**SIM_OPTIONS.__dict__, "erp_outbound_after_s": 0})
    with start_simulator(str(SCENARIO_PATH), options=options) as handle:
        yield handle


def two_h5_orders(scenario: dict[str, Any]) -> list[dict]:
    """An h5 order shipped from each warehouse."""
    orders = scenario["channels"]["h5"]
    south = next(o for o in orders if warehouse_of(scenario, o) == "south")
    east = next(o for o in orders if warehouse_of(scenario, o) == "east")
    return [south, east]


def booked_lines(scenario: dict[str, Any], orders: list[dict]) -> Counter:
    lines: Counter = Counter()
    for order in orders:
        warehouse = warehouse_of(scenario, order)
        for item in order["items"]:
            lines[(f"h5:{order['order_id']}", item["sku"], warehouse)] += item["qty"]
    return lines


async def test_every_upload_books_one_outbound_bill(hub, scenario):
    orders = two_h5_orders(scenario)
    for n, order in enumerate([*orders, orders[0]]):  # the first one uploaded twice
        await hub.channels["h5"].upload_tracking(order["order_id"], "SF", f"SF10000000000{n}")
    rows = await hub.erp.outbound(None)
    got = Counter()
    for r in rows:
        got[(r["order_ref"], r["sku"], r["warehouse"])] += r["qty"]
    assert got == booked_lines(scenario, orders)
    assert len({r["bill_no"] for r in rows}) == 2  # once per order
    assert all(r["approved_at"].tzinfo is not None for r in rows)


async def test_booked_bills_lower_the_on_hand(hub, scenario):
    orders = two_h5_orders(scenario)
    for order in orders:
        await hub.channels["h5"].upload_tracking(order["order_id"], "SF", "SF1000000000009")
    shipped: Counter = Counter()
    for (_ref, sku, warehouse), qty in booked_lines(scenario, orders).items():
        shipped[(sku, warehouse)] += qty
    on_hand = {(r["sku"], r["warehouse"]): r["on_hand"] for r in await hub.erp.inventory()}
    for row in scenario["inventory"]:
        pair = (row["sku"], row["warehouse"])
        assert on_hand[pair] == row["on_hand"] - shipped[pair]


async def test_outbound_since_filters_by_approve_date(hub, scenario):
    order = two_h5_orders(scenario)[0]
    await hub.channels["h5"].upload_tracking(order["order_id"], "SF", "SF1000000000009")
    (first, *_) = await hub.erp.outbound(None)
    assert await hub.erp.outbound(first["approved_at"]) != []  # at or after: included
    assert await hub.erp.outbound(first["approved_at"] + timedelta(seconds=2)) == []


async def test_outbound_is_read_page_by_page(hub, scenario, monkeypatch):
    orders = scenario["channels"]["h5"][:12]
    for order in orders:
        await hub.channels["h5"].upload_tracking(order["order_id"], "SF", "SF1000000000009")
    monkeypatch.setattr("connectors.erp.PAGE_ROWS", 5)
    rows = await hub.erp.outbound(None)
    lines = sum(len({i["sku"] for i in o["items"]}) for o in orders)
    assert len(rows) == lines > 5
    assert len({(r["bill_no"], r["sku"]) for r in rows}) == lines  # no page read twice


async def test_outbound_fault_leaves_the_other_forms_alone(hub, sim, scenario):
    sim.fault("erp", "down", 4, call="outbound")  # the call and its three retries
    with pytest.raises(Unavailable):
        await hub.erp.outbound(None)
    assert len(await hub.erp.inventory()) == len(scenario["inventory"])
    assert await hub.erp.outbound(None) == []


def test_unknown_field_or_filter_is_refused(sim):
    creds = sim.systems["erp"]
    login = {"acctID": creds["acct"], "username": creds["user"], "password": creds["password"]}
    with httpx.Client(base_url=sim.base_url) as client:
        assert client.post(LOGIN_PATH, json=login).json()["LoginResultType"] == 1
        for data in (
            {"FormId": "SAL_OUTSTOCK", "FieldKeys": "FBillNo,FNoSuchField"},
            {"FormId": "SAL_OUTSTOCK", "FieldKeys": "FBillNo", "FilterString": "FDate < 1"},
        ):
            status = client.post(QUERY_PATH, json={"data": data}).json()[0][0]["Result"]
            assert status["ResponseStatus"]["IsSuccess"] is False


async def test_outbound_needs_a_session_like_every_query(hub, sim, scenario):
    order = two_h5_orders(scenario)[0]
    await hub.channels["h5"].upload_tracking(order["order_id"], "SF", "SF1000000000009")
    await hub.erp.outbound(None)
    sim.reset()  # forgets sessions and bills
    assert await hub.erp.outbound(None) == []


async def test_bad_password_is_rejected_for_outbound_too(systems):
    erp = ErpConnector({**systems["erp"], "password": "pw-do-not-print"})
    try:
        with pytest.raises(Rejected) as err:
            await erp.outbound(None)
    finally:
        await erp.aclose()
    assert "pw-do-not-print" not in str(err.value)


def test_a_bill_waits_its_delay_on_the_simulator_clock(scenario):
    now = [1_000_000.0]
    state = build_state(scenario, None, SimOptions(erp_outbound_after_s=600), RENDERERS)
    state.clock = lambda: now[0]
    order = scenario["channels"]["douyin"][0]
    state.record_upload({"channel": "douyin", "order_id": order["order_id"], "lines": []})
    keys = ["FBillNo", "FSoorDerno"]
    assert state.outbound.rows(keys, "", now[0]) == []
    assert state.on_hand() == scenario["inventory"]
    now[0] += 600
    assert state.outbound.rows(keys, "", now[0]) == [["XSCKD000001", f"douyin:{order['order_id']}"]]
    assert state.on_hand() != scenario["inventory"]


def test_without_the_option_nothing_is_booked(scenario):
    state = build_state(scenario, None, SimOptions(), RENDERERS)
    order = scenario["channels"]["h5"][0]
    state.record_upload({"channel": "h5", "order_id": order["order_id"], "lines": []})
    assert state.outbound.bills == []
    assert state.on_hand() is scenario["inventory"]
