"""Every fault kind, injected in the simulator and observed through the real connectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors import build_connectors
from connectors.sf import SfConnector
from engine.errors import RateLimited, Timeout, Unavailable
from tests.connectors.conftest import TIMEOUT_HOLD_S, canonical, day_windows, pull_all

SENDER = {"name": "仓库", "phone": "021-55550000", "province": "上海市", "city": "上海市",
          "district": "青浦区", "address": "华志路1号"}  # fmt: skip
CHANNELS = ["youzan", "douyin", "h5"]


@pytest.fixture
def order(scenario):
    return {**scenario["channels"]["douyin"][0], "channel": "douyin"}


@pytest.fixture
async def sturdy_sf(systems):
    """SF with a breaker that does not open during the test (the outage is the point)."""
    sf = SfConnector({**systems["sf"], "breaker_threshold": 1000})
    yield sf
    await sf.aclose()


async def test_an_outage_window_after_the_start_is_crossed_with_the_fault_clock(
    sturdy_sf, sim, order
):
    sim.arm({"system": "sf", "call": "create", "mode": "down", "start_s": 600, "end_s": 1200})
    assert await sturdy_sf.create_order("k-before", order, SENDER)  # before the window
    sim.advance_fault_clock(600)
    with pytest.raises(Unavailable):
        await sturdy_sf.create_order("k-during", order, SENDER)
    assert await sturdy_sf.search_order("k-during") is None  # searches are not in the outage
    sim.advance_fault_clock(600)
    assert await sturdy_sf.create_order("k-during", order, SENDER)  # over: it goes through
    assert sim.stats()["carriers"]["sf"]["created"] == 2


async def test_an_absolute_outage_window(sturdy_sf, sim, order):
    now = datetime.now(UTC)
    sim.arm(
        {"system": "sf", "mode": "down", "start_at": (now - timedelta(hours=1)).isoformat(),
         "end_at": (now + timedelta(hours=1)).isoformat(), "id": "sale-night"}
    )  # fmt: skip
    with pytest.raises(Unavailable):
        await sturdy_sf.create_order("k-abs", order, SENDER)
    sim.advance_fault_clock(7200)
    assert await sturdy_sf.create_order("k-abs", order, SENDER)


async def test_a_seeded_error_rate_fails_the_same_sends_again(hub, sim):
    async def pattern() -> list[bool]:
        sim.reset()
        sim.arm({"system": "wecom", "mode": "error", "rate": 0.4}, seed=11)
        outcome = []
        for n in range(25):
            try:
                await hub.wecom.send(f"message {n}")
                outcome.append(True)
            except Unavailable:
                outcome.append(False)
        assert sim.stats()["bot_messages"] == sum(outcome)
        return outcome

    first = await pattern()
    assert first == await pattern()
    assert 0 < first.count(False) < 25


async def test_latency_past_the_client_timeout_is_a_timeout(systems, sim):
    wecom = build_connectors(systems).wecom
    try:
        sim.arm({"system": "wecom", "mode": "latency", "latency_s": TIMEOUT_HOLD_S, "count": 1})
        with pytest.raises(Timeout):
            await wecom.send("late")
        await wecom.send("on time")
    finally:
        await wecom.aclose()
    assert sim.stats()["delayed"] == {"wecom": 1}


async def test_a_latency_range_slows_every_page_and_replays_with_the_seed(hub, sim, scenario):
    async def pull() -> int:
        sim.reset()
        sim.arm({"system": "youzan", "call": "pull", "mode": "latency",
                 "latency_s": [0.01, 0.03]}, seed=4)  # fmt: skip
        pulled = await pull_all(hub.channels["youzan"], day_windows(scenario))
        assert {o["order_id"] for o, _ in pulled} == set(canonical(scenario, "youzan"))
        stats = sim.stats()
        pages = stats["calls"]["youzan"]["pull"]
        assert stats["delayed"]["youzan"] == pages
        assert 10 * pages <= stats["delay_ms"]["youzan"] <= 30 * pages
        return stats["delay_ms"]["youzan"]

    assert await pull() == await pull()


async def test_a_429_with_retry_after_is_waited_out_by_the_pull(hub, sim, scenario):
    sim.arm({"system": "h5", "call": "pull", "mode": "http_429", "retry_after_s": 1, "count": 1})
    pulled = await pull_all(hub.channels["h5"], day_windows(scenario))
    assert {o["order_id"] for o, _ in pulled} == set(canonical(scenario, "h5"))
    assert sim.stats()["requests"]["h5"] == sim.stats()["calls"]["h5"]["pull"]
    assert sim.faults()["faults"] == []  # it played


RATE_ANSWERS = [
    ("sf", "create", "A1005"),
    ("zto", "create", "S221"),
    ("youzan", "pull", "4204"),
    ("douyin", "pull", "isv.frequency-limit"),
    ("wecom", "send", "45009"),
    ("h5", "pull", "429"),
    ("erp", "inventory", "429"),
]


@pytest.mark.parametrize(("system", "call", "code"), RATE_ANSWERS)
async def test_each_platform_answers_a_rate_limit_its_own_way(
    systems, sim, scenario, order, system, call, code
):
    impatient = {name: {**v, "rate_limit_wait_s": 0} for name, v in systems.items()}
    hub = build_connectors(impatient)
    sim.arm({"system": system, "call": call, "mode": "rate_limit", "retry_after_s": 2})
    actions = {
        "sf": lambda: hub.sf.create_order("k-rl", order, SENDER),
        "zto": lambda: hub.carriers["zto"].create_order("k-rl", order, SENDER),
        "wecom": lambda: hub.wecom.send("x"),
        "erp": hub.erp.inventory,
    }
    try:
        with pytest.raises(RateLimited) as err:
            if system in actions:
                await actions[system]()
            else:
                await pull_all(hub.channels[system], day_windows(scenario, 1))
    finally:
        await hub.aclose()
    assert err.value.code == code
    if code == "429":
        assert err.value.retry_after_s == 2


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_page_served_twice_loses_no_order(hub, sim, scenario, channel):
    sim.arm({"system": channel, "mode": "page_twice", "count": 1})
    pulled = await pull_all(hub.channels[channel], day_windows(scenario))
    ids = [o["order_id"] for o, _ in pulled]
    assert set(ids) == set(canonical(scenario, channel))
    assert sim.stats()["pages_repeated"][channel] == 1
    if channel != "h5":  # a page read twice by the cursor API shows its orders twice
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("channel", CHANNELS)
async def test_an_order_moving_between_pages_is_still_pulled(hub, sim, scenario, channel):
    sim.arm({"system": channel, "mode": "order_moves", "count": 1})
    pulled = await pull_all(hub.channels[channel], day_windows(scenario))
    (move,) = sim.log("moves")
    assert move["channel"] == channel
    moved_to = datetime.fromisoformat(move["to"])
    later = (moved_to - timedelta(hours=1), moved_to + timedelta(hours=1))
    pulled += await pull_all(hub.channels[channel], [later])  # the window it moved into
    ids = {o["order_id"] for o, _ in pulled}
    assert ids == set(canonical(scenario, channel))
    (moved,) = [o for o, _ in pulled if o["order_id"] == move["order_id"]][-1:]
    assert datetime.fromisoformat(moved["updated_at"]) == moved_to


async def test_counters_prove_once_only_effects(hub, sim, scenario, order):
    await hub.sf.create_order("k-sf", order, SENDER)
    await hub.carriers["zto"].create_order("k-zto", order, SENDER)  # the same order again
    h5_order = scenario["channels"]["h5"][0]["order_id"]
    for _ in range(2):
        await hub.channels["h5"].upload_tracking(h5_order, "SF", "SF1000000000009")
    await hub.wecom.send("SF unavailable since 21:04, 143 orders waiting")
    await hub.wecom.send("SF recovered: 143 orders resumed")
    stats = sim.stats(["SF unavailable", "SF recovered", "ZTO"])
    assert stats["orders_with_two_waybills"] == 1
    assert stats["waybills_created"] == 2
    assert stats["uploads_twice"] == {"youzan": 0, "douyin": 0, "h5": 1}
    assert stats["orders_uploaded_twice"] == 1
    assert stats["bot_messages_by_prefix"] == {"SF unavailable": 1, "SF recovered": 1, "ZTO": 0}
    refs = {(w["carrier"], w["order_ref"]) for w in sim.log("waybills")}
    assert refs == {("sf", f"douyin:{order['order_id']}"), ("zto", f"douyin:{order['order_id']}")}
