"""An SF outage mid-run: the breaker opens after five failures and tells WeCom once; orders
take the backup carrier (ZTO) when the workflow has one, or wait for SF when it does not;
one probe after the cool-down finds SF back, WeCom hears it once, and every waiting order
ships in the same run — with no waybill at SF left unrecorded and none made twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.breaker import BreakerState
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine import faults
from engine.loader import load_workflow
from engine.store import Store
from engine.store import breakers as breaker_store
from engine.store.models import OutboxMessage, Waybill
from service.access import Actor
from service.intake import run_intake
from service.report import build_report, compare_with_expected
from service.scenarios import read_scenario
from service.systems import list_systems
from tests.e2e.conftest import WORKFLOW

LI = Actor("li.wei", "ops_manager")
#: how long SF stays down after its breaker opened (a probe or two fail meanwhile)
DOWN_AFTER_OPEN_S = 3.0


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    scenario = generate_scenario(120, 5)
    path = tmp_path_factory.mktemp("day") / "intake-120-s5.json"
    write_scenario(scenario, path)
    return path, scenario["expected"]


@pytest.fixture(scope="module")
def no_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """order_intake without the ZTO backup route: orders wait for SF instead."""
    text = WORKFLOW.read_text(encoding="utf-8")
    start = text.index("\n  - id: waybill_zto")
    end = text.index("\n  - id:", start + 1)
    text = text[:start] + text[end:]
    assert "    on_unavailable: waybill_zto\n" in text
    path = tmp_path_factory.mktemp("wf") / "order_intake.yaml"
    text = text.replace("    on_unavailable: waybill_zto\n", "")
    path.write_text(text.replace("reroute: waybill_zto, ", ""), encoding="utf-8")
    return path


def outage_day(
    store: Store,
    workflow_path: Path,
    day: tuple[Path, dict],
    faults: list[dict] | None = None,
    sf_timeout_s: float | None = None,
    one_outage: bool = True,
    waits_for_recovery: bool = True,
) -> dict:
    path, expected = day
    info = read_scenario(path)
    with start_simulator(str(path)) as sim:
        systems = {name: dict(values) for name, values in sim.systems.items()}
        if sf_timeout_s is not None:
            systems["sf"]["timeout_s"] = sf_timeout_s
        faults = faults or [{"system": "sf", "mode": "down"}]
        ids = [f"outage{n}" for n in range(len(faults))]
        sim.arm(*({**f, "id": i} for f, i in zip(faults, ids, strict=True)))  # until cleared

        async def outage_ends() -> None:
            """SF comes back a while after its breaker opened (so the opening is certain)."""
            while breaker_store.read(store, "sf", BreakerState).state == "closed":
                await asyncio.sleep(0.2)
            await asyncio.sleep(DOWN_AFTER_OPEN_S)
            await asyncio.to_thread(sim.clear_faults, *ids)

        async def day_with_outage():  # noqa: ANN202
            ending = asyncio.create_task(outage_ends())
            summary = await run_intake(
                load_workflow(workflow_path),
                store,
                systems,
                since=info.since,
                until=info.until,
                system_wait_s=120,  # generous: the cool-downs here are seconds
            )
            if waits_for_recovery:
                assert ending.done()  # the outage did happen, and ended, during the run
            await asyncio.wait_for(ending, 180)  # SF's held calls have ended: count them
            return summary

        summary = asyncio.run(day_with_outage())
        stats = sim.stats()
    report = build_report(store)
    with store.session() as session:
        recorded = session.execute(select(Waybill.carrier, Waybill.order_pk)).all()
        news = [
            m.payload["text"]
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if m.payload.get("kind", "").startswith("breaker.")
        ]
    shipped = expected["outcome_totals"]["shipped"]
    assert len(recorded) == len({pk for _, pk in recorded}) == shipped
    assert summary.outcomes.get("retry", 0) == 0  # nobody left waiting
    assert stats["orders_with_two_waybills"] == 0, "orders with two waybills"
    assert stats["orders_uploaded_twice"] == 0
    for carrier in ("sf", "zto"):  # every waybill a carrier made is recorded: no orphans
        made = stats["carriers"][carrier]["created"]
        assert made == sum(1 for c, _ in recorded if c == carrier), f"orphan waybills at {carrier}"
    assert compare_with_expected(report, expected) == []
    if one_outage:
        assert len(news) == 2, news  # one "opened", one "recovered"
    # calls sent before SF came back may still time out after it: another (short) outage,
    # told as such — every opening has its recovery, in turn
    assert len(news) % 2 == 0, news
    for opened, recovered in zip(news[::2], news[1::2], strict=True):
        assert opened.startswith("SF unavailable since") and recovered.startswith("SF recovered")
    (sf,) = [v for v in list_systems(store, LI) if v.system == "sf"]
    assert (sf.state, sf.waiting) == ("closed", 0)
    return {"stats": stats, "news": news}


def test_an_sf_outage_sends_orders_to_zto_and_wecom_hears_once(
    store: Store, day: tuple[Path, dict]
) -> None:
    got = outage_day(store, WORKFLOW, day)
    carriers = got["stats"]["carriers"]
    assert carriers["zto"]["created"] > 0  # the backup path carried orders
    assert carriers["sf"]["created"] > 0  # those SF had failed on waited, then went by SF
    assert "went by a backup route" in got["news"][1]


def test_without_a_backup_route_orders_wait_for_sf_and_ship_when_it_is_back(
    store: Store, no_backup: Path, day: tuple[Path, dict]
) -> None:
    got = outage_day(store, no_backup, day)
    assert got["stats"]["carriers"]["zto"]["created"] == 0
    parked = int(got["news"][1].split(": ", 1)[1].split(" orders were parked")[0])
    assert parked > 5  # more than the calls that opened it: the rest waited for SF


def test_sf_answering_past_the_timeout_leaves_no_waybill_unrecorded(
    store: Store, day: tuple[Path, dict]
) -> None:
    """SF makes the waybill but answers after the client gave up, and cannot be asked by the
    key (its search is down): those orders may hold a waybill at SF, so they never take the
    backup route — they wait, and the waybill is found by its key when SF answers again.
    Zero orphans, zero orders with two waybills; the others went by ZTO meanwhile."""
    slow = [
        {"system": "sf", "call": "create", "mode": "timeout", "hold_s": 4},
        {"system": "sf", "call": "search", "mode": "down"},
    ]
    got = outage_day(store, WORKFLOW, day, faults=slow, sf_timeout_s=1.0, one_outage=False)
    carriers = got["stats"]["carriers"]
    assert carriers["sf"]["created"] > 0 and carriers["zto"]["created"] > 0


def test_the_timeout_twin_without_the_untouched_rule_makes_two_waybills(
    store: Store, day: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Show the rule is what holds: rerouting an order whose SF call may have landed leaves
    a waybill at SF nobody recorded and gives the order a second one at ZTO."""
    monkeypatch.setattr(faults, "REROUTE_ONLY_UNTOUCHED", False)
    slow = [
        {"system": "sf", "call": "create", "mode": "timeout", "hold_s": 4},
        {"system": "sf", "call": "search", "mode": "down"},
    ]
    with pytest.raises(AssertionError, match="two waybills|orphan waybills"):
        outage_day(  # every order goes round SF, so the run need not wait for its recovery
            store,
            WORKFLOW,
            day,
            faults=slow,
            sf_timeout_s=1.0,
            one_outage=False,
            waits_for_recovery=False,
        )
