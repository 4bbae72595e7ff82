"""Shipped orders stop being reserved: the ERP's outbound bills consume their reservations.

The simulated ERP books a sales outbound bill for every tracking upload at once
(`erp_outbound_after_s=0`), so after a day's run its on-hand is lower by everything shipped;
the next trigger must count each shipped order once (in that lower on-hand), not twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors import build_connectors
from connectors.erp import ErpConnector
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from connectors.simulator.state import SimOptions
from engine.ingest import ingest
from engine.runner import RunEnv
from engine.store import Store
from engine.store.models import InventoryRow, OrderRow, StockMove
from engine.store.orders import get_cursor
from engine.store.outbound import CURSOR
from engine.workflow import Workflow
from service.intake import IntakeSummary, run_intake
from service.report import build_report, compare_with_expected
from service.scenarios import ScenarioInfo, read_scenario

Pair = tuple[str, str]


@pytest.fixture
def day(tmp_path: Path) -> tuple[dict[str, Any], ScenarioInfo]:
    scenario = generate_scenario(200, 5)
    path = tmp_path / "intake-200-s5.json"
    write_scenario(scenario, path)
    return scenario, read_scenario(path)


def trigger(intake: Workflow, store: Store, sim: SimulatorHandle, info: ScenarioInfo) -> Any:
    return asyncio.run(run_intake(intake, store, sim.systems, since=info.since, until=info.until))


def inventory(store: Store) -> dict[Pair, tuple[int, int]]:
    """(sku, warehouse) -> (on_hand, reserved) as orderhub holds them."""
    with store.session() as session:
        rows = session.execute(select(InventoryRow)).scalars()
        return {(r.sku, r.warehouse): (r.on_hand, r.reserved) for r in rows}


def moves(store: Store, kind: str) -> list[tuple[str, Pair, int]]:
    """(order ref, (sku, warehouse), qty) of every ledger move of `kind`."""
    query = (
        select(
            OrderRow.channel, OrderRow.order_id, StockMove.sku, StockMove.warehouse, StockMove.qty
        )
        .join(OrderRow, OrderRow.id == StockMove.order_pk)
        .where(StockMove.kind == kind)
    )
    with store.session() as session:
        return [(f"{c}:{o}", (s, w), q) for c, o, s, w, q in session.execute(query)]


def erp_on_hand(sim: SimulatorHandle) -> dict[Pair, int]:
    async def read() -> list[dict]:
        erp = ErpConnector(sim.systems["erp"])
        try:
            return await erp.inventory()
        finally:
            await erp.aclose()

    return {(r["sku"], r["warehouse"]): r["on_hand"] for r in asyncio.run(read())}


def shipped_refs(sim: SimulatorHandle) -> set[str]:
    return {f"{u['channel']}:{u['order_id']}" for u in sim.log("uploads")}


def assert_counted_once(
    store: Store, sim: SimulatorHandle, scenario: dict[str, Any], shipped: set[str]
) -> None:
    """Per SKU@warehouse: reserved holds only unshipped orders, on-hand is the ERP's lowered
    figure, and available is the start figure less everything ever reserved."""
    start = {(r["sku"], r["warehouse"]): r["on_hand"] for r in scenario["inventory"]}
    all_reserved, still_reserved = Counter(), Counter()
    for ref, pair, qty in moves(store, "reserve"):
        all_reserved[pair] += qty
        still_reserved[pair] += 0 if ref in shipped else qty
    erp = erp_on_hand(sim)
    for pair, (on_hand, reserved) in inventory(store).items():
        assert reserved == still_reserved[pair], pair
        assert on_hand == erp[pair], pair
        assert on_hand - reserved == start[pair] - all_reserved[pair], pair
    consumed = moves(store, "consume")
    assert {ref for ref, _, _ in consumed} == shipped
    assert sorted(consumed) == sorted(m for m in moves(store, "reserve") if m[0] in shipped)


def run_the_day(
    intake: Workflow, store: Store, sim: SimulatorHandle, day: tuple[dict, ScenarioInfo]
) -> tuple[IntakeSummary, set[str]]:
    """The day's first run: its outcomes are the oracle's; shipped orders are still reserved."""
    scenario, info = day
    first = trigger(intake, store, sim, info)
    assert first.warnings == []
    assert compare_with_expected(build_report(store), scenario["expected"]) == []
    shipped = shipped_refs(sim)
    assert shipped and first.outcomes["shipped"] == len(shipped)
    reserved = Counter()  # every reservation is still held, shipped orders' too
    for _ref, pair, qty in moves(store, "reserve"):
        reserved[pair] += qty
    assert {pair: r for pair, (_, r) in inventory(store).items() if r} == +reserved
    assert moves(store, "consume") == []
    return first, shipped


def test_shipped_orders_are_counted_once_from_the_next_trigger(
    intake: Workflow, store: Store, day: tuple[dict, ScenarioInfo]
) -> None:
    scenario, info = day
    with start_simulator(str(info.path), options=SimOptions(erp_outbound_after_s=0)) as sim:
        _, shipped = run_the_day(intake, store, sim, day)
        second = trigger(intake, store, sim, info)
        assert (second.changed, second.runs, second.warnings) == (0, 0, [])
        assert_counted_once(store, sim, scenario, shipped)
        settled = (inventory(store), moves(store, "consume"))
        third = trigger(intake, store, sim, info)  # the same bills read again: nothing twice
        assert third.warnings == []
        assert (inventory(store), moves(store, "consume")) == settled
    assert compare_with_expected(build_report(store), scenario["expected"]) == []


def test_bills_not_read_wait_for_the_next_trigger(
    intake: Workflow, store: Store, day: tuple[dict, ScenarioInfo]
) -> None:
    scenario, info = day
    with start_simulator(str(info.path), options=SimOptions(erp_outbound_after_s=0)) as sim:
        _, shipped = run_the_day(intake, store, sim, day)
        held = inventory(store)
        sim.fault("erp", "down", 4, call="outbound")  # the read and its three retries
        second = trigger(intake, store, sim, info)
        assert len(second.warnings) == 1
        assert "stock: ERP outbound bills not read" in second.warnings[0]
        with store.engine.connect() as conn:
            assert get_cursor(conn, CURSOR) is None
        erp = erp_on_hand(sim)
        for pair, (on_hand, reserved) in inventory(store).items():
            # on-hand is refreshed, reservations stay: shipped orders count twice for now
            # (available understated, never overstated)
            assert (on_hand, reserved) == (erp[pair], held[pair][1])
        third = trigger(intake, store, sim, info)
        assert third.warnings == []
        assert_counted_once(store, sim, scenario, shipped)
        with store.engine.connect() as conn:
            assert get_cursor(conn, CURSOR) is not None


def test_a_dry_run_consumes_nothing(
    intake: Workflow, store: Store, day: tuple[dict, ScenarioInfo]
) -> None:
    _, info = day

    async def dry_ingest(sim: SimulatorHandle) -> None:
        connectors = build_connectors(sim.systems)
        env = RunEnv(intake, store, connectors, dry_run=True)
        try:
            await ingest(env, since=info.since, until=info.until)
        finally:
            env.close()
            await connectors.aclose()

    with start_simulator(str(info.path), options=SimOptions(erp_outbound_after_s=0)) as sim:
        run_the_day(intake, store, sim, day)
        held = inventory(store)
        asyncio.run(dry_ingest(sim))
    assert inventory(store) == held
    assert moves(store, "consume") == []
    with store.engine.connect() as conn:
        assert get_cursor(conn, CURSOR) is None
