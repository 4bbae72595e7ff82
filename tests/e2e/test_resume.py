"""A run stopped half way (the process dies during the SF call) resumes without a second waybill."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from connectors import build_connectors
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import start_simulator
from engine.ingest import ingest
from engine.runner import RunEnv, Runner
from engine.store import Store
from engine.store.models import Effect, OrderRow, RunRow, StepRow, Waybill
from engine.workflow import Workflow
from service.scenarios import read_scenario


def first_shipped_run(store: Store, expected: dict) -> int:
    shipped = {ref for ref, outcome in expected["outcomes"].items() if outcome == "shipped"}
    with store.session() as session:
        rows = session.execute(
            select(RunRow.id, OrderRow.channel, OrderRow.order_id)
            .join(OrderRow, OrderRow.id == RunRow.order_pk)
            .order_by(RunRow.id)
        ).all()
    return next(run_id for run_id, ch, oid in rows if f"{ch}:{oid}" in shipped)


def effect_status(store: Store, run_id: int) -> str | None:
    with store.session() as session:
        return session.scalar(
            select(Effect.status).where(Effect.run_id == run_id, Effect.kind == "waybill")
        )


def test_crash_during_the_waybill_call_resumes_without_a_second_waybill(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "intake-150-s5.json"
    scenario = generate_scenario(150, 5)
    write_scenario(scenario, path)
    info = read_scenario(path)
    with start_simulator(str(path)) as sim:

        async def crash_then_resume() -> str | None:
            env = RunEnv(intake, store, build_connectors(sim.systems))
            await ingest(env, since=info.since, until=info.until)
            run_id = first_shipped_run(store, scenario["expected"])
            sim.fault("sf", "timeout", 1)  # the creation lands; its answer is held back
            task = asyncio.create_task(Runner(env).finish(run_id))
            deadline = time.monotonic() + 120  # generous: a busy machine
            while effect_status(store, run_id) != "started":
                assert time.monotonic() < deadline, "the waybill step never started"
                await asyncio.sleep(0.02)
            while sim.stats()["create_calls"] < 1:
                assert time.monotonic() < deadline, "the SF call never landed"
                await asyncio.sleep(0.02)
            task.cancel()  # the process dies while waiting for SF's answer
            env.writer.rollback()
            await env.connectors.aclose()

            fresh = RunEnv(intake, store, build_connectors(sim.systems))
            try:
                return run_id, await Runner(fresh).finish(run_id)
            finally:
                fresh.close()
                await fresh.connectors.aclose()

        run_id, outcome = asyncio.run(crash_then_resume())
        stats = sim.stats()
    assert outcome == "shipped"
    assert stats["waybills_created"] == 1
    assert stats["create_calls"] == 1  # found by its key, not created again
    assert stats["uploads_total"] == 1
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Waybill)) == 1
        nodes = session.scalars(select(StepRow.node_id).where(StepRow.run_id == run_id)).all()
        assert sorted(nodes) == sorted(set(nodes))  # no step recorded twice
        assert {"paid", "validate", "dedup", "split", "stock", "waybill", "shipped"} == set(nodes)
        assert session.get(RunRow, run_id).status == "completed"
