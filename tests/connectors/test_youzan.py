"""Youzan connector against the simulated Youzan gateway."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from connectors.youzan import ALREADY_SHIPPED, CONFIRM_API, PULL_API, from_local, to_local
from engine.errors import Rejected
from tests.connectors.conftest import assert_round_trip, day_windows, pull_all, window_of

CHANNEL = "youzan"


async def test_round_trip_of_every_order(hub, scenario):
    pulled = await assert_round_trip(hub, scenario, CHANNEL)
    raw = pulled[0][1]["full_order_info"]
    assert raw["order_info"]["status"] in {"WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"}
    assert raw["order_info"]["update_time"].count(":") == 2  # local yyyy-MM-dd HH:mm:ss
    statuses = {r["full_order_info"]["order_info"]["status"] for _, r in pulled}
    assert statuses == {"WAIT_BUYER_PAY", "WAIT_SELLER_SEND_GOODS"}


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 200, 250])
async def test_paging_boundaries(hub, scenario, count):
    start, end, ids = window_of(scenario, CHANNEL, count)
    pages = [page async for page in hub.channels[CHANNEL].pull(start, end)]
    got = [order["order_id"] for page in pages for order, _ in page]
    assert sorted(got) == sorted(ids)
    assert all(len(page) <= 100 for page in pages)


async def test_window_longer_than_a_day_is_refused(hub, scenario):
    start, _ = day_windows(scenario)[0]
    with pytest.raises(Rejected) as err:
        await pull_all(hub.channels[CHANNEL], [(start, start + timedelta(hours=24, seconds=1))])
    assert "1 day" in str(err.value)


@pytest.mark.parametrize(
    ("params", "code"),
    [({}, 4201), ({"access_token": "wrong-token"}, 4203)],
)
def test_gateway_refuses_missing_or_unknown_token(sim, params, code):
    answer = httpx.post(sim.base_url + PULL_API, params=params, json={}).json()
    assert answer["gw_err_resp"]["err_code"] == code


def test_unknown_api_and_missing_version(sim):
    token = {"access_token": sim.systems[CHANNEL]["access_token"]}
    unknown = httpx.post(sim.base_url + "/api/youzan.nothing/1.0.0", params=token).json()
    bare = httpx.post(sim.base_url + "/api/youzan.trades.sold.get", params=token).json()
    assert (unknown["gw_err_resp"]["err_code"], bare["gw_err_resp"]["err_code"]) == (4005, 4001)


async def test_bad_token_is_rejected_without_leaking_it(systems, scenario):
    from connectors.youzan import YouzanConnector

    connector = YouzanConnector({**systems[CHANNEL], "access_token": "secret-bad-token-123"})
    try:
        with pytest.raises(Rejected) as err:
            await pull_all(connector, day_windows(scenario, 1))
    finally:
        await connector.aclose()
    assert err.value.code == "4203"
    assert "secret-bad-token-123" not in str(err.value)


async def test_upload_ships_the_order_and_moves_it_out_of_the_day(hub, sim, scenario):
    order = next(o for o in scenario["channels"][CHANNEL] if o["status"] == "paid")
    await hub.channels[CHANNEL].upload_tracking(order["order_id"], "SF", "SF1234567890123", ["l1"])
    uploads = sim.log("uploads")
    assert uploads[0]["order_id"] == order["order_id"]
    assert uploads[0]["waybill_no"] == "SF1234567890123"
    pulled = await pull_all(hub.channels[CHANNEL], day_windows(scenario))
    assert order["order_id"] not in {o["order_id"] for o, _ in pulled}
    assert len(pulled) == len(scenario["channels"][CHANNEL]) - 1
    assert sim.stats()["uploads"][CHANNEL] == 1


async def test_upload_for_unknown_trade_is_rejected(hub):
    with pytest.raises(Rejected):
        await hub.channels[CHANNEL].upload_tracking("NO-SUCH-TID", "SF", "SF1234567890123")


@pytest.fixture
def paid(scenario):
    return next(o for o in scenario["channels"][CHANNEL] if o["status"] == "paid")["order_id"]


def uploads_of(sim, order_id: str) -> list[dict]:
    return [u for u in sim.log("uploads") if u["order_id"] == order_id]


async def test_tracking_of_is_none_before_the_upload_and_the_waybill_after(hub, paid):
    youzan = hub.channels[CHANNEL]
    assert youzan.can_tell_tracking is True
    assert await youzan.tracking_of(paid) is None
    await youzan.upload_tracking(paid, "SF", "SF1000000000001")
    assert await youzan.tracking_of(paid) == "SF1000000000001"


async def test_tracking_of_an_unknown_trade_is_rejected(hub):
    with pytest.raises(Rejected) as err:
        await hub.channels[CHANNEL].tracking_of("NO-SUCH-TID")
    assert err.value.code == "5000"


async def test_a_confirm_whose_answer_times_out_is_not_sent_twice(hub, sim, paid):
    sim.fault(CHANNEL, "timeout", 1)  # the confirm lands; its answer comes after the client gave up
    await hub.channels[CHANNEL].upload_tracking(paid, "SF", "SF1000000000002")
    assert [u["waybill_no"] for u in uploads_of(sim, paid)] == ["SF1000000000002"]
    stats = sim.stats()
    assert stats["trade_get_calls"] == 1  # asked once, found it, did not confirm again
    assert stats["requests"][CHANNEL] == 2


async def test_a_5xx_before_the_confirm_lands_is_retried_and_lands_once(hub, sim, paid):
    sim.fault(CHANNEL, "error", 1)
    await hub.channels[CHANNEL].upload_tracking(paid, "SF", "SF1000000000003")
    assert len(uploads_of(sim, paid)) == 1
    assert sim.stats()["trade_get_calls"] == 1  # not there yet: confirmed again


async def test_a_second_confirm_with_the_same_waybill_returns_normally(hub, sim, paid):
    youzan = hub.channels[CHANNEL]
    await youzan.upload_tracking(paid, "SF", "SF1000000000004")
    await youzan.upload_tracking(paid, "SF", "SF1000000000004")
    assert len(uploads_of(sim, paid)) == 1


async def test_a_second_confirm_with_another_waybill_is_rejected_naming_the_first(hub, sim, paid):
    youzan = hub.channels[CHANNEL]
    await youzan.upload_tracking(paid, "SF", "SF1000000000005")
    with pytest.raises(Rejected) as err:
        await youzan.upload_tracking(paid, "SF", "SF1000000000006")
    assert "SF1000000000005" in str(err.value)
    assert err.value.code == str(ALREADY_SHIPPED)
    assert [u["waybill_no"] for u in uploads_of(sim, paid)] == ["SF1000000000005"]


async def test_tracking_of_is_retried_through_a_5xx(hub, sim, paid):
    await hub.channels[CHANNEL].upload_tracking(paid, "SF", "SF1000000000007")
    sim.fault(CHANNEL, "error", 1)
    assert await hub.channels[CHANNEL].tracking_of(paid) == "SF1000000000007"


def test_simulator_refuses_a_second_confirm_and_shows_the_first_in_trade_get(sim, paid):
    token = {"access_token": sim.systems[CHANNEL]["access_token"]}
    confirm = {"tid": paid, "out_stype": "SF", "out_sid": "SF1000000000008"}
    first = httpx.post(sim.base_url + CONFIRM_API, params=token, json=confirm).json()
    again = httpx.post(sim.base_url + CONFIRM_API, params=token, json=confirm).json()
    assert first["success"] is True
    assert (again["success"], again["code"]) == (False, ALREADY_SHIPPED)
    trade = httpx.post(
        sim.base_url + "/api/youzan.trade.get/4.0.0", params=token, json={"tid": paid}
    ).json()["data"]
    assert trade["full_order_info"]["order_info"]["tid"] == paid
    assert trade["full_order_info"]["order_info"]["status"] == "WAIT_BUYER_CONFIRM_GOODS"
    (delivery,) = trade["delivery_order"]
    assert delivery["express_state"] == 1
    assert delivery["dists"][0]["express_info"]["express_no"] == "SF1000000000008"
    assert len(uploads_of(sim, paid)) == 1


@pytest.mark.parametrize("iso", ["2026-01-10T00:13:05+08:00", "2026-01-10T23:59:59+08:00"])
def test_local_time_round_trip(iso):
    assert from_local(to_local(iso)) == iso
