"""Push intake (issue 9 item 4): the simulator pushes as the channels do to ``/hooks/…``
served by a real uvicorn; a pushed paid order reaches an uploaded tracking number.

Duplicates of a push are one push; a bad signature is 401 and writes nothing; a malformed
message is 400 with the reason; an order pushed and later pulled ships once.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select, update

from connectors.h5 import webhook_signature
from connectors.simulator.server import SimulatorHandle, free_port, start_simulator
from engine.store import Store
from engine.store.models import OrderRow, PushRow, RunRow
from service.access import Actor
from service.hooks import hooks_router
from service.push import PushProcessor, receive_push
from service.running import run_workflow
from service.scenarios import read_scenario
from versions import store as vstore

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "fixtures" / "intake-1200-s7.json"
OPS = Actor("li.wei", "ops_manager")
DEADLINE_S = 120
TRIGGERS = (
    "  - {type: webhook, channel: h5}\n"
    "  - {type: webhook, channel: youzan}\n"
    "  - {type: webhook, channel: douyin}\n"
)


def webhook_workflow() -> str:
    """order_intake, taking pushes from every channel."""
    text = (ROOT / "workflows" / "order_intake.yaml").read_text(encoding="utf-8")
    return text.replace("  - {type: webhook, channel: h5}\n", TRIGGERS)


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorHandle]:
    with start_simulator(str(SCENARIO)) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimulatorHandle) -> SimulatorHandle:
    sim_server.reset()
    return sim_server


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[str]]:
    """Order ids per channel that the scenario ships (paid, valid, in stock)."""
    expected = json.loads(SCENARIO.read_text(encoding="utf-8"))["expected"]["outcomes"]
    ids: dict[str, list[str]] = {}
    for ref, outcome in expected.items():
        if outcome == "shipped":
            channel, order_id = ref.split(":", 1)
            ids.setdefault(channel, []).append(order_id)
    return ids


@pytest.fixture
def hub(store: Store, sim: SimulatorHandle) -> Iterator[str]:
    """orderhub's hooks on a loopback port, over `store`, the active workflow taking pushes
    from every channel; yields the base URL."""
    vstore.save(
        store, webhook_workflow(), actor=OPS, base=None, message="pushes from every channel"
    )
    app = FastAPI()
    app.include_router(hooks_router(store, sim.systems))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_S
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=DEADLINE_S)


def uploads_of(sim: SimulatorHandle, channel: str, order_id: str) -> list[dict[str, Any]]:
    return [u for u in sim.log("uploads") if (u["channel"], u["order_id"]) == (channel, order_id)]


def wait_uploaded(sim: SimulatorHandle, channel: str, order_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_S
    while not (found := uploads_of(sim, channel, order_id)):
        assert time.monotonic() < deadline, f"{channel}:{order_id} was never uploaded"
        time.sleep(0.1)
    return found[0]


def count(store: Store, model: type, *where: Any) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.mark.parametrize("channel", ["h5", "youzan", "douyin"])
def test_a_pushed_paid_order_reaches_an_uploaded_tracking_number(
    store, sim, hub, shipped, channel
) -> None:
    order_id = shipped[channel][0]
    (delivery,) = sim.push(channel, order_id, f"{hub}/hooks/{channel}")["deliveries"]
    assert delivery["acked"] and delivery["tries"] == 1, delivery
    upload = wait_uploaded(sim, channel, order_id)
    assert upload["waybill_no"].startswith("SF")
    deadline = time.monotonic() + DEADLINE_S  # the upload lands before the run commits
    shipped_here = (OrderRow.channel == channel, OrderRow.order_id == order_id)
    while count(store, OrderRow, *shipped_here, OrderRow.status == "shipped") == 0:
        assert time.monotonic() < deadline, f"{channel}:{order_id} never shown shipped"
        time.sleep(0.1)
    with store.engine.connect() as conn:
        order = conn.execute(
            select(OrderRow.status).where(
                OrderRow.channel == channel, OrderRow.order_id == order_id
            )
        ).scalar_one()
        push = conn.execute(select(PushRow.status, PushRow.order_id)).one()
    assert order == "shipped" and tuple(push) == ("done", order_id)


def test_the_same_push_three_times_is_one_push_and_one_run(store, sim, hub, shipped) -> None:
    order_id = shipped["h5"][1]
    answer = sim.push("h5", order_id, f"{hub}/hooks/h5", times=3)
    assert [d["acked"] for d in answer["deliveries"]] == [True, True, True]
    wait_uploaded(sim, "h5", order_id)
    time.sleep(1)  # give a wrongly repeated run the chance to show itself
    assert count(store, PushRow) == 1
    assert count(store, RunRow) == 1
    assert len(uploads_of(sim, "h5", order_id)) == 1
    assert sim.stats()["waybills_created"] == 1


@pytest.mark.parametrize("channel", ["h5", "youzan", "douyin"])
def test_a_bad_signature_is_401_and_nothing_is_written(store, sim, hub, shipped, channel) -> None:
    answer = sim.push(channel, shipped[channel][0], f"{hub}/hooks/{channel}", bad_signature=True)
    (delivery,) = answer["deliveries"]
    assert (delivery["acked"], delivery["status"]) == (False, 401)
    assert "does not match" in delivery["body"]
    assert count(store, PushRow) == count(store, OrderRow) == count(store, RunRow) == 0


def test_a_malformed_push_is_400_with_the_reason(store, sim, hub) -> None:
    body = json.dumps({"event_id": "E1", "event": "order.paid"}).encode()  # no order
    stamp = str(int(time.time()))
    secret = sim.systems["h5"]["webhook_secret"]
    headers = {"X-Timestamp": stamp, "X-Signature": webhook_signature(secret, stamp, body)}
    got = httpx.post(f"{hub}/hooks/h5", content=body, headers=headers, timeout=30)
    assert got.status_code == 400 and "KeyError: 'order'" in got.json()["error"]
    assert httpx.post(f"{hub}/hooks/taobao", content=b"{}", timeout=30).status_code == 404
    assert count(store, PushRow) == 0


def test_an_order_pushed_and_later_pulled_ships_once(store, sim, hub, shipped) -> None:
    order_id = shipped["h5"][2]
    sim.push("h5", order_id, f"{hub}/hooks/h5")
    wait_uploaded(sim, "h5", order_id)
    info = read_scenario(SCENARIO)
    outcome = asyncio.run(
        run_workflow(
            store, OPS, "order_intake", systems=sim.systems, since=info.since, until=info.until
        )
    )
    assert outcome.report["outcomes"][f"h5:{order_id}"] == "shipped"
    assert len(uploads_of(sim, "h5", order_id)) == 1
    made = [w for w in sim.log("waybills") if w["order_ref"] == f"h5:{order_id}"]
    assert len(made) == 1


def signed_h5_push(sim: SimulatorHandle, order_id: str) -> tuple[dict[str, str], bytes]:
    """The H5 mall's push of one scenario order, as `connectors.h5` documents it."""
    scenario = json.loads(SCENARIO.read_text(encoding="utf-8"))
    (order,) = [o for o in scenario["channels"]["h5"] if o["order_id"] == order_id]
    record = {k: v for k, v in order.items() if k != "channel"}
    body = json.dumps({"event_id": f"{order_id}:paid", "event": "order.paid", "order": record})
    stamp = str(int(time.time()))
    secret = sim.systems["h5"]["webhook_secret"]
    return {"X-Timestamp": stamp, "X-Signature": webhook_signature(secret, stamp, body.encode())}, (
        body.encode()
    )


def test_a_push_left_stored_is_run_by_the_next_pass_and_one_nobody_takes_is_kept(
    store, sim, shipped
) -> None:
    """What a stopped server left is processed by the next pass (the scheduler's); a push
    that no active workflow takes is kept as ignored, for the next pull."""
    order_id = shipped["h5"][3]
    headers, body = signed_h5_push(sim, order_id)
    assert receive_push(store, "h5", headers, body, sim.systems).stored == 1
    processor = PushProcessor(sim.systems)
    try:
        report = asyncio.run(processor.run_once(store))  # no workflow yet
        assert (report.ignored, report.runs) == (1, 0)
        with store.engine.connect() as conn:
            assert (
                "no active workflow takes h5 pushes" in conn.execute(select(PushRow.error)).scalar()
            )
        with store.engine.begin() as conn:
            conn.execute(update(PushRow).values(status="received"))  # as if just stored
        vstore.save(store, webhook_workflow(), actor=OPS, base=None, message="pushes")
        report = asyncio.run(processor.run_once(store))
        assert (report.done, report.runs, report.outcomes) == (1, 1, {"shipped": 1})
    finally:
        asyncio.run(processor.aclose())
    assert len(uploads_of(sim, "h5", order_id)) == 1
