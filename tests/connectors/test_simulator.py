"""The simulator: platform shapes round-trip, control endpoints, launchers and options."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from connectors import build_connectors, douyin, h5, youzan
from connectors.simulator import douyin as sim_douyin
from connectors.simulator import h5 as sim_h5
from connectors.simulator import youzan as sim_youzan
from connectors.simulator.server import settings_for, start_simulator
from connectors.simulator.state import SimOptions
from engine.errors import RateLimited
from tests.connectors.conftest import SCENARIO_PATH, day_windows, pull_all

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHAPES = [
    ("youzan", sim_youzan.render, youzan.to_canonical),
    ("douyin", sim_douyin.render, douyin.to_canonical),
    ("h5", sim_h5.render, h5.to_canonical),
]


@pytest.mark.parametrize("scenario_file", ["intake-1200-s7.json", "intake-4000-s11.json"])
@pytest.mark.parametrize(("channel", "render", "parse"), SHAPES)
def test_platform_shape_round_trips_every_order(scenario_file, channel, render, parse):
    data = json.loads((FIXTURES / scenario_file).read_text(encoding="utf-8"))
    orders = data["channels"][channel]
    assert orders
    for order in orders:
        assert parse(render(order)) == {**order, "channel": channel}


async def test_stats_log_and_reset(hub, sim, scenario):
    order = scenario["channels"]["h5"][0]
    await hub.channels["h5"].upload_tracking(order["order_id"], "SF", "SF1000000000009")
    await hub.wecom.send("hello")
    stats = sim.stats()
    assert stats["uploads"] == {"youzan": 0, "douyin": 0, "h5": 1}
    assert (stats["uploaded_orders"], stats["bot_messages"]) == (1, 1)
    assert sim.log("uploads")[0]["order_id"] == order["order_id"]
    sim.reset()
    assert sim.stats()["uploads_total"] == 0
    pulled = await pull_all(hub.channels["h5"], day_windows(scenario))
    assert order["order_id"] in {o["order_id"] for o, _ in pulled}  # unshipped again


@pytest.mark.parametrize(
    "body",
    [{"system": "nope", "mode": "down"}, {"system": "sf", "mode": "explode"}],
)
def test_fault_endpoint_validates(sim, body):
    assert httpx.post(sim.base_url + "/_sim/faults", json=body).status_code == 400


def test_log_kind_is_validated(sim):
    assert httpx.get(sim.base_url + "/_sim/log", params={"kind": "x"}).status_code == 400


async def test_fault_count_is_respected(hub, sim, scenario):
    sim.fault("h5", "rate_limit", 2)
    pulled = await pull_all(hub.channels["h5"], day_windows(scenario, 1))  # retried past it
    assert pulled
    assert sim.stats()["requests"]["h5"] >= 3


async def test_in_process_and_options_reach_a_subprocess():
    with start_simulator(str(SCENARIO_PATH), options=SimOptions(wecom_per_minute=2)) as sub:
        hub = build_connectors(sub.systems)
        try:
            await hub.wecom.send("1")
            await hub.wecom.send("2")
            with pytest.raises(RateLimited):
                await hub.wecom.send("3")
        finally:
            await hub.aclose()
    with start_simulator(str(SCENARIO_PATH), in_process=True) as thread:
        assert thread.stats()["bot_messages"] == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(thread.base_url + "/_sim/stats", timeout=1)


#: how long one of the concurrent calls may take: what the test means is "served, correctly",
#: not "served fast"; 300 calls at once on a busy 2-core machine can queue for seconds (how
#: fast it serves them belongs to bench/)
PATIENT_TIMEOUT_S = 300.0


async def test_serves_many_concurrent_requests(systems, sim, scenario):
    patient = {name: {**values, "timeout_s": PATIENT_TIMEOUT_S} for name, values in systems.items()}
    hub = build_connectors(patient)
    ids = [o["order_id"] for o in scenario["channels"]["douyin"][:300]]
    try:
        await asyncio.gather(
            *(
                hub.channels["douyin"].upload_tracking(i, "SF", f"SF{n:013d}")
                for n, i in enumerate(ids)
            )
        )
    finally:
        await hub.aclose()
    served = {u["order_id"]: u["waybill_no"] for u in sim.log("uploads")}
    assert served == {i: f"SF{n:013d}" for n, i in enumerate(ids)}  # each one, once, right
    assert len(sim.log("uploads")) == 300


def test_settings_for_points_every_system_at_the_simulator():
    systems = settings_for("http://127.0.0.1:1234")
    assert set(systems) == {"youzan", "douyin", "h5", "erp", "sf", "zto", "wecom"}
    assert all(s["base_url"] == "http://127.0.0.1:1234" for s in systems.values())


def test_a_simulator_that_dies_on_start_is_reported_at_once(tmp_path):
    """Waiting for a simulator to answer is patient (a busy machine starts it slowly), but
    not for one that has ended: that is reported as soon as it is seen, not after the wait."""
    from connectors.simulator import server

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with (
        pytest.raises(RuntimeError, match="ended before it answered"),
        start_simulator(str(broken)),
    ):
        pass
    assert server.READY_TIMEOUT_S >= 120
