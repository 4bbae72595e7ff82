"""Stock that comes back through the ERP resumes the orders waiting for it, over the
simulator: a purchase arrives in the ERP, the next run's stock sync resumes every order that
was out of stock or held for low stock; each ships once and nothing is oversold."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.store import Store
from engine.store.models import InventoryRow, OrderRow, WaitRow, Waybill
from engine.workflow import Workflow
from service.intake import run_intake
from service.scenarios import read_scenario

SAFETY = 10  # order_intake's safety_stock


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("day") / "intake-300-s5.json"
    write_scenario(generate_scenario(300, 5), path)
    return path


def test_a_purchase_in_the_erp_resumes_waiting_orders_without_overselling(
    store: Store, intake: Workflow, day: Path
) -> None:
    info = read_scenario(day)
    with start_simulator(str(day)) as sim:

        def run() -> None:
            asyncio.run(run_intake(intake, store, sim.systems, since=info.since, until=info.until))

        run()
        with store.session() as session:
            waiting = session.execute(
                select(WaitRow.key, WaitRow.detail, OrderRow.order_id)
                .join(OrderRow, OrderRow.id == WaitRow.order_pk)
                .where(WaitRow.kind == "stock", WaitRow.status == "open")
            ).all()
            parked = Counter(
                session.scalars(
                    select(OrderRow.status).where(
                        OrderRow.status.in_(("out_of_stock", "held_low_stock"))
                    )
                )
            )
        assert parked["out_of_stock"] and parked["held_low_stock"], parked
        needed: Counter[tuple[str, str]] = Counter()
        for key, detail, _ in waiting:
            sku, _, warehouse = key.partition("@")
            needed[(sku, warehouse)] += detail.get("reserve", {}).get(sku, 0)
        for (sku, warehouse), qty in needed.items():
            sim.receive(sku, warehouse, qty + SAFETY)
        shipped_before = sim.stats()["waybills_created"]

        run()  # its ERP sync finds the goods: the waiting orders go on
        stats = sim.stats()
    resumed = sum(parked.values())
    assert stats["waybills_created"] == shipped_before + resumed
    with store.session() as session:
        still = session.scalar(
            select(OrderRow.id).where(OrderRow.status.in_(("out_of_stock", "held_low_stock")))
        )
        assert still is None
        per_order = Counter(session.scalars(select(Waybill.order_pk)))
        assert set(per_order.values()) == {1}  # one waybill each
        for row in session.scalars(select(InventoryRow)):
            assert 0 <= row.reserved <= row.on_hand, (row.sku, row.warehouse)
        woken_by = set(session.scalars(select(WaitRow.woken_by).where(WaitRow.status == "done")))
    assert woken_by == {"ERP stock sync"}
