"""The after-sales connectors against the simulator: shapes, money units, stale checks and
acts that take effect once (the simulator's counters prove it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors import Connectors, build_connectors
from connectors.after_sales import StateChanged
from connectors.simulator.aftersales_gen import generate_after_sales
from connectors.simulator.generator import write_scenario
from connectors.simulator.server import SimulatorHandle, start_simulator

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    data = generate_after_sales(200, 5)
    path = tmp_path_factory.mktemp("as") / "after-sales-200-s5.json"
    write_scenario(data, path)
    return path, data


@pytest.fixture(scope="module")
def sim_server(scenario: tuple[Path, dict[str, Any]]) -> Iterator[SimulatorHandle]:
    with start_simulator(str(scenario[0])) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimulatorHandle) -> SimulatorHandle:
    sim_server.reset()
    return sim_server


@pytest.fixture
async def hub(sim: SimulatorHandle) -> AsyncIterator[Connectors]:
    systems = {k: {**v, "timeout_s": 10.0, "backoff_s": 0.01} for k, v in sim.systems.items()}
    connectors = build_connectors(systems)
    yield connectors
    await connectors.aclose()


def acts(sim: SimulatorHandle) -> dict[str, Any]:
    return httpx.get(f"{sim.base_url}/_sim/after_sales").json()


def first(data: dict[str, Any], channel: str, **want: Any) -> dict[str, Any]:
    for req in data["after_sales"]:
        if req["channel"] == channel and all(req.get(k) == v for k, v in want.items()):
            return req
    raise LookupError(f"no {channel} request with {want} in the scenario")


@pytest.mark.parametrize("channel", ["youzan", "douyin", "h5"])
async def test_pull_gives_every_request_in_orderhubs_shape(
    hub: Connectors, scenario: tuple[Path, dict[str, Any]], channel: str
) -> None:
    _, data = scenario
    got = {}
    async for page in hub.after_sales[channel].pull(SINCE, datetime.now(UTC)):
        got.update({req["aftersale_id"]: req for req, _raw in page})
    want = {r["aftersale_id"]: r for r in data["after_sales"] if r["channel"] == channel}
    assert set(got) == set(want)
    for aftersale_id, req in want.items():
        mine = got[aftersale_id]
        assert mine["order_id"] == req["order_id"]
        assert mine["type"] == req["type"]
        assert mine["refund"] == f"{req['refund_fen'] / 100:.2f}"  # fen and yuan alike
        assert [(li["sku"], li["qty"], li["gift"]) for li in mine["lines"]] == [
            (li["sku"], li["qty"], li["gift"]) for li in req["lines"]
        ]
        assert mine["system_refund"] == bool(req.get("system_refund"))


@pytest.mark.parametrize("channel", ["youzan", "douyin", "h5"])
async def test_a_refund_asked_twice_refunds_once(
    hub: Connectors, sim: SimulatorHandle, scenario: tuple[Path, dict[str, Any]], channel: str
) -> None:
    req = first(scenario[1], channel, type="refund_only", system_refund=None)
    conn = hub.after_sales[channel]
    done = await conn.act(req["aftersale_id"], "refund", key="k1")
    again = await conn.act(req["aftersale_id"], "refund", key="k1")
    assert done["status"] == again["status"] == "success"
    ref = f"{channel}:{req['aftersale_id']}"
    assert acts(sim)["requests"][ref].get("refund") == 1
    assert acts(sim)["refunded_twice"] == []


async def test_a_stale_version_is_read_again_and_the_act_lands_once(
    hub: Connectors, sim: SimulatorHandle, scenario: tuple[Path, dict[str, Any]]
) -> None:
    stale = [r for r in scenario[1]["after_sales"] if r.get("stale_once")]
    assert stale, "the generator plants stale versions"
    for req in stale:
        act = "refund" if req["type"] == "refund_only" else "agree_return"
        conn = hub.after_sales[req["channel"]]
        after = await conn.act(req["aftersale_id"], act, key="k-stale")
        assert after["status"] != "waiting_seller"
        counts = acts(sim)["requests"][f"{req['channel']}:{req['aftersale_id']}"]
        assert counts.get(act if act == "agree_return" else "refund") == 1
        assert int(counts["version"]) >= 3  # the buyer's edit, then the act


async def test_refusing_a_refunded_request_is_refused_by_the_platform(
    hub: Connectors, sim: SimulatorHandle, scenario: tuple[Path, dict[str, Any]]
) -> None:
    req = first(scenario[1], "douyin", type="refund_only", system_refund=None)
    conn = hub.after_sales["douyin"]
    await conn.act(req["aftersale_id"], "refund")
    with pytest.raises(StateChanged):
        await conn.act(req["aftersale_id"], "refuse", remark="too late")
    assert acts(sim)["requests"][f"douyin:{req['aftersale_id']}"].get("refuse") is None


async def test_the_buyer_cancelling_on_the_way_closes_the_request(
    hub: Connectors, scenario: tuple[Path, dict[str, Any]]
) -> None:
    cancels = [r for r in scenario[1]["after_sales"] if r.get("buyer_cancels")]
    assert cancels
    req = cancels[0]
    after = await hub.after_sales[req["channel"]].act(req["aftersale_id"], "agree_return")
    assert after["status"] == "closed"


async def test_an_sf_return_pickup_is_booked_once_per_key(
    hub: Connectors, sim: SimulatorHandle, scenario: tuple[Path, dict[str, Any]]
) -> None:
    req = next(
        r for r in scenario[1]["after_sales"]
        if r["type"] != "refund_only" and not r["buyer_tracking"] and not r.get("buyer_cancels")
    )  # fmt: skip
    conn = hub.after_sales[req["channel"]]
    await conn.act(req["aftersale_id"], "agree_return")
    who = {"name": "买家", "phone": "13800001111", "province": "上海市", "city": "上海市",
           "district": "浦东新区", "address": "世纪大道1号"}  # fmt: skip
    ref = f"{req['channel']}:{req['aftersale_id']}"
    cargo = [{"name": "x", "count": 1, "unit": "件"}]
    one = await hub.sf_returns.create_return("as-key-1", ref, who, who, cargo)
    two = await hub.sf_returns.create_return("as-key-1", ref, who, who, cargo)
    assert one == two and one.startswith("SF")
    assert acts(sim)["reverse_orders"] == 1
    detail = await conn.detail(req["aftersale_id"])
    assert detail["status"] == "parcel_sent"
    assert detail["tracking"] == {"company": "SF", "tracking_no": one}


async def test_the_erp_gives_serial_skus_and_sales_return_bills(
    hub: Connectors, scenario: tuple[Path, dict[str, Any]]
) -> None:
    data = scenario[1]
    assert await hub.erp_returns.serial_skus() == sorted(
        s["sku"] for s in data["skus"] if s.get("serial_tracked")
    )
    bills = await hub.erp_returns.return_bills()
    assert {b["aftersale_ref"] for b in bills} == {b["aftersale_ref"] for b in data["return_bills"]}
    assert all(b["qty"] > 0 and b["stock_status"].startswith("KCZT") for b in bills)
