"""An address SF does not serve (filterResult 3) sends that order to the exceptions queue.

SF answers such a create with success but filterResult 3 and no waybill. The order waits in
`exceptions` with the reason; nothing is uploaded; every other order ends as the oracle says.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import select

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from connectors.simulator.state import SimOptions
from engine.store import Store
from engine.store.models import OrderRow, QueueItem
from engine.workflow import Workflow
from service.report import build_report
from service.scenarios import read_scenario
from tests.e2e.conftest import run_scenario


def test_orders_sf_cannot_deliver_wait_in_exceptions_and_the_rest_ship(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    scenario = generate_scenario(120, 21)
    path = tmp_path / "intake-120-s21.json"
    write_scenario(scenario, path)
    expected = scenario["expected"]["outcomes"]
    province_of = {
        f"{ch}:{o['order_id']}": o["receiver"]["province"]
        for ch, orders in scenario["channels"].items()
        for o in orders
    }
    shipped_in = Counter(province_of[r] for r, outcome in expected.items() if outcome == "shipped")
    remote = min(shipped_in, key=lambda p: (shipped_in[p], p))  # the least-shipped province
    in_remote = {r for r, p in province_of.items() if p == remote}

    with start_simulator(str(path), options=SimOptions(sf_undeliverable=[remote])) as sim:
        run_scenario(intake, store, sim, path)
        stats = sim.stats()
        uploaded = {f"{u['channel']}:{u['order_id']}" for u in sim.log("uploads")}
    report = build_report(store, set(read_scenario(path).refs))
    outcomes = report["outcomes"]
    refused = {r for r in in_remote if outcomes[r] == "exception"}
    assert stats["undeliverable"] == len(refused) >= shipped_in[remote] > 0
    assert stats["waybills_created"] == Counter(outcomes.values())["shipped"] == len(uploaded)
    assert not uploaded & in_remote
    want = {
        r: ("exception" if r in in_remote and o == "shipped" else o) for r, o in expected.items()
    }
    assert {r: outcomes[r] for r in want} == want  # everyone else as the oracle says
    with store.session() as session:
        queued = session.execute(
            select(OrderRow.channel, OrderRow.order_id, QueueItem.reason)
            .join(QueueItem, QueueItem.order_pk == OrderRow.id)
            .where(QueueItem.queue == "exceptions")
        ).all()
    undeliverable = {f"{c}:{o}" for c, o, reason in queued if "filterResult 3" in reason}
    assert undeliverable == refused  # (the invalid orders wait in exceptions too)
