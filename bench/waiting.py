"""Faults at scale: `python -m bench.waiting [--orders N] [--db URL]`.

Prints figures and never fails on speed (it is not part of the pass/fail suite):

1. **latency**: the day (the 4,000-order peak-day fixture, or a generated day of `--orders`)
   with 100–300 ms of latency on every call to every external system. Wall time against the
   ideal — external calls × mean latency ÷ concurrency — which no runner can beat;
2. **errors**: the same with 10% of the calls of every system answered HTTP 500 besides;
3. **recovery**: SF down from the start (no backup route: orders wait for it), brought back
   once every order that needs it is waiting; the time from SF's recovery to the last
   waiting order shipped, found by the breaker's probe with no command from a person.

The last line printed is one JSON object with every figure, for the README to quote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import PEAK_DAY, WORKFLOW, load_average
from connectors.breaker import BreakerState
from connectors.simulator.faults import CALLS
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.loader import load_workflow
from engine.store import breakers as breaker_store
from engine.store import open_store
from engine.store.models import OrderRow, RunRow
from engine.workflow import Workflow
from service.intake import run_intake
from service.report import build_report, compare_with_expected
from service.scenarios import load_scenario, read_scenario

LATENCY = (0.1, 0.3)
CONCURRENCY = 32


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=0, help="a generated day (default 4,000)")
    parser.add_argument("--db", default="", help="database URL (default a fresh SQLite file)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orderhub-bench-waiting-") as work:
        day = PEAK_DAY
        if args.orders:
            day = Path(work) / f"intake-{args.orders}-s11.json"
            write_scenario(generate_scenario(args.orders, 11), day)
        figures: dict[str, Any] = {"orders": len(read_scenario(day).refs), "load": load_average()}
        latency = [{"system": s, "mode": "latency", "latency_s": list(LATENCY)} for s in CALLS]
        errors = [{"system": s, "mode": "error", "rate": 0.1} for s in CALLS]
        for name, faults in (("latency", latency), ("errors", latency + errors)):
            url = args.db or f"sqlite:///{work}/{name}.db"
            figures[name] = _day(day, url, load_workflow(WORKFLOW), faults, args.concurrency)
            print(name, json.dumps(figures[name]), flush=True)
        url = args.db or f"sqlite:///{work}/recovery.db"
        figures["recovery"] = _recovery(day, url, Path(work), args.concurrency)
        print("recovery", json.dumps(figures["recovery"]), flush=True)
    figures["load_after"] = load_average()
    print(json.dumps(figures))


def _day(
    day: Path, url: str, workflow: Workflow, faults: list[dict], concurrency: int
) -> dict[str, Any]:
    info = read_scenario(day)
    store = open_store(url)
    try:
        with start_simulator(str(day)) as sim:
            sim.arm(*faults, seed=11)
            started = time.perf_counter()
            summary = asyncio.run(
                run_intake(
                    workflow,
                    store,
                    sim.systems,
                    since=info.since,
                    until=info.until,
                    concurrency=concurrency,
                    system_wait_s=120,
                )
            )
            wall = time.perf_counter() - started
            stats = sim.stats()
        calls = sum(stats["requests"].values())
        ideal = calls * sum(LATENCY) / 2 / concurrency
        return {
            "wall_s": round(wall, 1),
            "external_calls": calls,
            "ideal_s": round(ideal, 1),
            "wall_over_ideal": round(wall / ideal, 2),
            "outcomes": dict(summary.outcomes),
            "oracle_diffs": len(compare_with_expected(build_report(store), _expected(day))),
            "two_waybills": stats["orders_with_two_waybills"],
            "uploaded_twice": stats["orders_uploaded_twice"],
        }
    finally:
        store.dispose()


def _recovery(day: Path, url: str, work: Path, concurrency: int) -> dict[str, Any]:
    """SF down until every order needing it waits; then back: how long until all shipped."""
    text = WORKFLOW.read_text(encoding="utf-8")
    start = text.index("\n  - id: waybill_zto")
    text = text[:start] + text[text.index("\n  - id:", start + 1) :]
    path = work / "no_backup.yaml"
    text = text.replace("    on_unavailable: waybill_zto\n", "")
    path.write_text(text.replace("reroute: waybill_zto, ", ""), encoding="utf-8")
    workflow, info = load_workflow(path), read_scenario(day)
    store = open_store(url)
    marks: dict[str, float] = {}
    try:
        with start_simulator(str(day)) as sim:
            sim.arm({"system": "sf", "mode": "down", "id": "outage"})

            async def sf_returns() -> None:
                while not _all_waiting(store, _expected(day)["outcome_totals"]["shipped"]):
                    await asyncio.sleep(0.5)
                await asyncio.to_thread(sim.clear_faults, "outage")
                marks["recovered"] = time.time()

            async def day_run() -> None:
                back = asyncio.create_task(sf_returns())
                await run_intake(
                    workflow,
                    store,
                    sim.systems,
                    since=info.since,
                    until=info.until,
                    concurrency=concurrency,
                    system_wait_s=600,
                )
                back.cancel()

            asyncio.run(day_run())
            stats = sim.stats()
        with store.engine.connect() as conn:
            last = conn.execute(
                select(func.max(RunRow.finished_at))
                .join(OrderRow, OrderRow.id == RunRow.order_pk)
                .where(OrderRow.status == "shipped")
            ).scalar_one()
        sf = breaker_store.read(store, "sf", BreakerState)
        # finished_at is naive UTC
        last_shipped = last.replace(tzinfo=UTC).timestamp() if last is not None else float("nan")
        return {
            "recovery_to_last_shipped_s": round(last_shipped - marks.get("recovered", 0), 1),
            "breaker_after": sf.state,
            "outages": sf.outages,
            "oracle_diffs": len(compare_with_expected(build_report(store), _expected(day))),
            "sf_waybills": stats["carriers"]["sf"]["created"],
            "two_waybills": stats["orders_with_two_waybills"],
        }
    finally:
        store.dispose()


def _expected(day: Path) -> dict[str, Any]:
    return load_scenario(day)["expected"]


def _all_waiting(store: Any, shipped: int) -> bool:
    """True once as many runs wait for SF as the day ships (none can go on without it)."""
    with store.engine.connect() as conn:
        return breaker_store.waiting_runs(conn, "sf") >= shipped


if __name__ == "__main__":
    main()
