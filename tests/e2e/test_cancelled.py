"""Orders the platform closes after payment: what they held goes back, a parcel goes to a person.

The first run holds some orders for low stock (reserved, no waybill) and ships others. Then
the platform sends them again as cancelled: a held order gives its reservation back and its
`held` queue item is closed; a shipped order (its waybill made) goes to the exceptions queue
to have its parcel intercepted, keeping its reservation; an unpaid order is just cancelled.
Nothing goes to SF again.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.store import Store
from engine.store.models import InventoryRow, OrderRow, QueueItem, StockMove
from engine.workflow import Workflow
from service.report import build_report
from tests.e2e.conftest import run_scenario


def cancelled_copy(scenario: dict, refs: set[str], path: Path, status: str = "cancelled") -> Path:
    """The scenario with `refs` moved to `status` by the platform a minute after its last
    update (and, for `shipped`, their buyer nickname changed too)."""
    orders = [o for orders in scenario["channels"].values() for o in orders]
    last = max(datetime.fromisoformat(o["updated_at"]) for o in orders)
    newer = copy.deepcopy(scenario)
    for channel, orders in newer["channels"].items():
        for order in orders:
            if f"{channel}:{order['order_id']}" in refs:
                order["status"] = status
                order["updated_at"] = (last + timedelta(minutes=1)).isoformat()
                if status == "shipped":
                    order["buyer"]["nick"] = "changed-" + order["buyer"]["nick"]
    write_scenario(newer, path)
    return path


def reserved_total(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.sum(InventoryRow.reserved))) or 0


def standing(store: Store, ref: str) -> tuple[str, list[tuple[str, str]]]:
    channel, order_id = ref.split(":")
    with store.session() as session:
        pk, status = session.execute(
            select(OrderRow.id, OrderRow.status).where(
                OrderRow.channel == channel, OrderRow.order_id == order_id
            )
        ).one()
        items = session.execute(
            select(QueueItem.queue, QueueItem.status).where(QueueItem.order_pk == pk)
        ).all()
    return status, sorted(tuple(i) for i in items)


def test_cancelled_orders_give_back_their_stock_and_a_made_parcel_goes_to_a_person(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    scenario = generate_scenario(200, 5)
    path = tmp_path / "intake-200-s5.json"
    write_scenario(scenario, path)
    with start_simulator(str(path)) as sim:
        run_scenario(intake, store, sim, path)
    first_of: dict[str, str] = {}
    for ref, outcome in sorted(build_report(store)["outcomes"].items()):
        first_of.setdefault(outcome, ref)
    held, shipped, unpaid = (first_of[o] for o in ("held_low_stock", "shipped", "awaiting_payment"))
    later = cancelled_copy(scenario, {held, shipped, unpaid}, tmp_path / "later.json")
    assert standing(store, held) == ("held_low_stock", [("held", "open")])
    before = reserved_total(store)
    with start_simulator(str(later)) as sim:
        second = run_scenario(intake, store, sim, later)
        stats = sim.stats()
        messages = [m["content"] for m in sim.log("messages")]
    assert second.runs == 3
    assert stats["create_calls"] == 0 and stats["uploads_total"] == 0

    assert standing(store, held) == ("cancelled", [("held", "cancelled")])
    assert standing(store, shipped) == ("cancelled_after_waybill", [("exceptions", "open")])
    assert standing(store, unpaid) == ("cancelled", [])
    with store.session() as session:
        released = session.scalars(select(StockMove.qty).where(StockMove.kind == "release")).all()
    assert released and reserved_total(store) == before - sum(released)
    assert any("intercept the parcel" in text for text in messages)


def test_an_order_shown_shipped_stays_ours_or_is_marked_shipped_elsewhere(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    """Our own upload echoed back with another change stays `shipped`; an order shipped
    outside orderhub is `shipped_elsewhere`; neither reaches SF."""
    scenario = generate_scenario(60, 3)
    path = tmp_path / "intake-60-s3.json"
    write_scenario(scenario, path)
    with start_simulator(str(path)) as sim:
        run_scenario(intake, store, sim, path)
    outcomes = sorted(build_report(store)["outcomes"].items())
    ours = next(ref for ref, outcome in outcomes if outcome == "shipped")
    theirs = next(ref for ref, outcome in outcomes if outcome == "awaiting_payment")
    later = cancelled_copy(scenario, {ours, theirs}, tmp_path / "later.json", "shipped")
    with start_simulator(str(later)) as sim:
        second = run_scenario(intake, store, sim, later)
        stats = sim.stats()
    assert second.runs == 2
    assert stats["create_calls"] == 0 and stats["uploads_total"] == 0
    assert standing(store, ours) == ("shipped", [])
    assert standing(store, theirs) == ("shipped_elsewhere", [])
