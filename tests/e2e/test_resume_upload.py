"""A run stopped during a channel's tracking upload, whose upload landed, resumes without a
second upload: the channel is asked for the order's tracking number first (Youzan
`youzan.trade.get`, Douyin `order.orderDetail`, the H5 mall's order read). The twin, with the
asking switched off (`nodes.waybill.ASK_CHANNEL`), shows the second upload it prevents."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from connectors import Connectors, build_connectors
from connectors.h5 import ORDERS_PATH
from connectors.simulator.generator import generate_scenario, write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator
from engine.context import RunStepContext
from engine.ingest import ingest
from engine.node import Outcome
from engine.order import Order
from engine.runner import RunEnv, Runner
from engine.store import Store
from engine.store.models import Effect, OrderRow, RunRow, StepRow, Waybill
from engine.workflow import Workflow
from nodes import waybill
from nodes.route import Finish
from service.scenarios import read_scenario


def first_shipped_run(store: Store, expected: dict, channel: str) -> tuple[int, str]:
    """(run id, order id) of the channel's first run whose order the oracle expects shipped."""
    with store.session() as session:
        rows = session.execute(
            select(RunRow.id, OrderRow.order_id)
            .join(OrderRow, OrderRow.id == RunRow.order_pk)
            .where(OrderRow.channel == channel)
            .order_by(RunRow.id)
        ).all()
    return next(
        (run_id, oid)
        for run_id, oid in rows
        if expected["outcomes"][f"{channel}:{oid}"] == "shipped"
    )


def effect_status(store: Store, run_id: int, kind: str) -> str | None:
    with store.session() as session:
        return session.scalar(
            select(Effect.status).where(Effect.run_id == run_id, Effect.kind == kind)
        )


def uploads_of(sim: SimulatorHandle, order_id: str) -> list[dict]:
    return [u for u in sim.log("uploads") if u["order_id"] == order_id]


def crash_during_upload(
    intake: Workflow,
    store: Store,
    tmp_path: Path,
    channel: str,
    meanwhile: Callable[[SimulatorHandle, str], None] | None = None,
) -> tuple[int, str, str | None, dict, dict, list[dict]]:
    """Kill a run while its upload to `channel` has landed but its answer is held back, then
    resume it in a fresh process environment (`meanwhile(sim, order id)` runs between):
    (run id, order id, outcome, the channel's call counts before the upload, the
    simulator's stats after, the order's uploads)."""
    path = tmp_path / "intake-150-s5.json"
    scenario = generate_scenario(150, 5)
    write_scenario(scenario, path)
    info = read_scenario(path)
    with start_simulator(str(path)) as sim:

        async def crash_then_resume() -> tuple[int, str, str | None, dict]:
            env = RunEnv(intake, store, build_connectors(sim.systems))
            await ingest(env, since=info.since, until=info.until)
            run_id, order_id = first_shipped_run(store, scenario["expected"], channel)
            before = sim.stats()["calls"][channel]
            sim.fault(channel, "timeout", 1, call="upload")  # it lands; the answer is held
            task = asyncio.create_task(Runner(env).finish(run_id))
            deadline = time.monotonic() + 120  # generous: a busy machine
            while effect_status(store, run_id, "upload") != "started":
                assert time.monotonic() < deadline, "the upload never started"
                await asyncio.sleep(0.02)
            while not uploads_of(sim, order_id):
                assert time.monotonic() < deadline, "the upload never landed"
                await asyncio.sleep(0.02)
            task.cancel()  # the process dies while waiting for the channel's answer
            env.writer.rollback()
            await env.connectors.aclose()
            if meanwhile is not None:
                meanwhile(sim, order_id)

            fresh = RunEnv(intake, store, build_connectors(sim.systems))
            try:
                return run_id, order_id, await Runner(fresh).finish(run_id), before
            finally:
                fresh.close()
                await fresh.connectors.aclose()

        run_id, order_id, outcome, before = asyncio.run(crash_then_resume())
        return run_id, order_id, outcome, before, sim.stats(), uploads_of(sim, order_id)


def calls_since(before: dict, stats: dict, channel: str) -> dict[str, int]:
    after = stats["calls"][channel]
    return {kind: n - before.get(kind, 0) for kind, n in after.items() if n != before.get(kind)}


@pytest.mark.parametrize("channel", ["youzan", "douyin", "h5"])
def test_crash_during_an_upload_that_landed_resumes_without_a_second_upload(
    intake: Workflow, store: Store, tmp_path: Path, channel: str
) -> None:
    run_id, order_id, outcome, before, stats, uploads = crash_during_upload(
        intake, store, tmp_path, channel
    )
    assert outcome == "shipped"
    assert len(uploads) == 1  # uploaded once, found by asking the channel on resume
    assert calls_since(before, stats, channel) == {"upload": 1, "get": 1}  # no second try
    assert stats["orders_uploaded_twice"] == 0
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


