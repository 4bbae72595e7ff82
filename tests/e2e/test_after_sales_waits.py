"""The after-sales run waits for the warehouse through the engine's waits, over the simulator:
a scan with the systems' settings refunds in the same call (without them the next run of
after_sales does), the step at await_scan says who scanned; an exchange's replacement gets
an order_intake run on the version the next intake run uses and ships with one waybill (the
twin, with that adoption switched off, never ships it)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from connectors.simulator.server import SimulatorHandle
from engine.store import Store
from engine.store.after_sales_models import AfterSale
from engine.store.models import OrderRow, RunRow, StepRow, Waybill
from engine.workflow import Workflow
from nodes.pull import Pull
from service import returns
from service.after_sales_report import build_after_sales_report
from tests.e2e import test_after_sales as base
from tests.e2e.test_after_sales import WAREHOUSE, platform, run, systems

# the after-sales tests' fixtures: its workflow, the day's scenario and its simulator
after_sales, day, sim = base.after_sales, base.day, base.sim


def quick_return(store: Store, data: dict[str, Any]) -> returns.ReturnView:
    """A parcel that arrives, is refunded on its scan (no inspection) and was not refunded
    by the platform before."""
    by_platform = {
        f"{r['channel']}:{r['aftersale_id']}" for r in data["after_sales"]
        if r.get("refund_before_arrival")
    }  # fmt: skip
    return next(
        v for v in returns.expected_returns(store, WAREHOUSE)
        if not v.inspect and data["returns"][v.ref]["arrives"] and v.ref not in by_platform
        and data["expected"]["states"][v.ref] == "refunded"
    )  # fmt: skip


def step_at(store: Store, run_id: int, node_id: str) -> dict[str, Any]:
    with store.session() as session:
        found = session.scalars(
            select(StepRow.detail)
            .where(StepRow.run_id == run_id, StepRow.node_id == node_id)
            .order_by(StepRow.id.desc())
        ).first()
    assert found is not None, f"no step at {node_id}"
    return found


@pytest.mark.parametrize("with_systems", [True, False], ids=["systems", "no_systems"])
def test_a_scan_wakes_the_waiting_run_and_with_the_systems_refunds_in_the_same_call(
    intake: Workflow, after_sales: Workflow, store: Store, sim: SimulatorHandle, day: tuple,
    with_systems: bool,
) -> None:  # fmt: skip
    path, data = day
    run(intake, store, sim, path)
    run(after_sales, store, sim, path)
    quick = quick_return(store, data)
    with store.session() as session:
        waiting = session.scalars(
            select(RunRow.status)
            .join(OrderRow, OrderRow.id == RunRow.order_pk)
            .where(
                OrderRow.channel == quick.ref.split(":")[0],
                OrderRow.order_id == "as-" + quick.ref.split(":")[1],
            )
        ).all()
    assert waiting == ["waiting"]  # parked at await_scan, not ended

    view = asyncio.run(
        returns.scan(store, WAREHOUSE, quick.tracking_no,
                     systems=systems(sim) if with_systems else None)
    )  # fmt: skip

    assert view.woke_run is not None
    refunds = platform(sim)["requests"][quick.ref].get("refund")
    if with_systems:
        assert view.continued and view.state == "refunded"
        assert refunds == 1
    else:
        assert not view.continued and view.state == "awaiting_return"
        assert not refunds  # nothing happens till the next run of after_sales
        run(after_sales, store, sim, path)
        assert platform(sim)["requests"][quick.ref]["refund"] == 1
    step = step_at(store, view.woke_run, "await_scan")
    assert step["woken_by"] == str(WAREHOUSE)
    assert step["waited_for"] == f"event return:{quick.ref}"
    assert build_after_sales_report(store)["states"][quick.ref] == "refunded"
    assert platform(sim)["refunded_twice"] == []


def passing_exchange(store: Store, data: dict[str, Any]) -> returns.ReturnView:
    return next(
        v for v in returns.expected_returns(store, WAREHOUSE)
        if data["expected"]["states"][v.ref] == "exchanged" and data["returns"][v.ref]["arrives"]
    )  # fmt: skip


def waybills_of(handle: SimulatorHandle, ref: str) -> list[dict[str, Any]]:
    log = httpx.get(f"{handle.base_url}/_sim/log", params={"kind": "waybills"}, timeout=30).json()
    return [w for w in log if w.get("order_ref") == ref]


@pytest.mark.parametrize("adopt", [True, False], ids=["adopted", "switched_off"])
def test_an_exchange_replacement_ships_once_through_order_intake(
    intake: Workflow, after_sales: Workflow, store: Store, sim: SimulatorHandle, day: tuple,
    adopt: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(Pull, "adopts_made_orders", adopt)
    path, data = day
    run(intake, store, sim, path)
    run(after_sales, store, sim, path)
    parcel = passing_exchange(store, data)
    fact = data["returns"][parcel.ref]
    asyncio.run(returns.scan(store, WAREHOUSE, parcel.ref, systems=systems(sim)))
    inspected = asyncio.run(
        returns.inspect(store, WAREHOUSE, parcel.ref, "passed", "", ["box.jpg"],
                        fact["serials"], systems=systems(sim))
    )  # fmt: skip
    assert inspected.continued and inspected.state == "exchanged"
    replacement = build_after_sales_report(store)["replacements"][parcel.ref]
    assert replacement == data["expected"]["replacements"][parcel.ref]
    with store.session() as session:
        request = session.scalars(
            select(AfterSale).where(AfterSale.channel == parcel.ref.split(":")[0],
                                    AfterSale.aftersale_id == parcel.ref.split(":")[1])
        ).one()  # fmt: skip
        assert request.replacement_ref == replacement and request.state == "exchanged"
        channel, _, order_id = replacement.partition(":")
        order_pk = session.scalar(
            select(OrderRow.id).where(OrderRow.channel == channel, OrderRow.order_id == order_id)
        )
    assert order_pk is not None

    run(intake, store, sim, path)  # the next intake run takes it on its version
    run(intake, store, sim, path)  # and a second one changes nothing

    with store.session() as session:
        status = session.scalar(select(OrderRow.status).where(OrderRow.id == order_pk))
        runs = session.execute(
            select(RunRow.workflow_id, RunRow.version).where(RunRow.order_pk == order_pk)
        ).all()
        made = session.scalar(
            select(func.count()).select_from(Waybill).where(Waybill.order_pk == order_pk)
        )
    if adopt:
        assert status == "shipped"
        assert runs == [("order_intake", intake.content_hash)]
        assert made == 1 and len(waybills_of(sim, replacement)) == 1
    else:  # the twin: nothing else gives it a run, so it never ships
        assert status == "new" and runs == [] and made == 0
        assert waybills_of(sim, replacement) == []
