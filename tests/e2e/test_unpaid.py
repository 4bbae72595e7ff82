"""A hand-written flow that forgot the payment check ships no unpaid order.

The `waybill` node itself refuses: an order the platform does not show as paid takes its
`not_paid` outcome, so no SF waybill is created and nothing is uploaded for it, while every
paid order of the same day ships as before. Over the simulator, on a real database.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.loader import load_workflow
from engine.store import Store
from engine.store.models import OrderRow, Waybill
from tests.e2e.conftest import run_scenario

FORGETFUL = """\
id: forgetful
name: no payment check
nodes:
  - id: pull
    type: pull
    with: {channels: [youzan, douyin, h5]}
    next: validate
  - id: validate
    type: validate
    routes: {valid: waybill, invalid: invalid}
  - id: waybill
    type: waybill
    routes: {not_paid: unpaid}
    next: shipped
  - {id: shipped, type: finish, with: {status: shipped}}
  - {id: unpaid, type: finish, with: {status: not_shipped_unpaid}}
  - {id: invalid, type: exception_route, with: {queue: exceptions, status: invalid}}
"""


def test_a_flow_without_a_paid_check_ships_no_unpaid_order(store: Store, tmp_path: Path) -> None:
    scenario = generate_scenario(150, 5)
    path = tmp_path / "intake-150-s5.json"
    write_scenario(scenario, path)
    status_of = {
        f"{channel}:{o['order_id']}": o["status"]
        for channel, orders in scenario["channels"].items()
        for o in orders
    }
    unpaid = {ref for ref, status in status_of.items() if status != "paid"}
    assert unpaid and len(unpaid) < len(status_of)  # the day has both kinds

    workflow = load_workflow("forgetful.yaml", text=FORGETFUL)
    with start_simulator(str(path)) as sim:
        run_scenario(workflow, store, sim, path)
        uploaded = {f"{u['channel']}:{u['order_id']}" for u in sim.log("uploads")}
        created = sim.stats()["waybills_created"]
    with store.session() as session:
        final = {
            f"{c}:{o}": s
            for c, o, s in session.execute(
                select(OrderRow.channel, OrderRow.order_id, OrderRow.status)
            )
        }
        with_waybill = {
            f"{c}:{o}"
            for c, o in session.execute(
                select(OrderRow.channel, OrderRow.order_id).join(
                    Waybill, Waybill.order_pk == OrderRow.id
                )
            )
        }
    assert not with_waybill & unpaid
    assert not uploaded & unpaid
    assert {ref for ref in unpaid if final[ref] != "invalid"} <= {
        ref for ref, s in final.items() if s == "not_shipped_unpaid"
    }
    shipped = {ref for ref, s in final.items() if s == "shipped"}
    assert shipped and shipped == with_waybill == uploaded  # paid orders still ship
    assert created == len(shipped)
