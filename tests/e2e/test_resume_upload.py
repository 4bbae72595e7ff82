"""A run stopped during Youzan's tracking upload, whose confirm landed, resumes without a second
confirm: Youzan is asked for the order's tracking number first."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from connectors import build_connectors
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from engine.ingest import ingest
from engine.runner import RunEnv, Runner
from engine.store import Store
from engine.store.models import Effect, OrderRow, RunRow, StepRow, Waybill
from engine.workflow import Workflow
from service.scenarios import read_scenario


def first_shipped_youzan_run(store: Store, expected: dict) -> tuple[int, str]:
    """(run id, Youzan order id) of the first run whose order the oracle expects shipped."""
    with store.session() as session:
        rows = session.execute(
            select(RunRow.id, OrderRow.order_id)
            .join(OrderRow, OrderRow.id == RunRow.order_pk)
            .where(OrderRow.channel == "youzan")
            .order_by(RunRow.id)
        ).all()
    return next(
        (run_id, oid) for run_id, oid in rows if expected["outcomes"][f"youzan:{oid}"] == "shipped"
    )


def effect_status(store: Store, run_id: int, kind: str) -> str | None:
    with store.session() as session:
        return session.scalar(
            select(Effect.status).where(Effect.run_id == run_id, Effect.kind == kind)
        )


def uploads_of(sim: SimulatorHandle, order_id: str) -> list[dict]:
    return [u for u in sim.log("uploads") if u["order_id"] == order_id]


def test_crash_during_a_youzan_upload_that_landed_resumes_without_a_second_confirm(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "intake-150-s5.json"
    scenario = generate_scenario(150, 5)
    write_scenario(scenario, path)
    info = read_scenario(path)
    with start_simulator(str(path)) as sim:

        async def crash_then_resume() -> tuple[int, str, str | None, int]:
            env = RunEnv(intake, store, build_connectors(sim.systems))
            await ingest(env, since=info.since, until=info.until)
            run_id, order_id = first_shipped_youzan_run(store, scenario["expected"])
            pulled = sim.stats()["requests"]["youzan"]
            sim.fault("youzan", "timeout", 1)  # the confirm lands; its answer is held back
            task = asyncio.create_task(Runner(env).finish(run_id))
            deadline = time.monotonic() + 120  # generous: a busy machine
            while effect_status(store, run_id, "upload") != "started":
                assert time.monotonic() < deadline, "the upload never started"
                await asyncio.sleep(0.02)
            while not uploads_of(sim, order_id):
                assert time.monotonic() < deadline, "the confirm never landed"
                await asyncio.sleep(0.02)
            task.cancel()  # the process dies while waiting for Youzan's answer
            env.writer.rollback()
            await env.connectors.aclose()

            fresh = RunEnv(intake, store, build_connectors(sim.systems))
            try:
                return run_id, order_id, await Runner(fresh).finish(run_id), pulled
            finally:
                fresh.close()
                await fresh.connectors.aclose()

        run_id, order_id, outcome, pulled = asyncio.run(crash_then_resume())
        uploads = uploads_of(sim, order_id)
        stats = sim.stats()
    assert outcome == "shipped"
    assert len(uploads) == 1  # confirmed once, found by trade.get on resume
    assert stats["trade_get_calls"] == 1
    assert stats["requests"]["youzan"] - pulled == 2  # that confirm and trade.get: no second try
    assert stats["waybills_created"] == stats["create_calls"] == 1
    with store.session() as session:
        waybills = session.scalars(select(Waybill)).all()
        assert [w.waybill_no for w in waybills] == [uploads[0]["waybill_no"]]
        assert waybills[0].uploaded_at is not None
        assert effect_status(store, run_id, "upload") == "succeeded"
        nodes = session.scalars(select(StepRow.node_id).where(StepRow.run_id == run_id)).all()
        assert sorted(nodes) == sorted(set(nodes))  # no step recorded twice
        assert session.get(RunRow, run_id).status == "completed"
        assert session.scalar(select(func.count()).select_from(Waybill)) == 1
