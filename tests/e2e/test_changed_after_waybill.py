"""An order whose receiver changes after its waybill was made is not shipped on the old one.

The first run ships every order. Then the platform sends newer copies: one order with a new
street address, one with a new buyer nickname. The address change would send the parcel to
the old address, so that order goes to the exceptions queue (and the team is told); the
nickname change touches nothing the waybill carries, so that order stays shipped on its
waybill. Neither creates a second waybill or uploads again.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.store import Store
from engine.store.models import OrderRow, QueueItem
from engine.workflow import Workflow
from tests.e2e.conftest import run_scenario


def later_copy(scenario: dict, changes: dict[str, tuple[str, str, str]], path: Path) -> Path:
    """The scenario with some orders updated a minute after its last update."""
    orders = [o for orders in scenario["channels"].values() for o in orders]
    last = max(datetime.fromisoformat(o["updated_at"]) for o in orders)
    newer = copy.deepcopy(scenario)
    for channel, orders in newer["channels"].items():
        for order in orders:
            change = changes.get(f"{channel}:{order['order_id']}")
            if change is not None:
                part, key, value = change
                order[part][key] = value
                order["updated_at"] = (last + timedelta(minutes=1)).isoformat()
    write_scenario(newer, path)
    return path


def test_a_new_address_after_the_waybill_goes_to_exceptions_a_new_nickname_does_not(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    scenario = generate_scenario(40, 8)
    path = tmp_path / "intake-40-s8.json"
    write_scenario(scenario, path)
    shipped = [r for r, o in scenario["expected"]["outcomes"].items() if o == "shipped"]
    moved, renamed = shipped[0], shipped[1]
    changes = {
        moved: ("receiver", "address", "滨江路1号新地址"),
        renamed: ("buyer", "nick", "new-nick"),
    }
    later = later_copy(scenario, changes, tmp_path / "later.json")

    with start_simulator(str(path)) as sim:
        run_scenario(intake, store, sim, path)
        before = sim.stats()
    with start_simulator(str(later)) as sim:
        second = run_scenario(intake, store, sim, later)
        after = sim.stats()
        messages = [m["content"] for m in sim.log("messages")]
    assert second.runs == 2
    assert after["create_calls"] == 0 and after["uploads_total"] == 0  # nothing sent again
    assert before["waybills_created"] >= len(shipped)

    with store.session() as session:
        rows = dict(
            session.execute(
                select(OrderRow.channel + ":" + OrderRow.order_id, OrderRow.status).where(
                    (OrderRow.channel + ":" + OrderRow.order_id).in_([moved, renamed])
                )
            ).all()
        )
        reasons = session.scalars(
            select(QueueItem.reason)
            .join(OrderRow, OrderRow.id == QueueItem.order_pk)
            .where(QueueItem.queue == "exceptions")
        ).all()
    assert rows == {moved: "exception", renamed: "shipped"}
    changed = [reason for reason in reasons if "changed after waybill" in reason]
    assert len(changed) == 1 and "changed after waybill SF" in changed[0]
    assert any("changed after waybill" in text for text in messages)  # the team is told