@pytest.mark.parametrize("channel", ["douyin", "h5"])
def test_twin_without_asking_the_channel_uploads_a_second_time(
    intake: Workflow, store: Store, tmp_path: Path, channel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waybill, "ASK_CHANNEL", False)
    run_id, _, outcome, before, stats, uploads = crash_during_upload(
        intake, store, tmp_path, channel
    )
    assert outcome == "shipped"
    assert len(uploads) == 2 and uploads[0]["waybill_no"] == uploads[1]["waybill_no"]
    assert calls_since(before, stats, channel) == {"upload": 2}  # never asked
    assert stats["orders_uploaded_twice"] == 1
    assert effect_status(store, run_id, "upload") == "succeeded"


def test_a_channel_showing_another_number_on_resume_sends_the_order_to_a_person(
    intake: Workflow, store: Store, tmp_path: Path
) -> None:
    def shipped_by_hand(sim: SimulatorHandle, order_id: str) -> None:
        headers = {"Authorization": "Bearer " + sim.systems["h5"]["api_key"]}
        body = {"carrier": "ZTO", "waybill_no": "ZT7000000000001", "lines": []}
        url = f"{sim.base_url}{ORDERS_PATH}/{order_id}/shipments"
        httpx.post(url, json=body, headers=headers).raise_for_status()

    run_id, _, outcome, _, _, uploads = crash_during_upload(
        intake, store, tmp_path, "h5", shipped_by_hand
    )
    assert outcome == "exception"
    assert [u["waybill_no"] for u in uploads][1:] == ["ZT7000000000001"]  # none of ours after
    with store.session() as session:
        (step,) = session.scalars(
            select(StepRow).where(StepRow.run_id == run_id, StepRow.node_id == "waybill")
        ).all()
    assert step.outcome == "error" and "ZT7000000000001" in step.detail["error"]


@pytest.mark.parametrize("commit_at_once", [True, False], ids=["committed", "twin"])
def test_an_upload_to_a_channel_that_cannot_be_asked_is_committed_when_it_returns(
    intake: Workflow,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    commit_at_once: bool,
) -> None:
    """The H5 mall, its `tracking_of` switched off, stands for a channel that cannot be asked.
    The process dies at the step after the waybill node (the run's end, not yet committed):
    the upload's result, committed when the call returned, keeps it from a second upload;
    the twin, without that commit, uploads again on resume."""
    monkeypatch.setattr(waybill, "COMMIT_AT_ONCE", commit_at_once)
    held = {"on": True}
    reached = asyncio.Event()
    finish_run = Finish.run

    async def dies_here(self: Finish, order: Order, ctx: RunStepContext) -> Outcome:
        if held["on"]:
            reached.set()
            await asyncio.Event().wait()  # the process dies here
        return await finish_run(self, order, ctx)

    monkeypatch.setattr(Finish, "run", dies_here)
    path = tmp_path / "intake-150-s5.json"
    scenario = generate_scenario(150, 5)
    write_scenario(scenario, path)
    info = read_scenario(path)

    def unaskable(sim: SimulatorHandle) -> Connectors:
        connectors = build_connectors(sim.systems)
        connectors.channels["h5"].can_tell_tracking = False  # type: ignore[misc]
        return connectors

    with start_simulator(str(path)) as sim:

        async def crash_then_resume() -> tuple[int, str, str | None]:
            env = RunEnv(intake, store, unaskable(sim))
            await ingest(env, since=info.since, until=info.until)
            run_id, order_id = first_shipped_run(store, scenario["expected"], "h5")
            task = asyncio.create_task(Runner(env).finish(run_id))
            await asyncio.wait_for(reached.wait(), timeout=120)  # generous: a hang guard
            assert uploads_of(sim, order_id)  # the upload returned before the death
            task.cancel()
            env.writer.rollback()
            await env.connectors.aclose()

            held["on"] = False
            fresh = RunEnv(intake, store, unaskable(sim))
            try:
                return run_id, order_id, await Runner(fresh).finish(run_id)
            finally:
                fresh.close()
                await fresh.connectors.aclose()

        run_id, order_id, outcome = asyncio.run(crash_then_resume())
        uploads, stats = uploads_of(sim, order_id), sim.stats()
    assert outcome == "shipped"
    assert stats["calls"]["h5"].get("get", 0) == 0  # never asked: it cannot be
    assert len(uploads) == (1 if commit_at_once else 2)
    assert stats["orders_uploaded_twice"] == (0 if commit_at_once else 1)
    assert effect_status(store, run_id, "upload") == "succeeded"
