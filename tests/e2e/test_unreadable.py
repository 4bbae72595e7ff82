"""A platform record orderhub cannot read is kept and queued with its reason; nothing stops.

The simulator serves three records without a required field (Youzan's `created`, Douyin's
`create_time`, the H5 mall's `created_at`). The pull goes on, every other order runs, the
three are stored with their raw records and wait in the exceptions queue, and no run starts
for them. When the platform later sends readable copies, they run and their queue items
are resolved.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from connectors.simulator.state import SimOptions
from engine.store import Store
from engine.store.models import OrderRow, QueueItem, RunRow, Waybill
from engine.workflow import Workflow
from tests.e2e.conftest import run_scenario


def broken_refs(expected: dict) -> list[str]:
    """One shipped order per channel that no duplicate points at (or is one)."""
    linked = set(expected["duplicates"]) | set(expected["duplicates"].values())
    picked = {}
    for ref, outcome in expected["outcomes"].items():
        channel = ref.split(":")[0]
        if outcome == "shipped" and ref not in linked and channel not in picked:
            picked[channel] = ref
    return sorted(picked.values())


def fixed_copy(scenario: dict, refs: list[str], path: Path) -> Path:
    """The scenario with `refs` updated a minute after its last update (readable again)."""
    orders = [o for orders in scenario["channels"].values() for o in orders]
    last = max(datetime.fromisoformat(o["updated_at"]) for o in orders)
    fixed = copy.deepcopy(scenario)
    for channel, orders in fixed["channels"].items():
        for order in orders:
            if f"{channel}:{order['order_id']}" in refs:
                order["updated_at"] = (last + timedelta(minutes=1)).isoformat()
    write_scenario(fixed, path)
    return path


def standing(store: Store, refs: list[str]) -> dict[str, tuple]:
    with store.session() as session:
        rows = session.execute(
            select(OrderRow.channel, OrderRow.order_id, OrderRow.status, OrderRow.reason,
                   OrderRow.raw, func.count(RunRow.id))
            .outerjoin(RunRow, RunRow.order_pk == OrderRow.id)
            .group_by(OrderRow.id)
        ).all()  # fmt: skip
    return {f"{c}:{o}": (s, r, raw, runs) for c, o, s, r, raw, runs in rows if f"{c}:{o}" in refs}


def test_unreadable_records_are_kept_and_queued_and_the_rest_runs(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    scenario = generate_scenario(60, 3)
    path = tmp_path / "intake-60-s3.json"
    write_scenario(scenario, path)
    broken = broken_refs(scenario["expected"])
    assert len(broken) == 3

    with start_simulator(str(path), options=SimOptions(malformed=broken)) as sim:
        first = run_scenario(intake, store, sim, path)
        created = sim.stats()["waybills_created"]
    assert first.pulled == scenario["expected"]["orders_total"]
    assert first.runs == first.pulled - 3
    for ref in broken:
        assert any(w.startswith(f"{ref}: unreadable platform record") for w in first.warnings)
    seen = standing(store, broken)
    assert set(seen) == set(broken)
    for status, reason, raw, runs in seen.values():
        assert status == "exception" and runs == 0
        assert reason.startswith("unreadable platform record (") and "create" in reason
        assert raw  # the platform's record as received is kept
    assert "created" not in seen[broken[2]][2]["full_order_info"]["order_info"]  # youzan
    with store.session() as session:
        queued = session.scalars(
            select(QueueItem.status).where(
                QueueItem.queue == "exceptions", QueueItem.run_id.is_(None)
            )
        ).all()
        waybills = session.scalar(select(func.count()).select_from(Waybill))
    assert queued == ["open"] * 3
    assert created == waybills == first.outcomes["shipped"]

    later = fixed_copy(scenario, broken, tmp_path / "intake-60-s3-fixed.json")
    with start_simulator(str(later)) as sim:  # the platforms send readable, newer records
        second = run_scenario(intake, store, sim, later)
    assert second.runs == 3 and sum(second.outcomes.values()) == 3
    for status, _reason, _raw, runs in standing(store, broken).values():
        assert status in ("shipped", "held_low_stock", "out_of_stock") and runs == 1
    with store.session() as session:
        resolved = session.scalars(
            select(QueueItem.status).where(
                QueueItem.queue == "exceptions", QueueItem.run_id.is_(None)
            )
        ).all()
    assert resolved == ["resolved"] * 3


def test_an_order_the_platform_will_not_decrypt_waits_and_the_page_goes_on(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    scenario = generate_scenario(60, 3)
    path = tmp_path / "intake-60-s3.json"
    write_scenario(scenario, path)
    (closed,) = [r for r in broken_refs(scenario["expected"]) if r.startswith("douyin:")]
    with start_simulator(str(path), options=SimOptions(decrypt_refused=[closed])) as sim:
        summary = run_scenario(intake, store, sim, path)
    assert summary.not_pulled == {}
    assert summary.runs == summary.pulled - 1
    ((status, reason, raw, runs),) = standing(store, [closed]).values()
    assert (status, runs) == ("exception", 0)
    assert "douyin did not decrypt the receiver" in reason
    assert raw["encrypt_post_tel"].startswith("$$")  # kept as received
