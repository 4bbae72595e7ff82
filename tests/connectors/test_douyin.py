"""Douyin connector against the simulated Douyin open API."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from connectors.douyin import DouyinConnector, dumps, fen, from_epoch, sign, to_epoch, yuan
from engine.errors import Rejected, Unavailable
from tests.connectors.conftest import assert_round_trip, day_windows, pull_all, window_of

CHANNEL = "douyin"


async def test_round_trip_of_every_order(hub, scenario):
    pulled = await assert_round_trip(hub, scenario, CHANNEL)
    raws = [raw for _, raw in pulled]
    assert {r["order_status"] for r in raws} == {1, 2, 105}
    assert all(isinstance(r["order_amount"], int) for r in raws)
    assert all(isinstance(r["update_time"], int) for r in raws)


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 200, 301])
async def test_paging_boundaries(hub, scenario, count):
    start, end, ids = window_of(scenario, CHANNEL, count)
    pages = [page async for page in hub.channels[CHANNEL].pull(start, end)]
    got = [order["order_id"] for page in pages for order, _ in page]
    assert sorted(got) == sorted(ids)


async def test_window_longer_than_a_day_is_refused(hub, scenario):
    start, _ = day_windows(scenario)[0]
    with pytest.raises(Rejected) as err:
        await pull_all(hub.channels[CHANNEL], [(start, start + timedelta(days=2))])
    assert err.value.code == "isv.parameter-invalid:update_time"


@pytest.mark.parametrize(
    ("override", "sub_code"),
    [
        ({"app_secret": "not-the-secret"}, "isv.signature-invalid"),
        ({"access_token": "stale-token"}, "isv.access-token-expired"),
        ({"app_key": "other-app"}, "isv.invalid-app-key"),
    ],
)
async def test_bad_credentials_are_rejected_without_leaking(systems, scenario, override, sub_code):
    connector = DouyinConnector({**systems[CHANNEL], **override})
    try:
        with pytest.raises(Rejected) as err:
            await pull_all(connector, day_windows(scenario, 1))
    finally:
        await connector.aclose()
    assert err.value.code == sub_code
    assert all(value not in str(err.value) for value in override.values())


def test_page_size_over_100_is_refused(sim):
    creds = sim.systems[CHANNEL]
    body = dumps({"update_time_start": 0, "update_time_end": 3600, "page": 0, "size": 101})
    ts = str(int(time.time()))
    query = {
        "app_key": creds["app_key"],
        "method": "order.searchList",
        "timestamp": ts,
        "v": "2",
        "sign_method": "hmac-sha256",
        "access_token": creds["access_token"],
        "sign": sign(creds["app_secret"], creds["app_key"], "order.searchList", body, ts),
    }
    answer = httpx.post(sim.base_url + "/order/searchList", params=query, content=body).json()
    assert (answer["code"], answer["sub_code"]) == (40004, "isv.parameter-invalid:size")


async def test_upload_ships_the_order(hub, sim, scenario):
    order = next(o for o in scenario["channels"][CHANNEL] if o["status"] == "paid")
    await hub.channels[CHANNEL].upload_tracking(order["order_id"], "shunfeng", "SF1000000000001")
    assert sim.log("uploads")[0]["waybill_no"] == "SF1000000000001"
    pulled = await pull_all(hub.channels[CHANNEL], day_windows(scenario))
    assert order["order_id"] not in {o["order_id"] for o, _ in pulled}


@pytest.mark.parametrize(("text", "cents"), [("129.00", 12900), ("0.00", 0), ("-0.05", -5)])
def test_money_in_fen(text, cents):
    assert fen(text) == cents
    assert yuan(cents) == text


def test_epoch_round_trip():
    assert from_epoch(to_epoch("2026-01-10T00:01:23+08:00")) == "2026-01-10T00:01:23+08:00"


def uploads_of(sim, order_id: str) -> list[dict]:
    return [u for u in sim.log("uploads") if u["order_id"] == order_id]


@pytest.fixture
def paid(scenario) -> str:
    return next(o for o in scenario["channels"][CHANNEL] if o["status"] == "paid")["order_id"]


async def test_tracking_of_is_none_before_the_upload_and_the_waybill_after(hub, sim, paid):
    douyin = hub.channels[CHANNEL]
    assert douyin.can_tell_tracking is True
    assert await douyin.tracking_of(paid) is None
    await douyin.upload_tracking(paid, "shunfeng", "SF1000000000011")
    assert await douyin.tracking_of(paid) == "SF1000000000011"
    assert sim.stats()["calls"][CHANNEL]["get"] == 2  # order.orderDetail, signed like the rest


async def test_tracking_of_an_unknown_order_is_rejected_naming_it(hub):
    with pytest.raises(Rejected) as err:
        await hub.channels[CHANNEL].tracking_of("NO-SUCH-ORDER")
    assert err.value.code == "isv.business-failed:order-not-found"
    assert "NO-SUCH-ORDER" in str(err.value)


async def test_a_logistics_add_whose_answer_times_out_is_not_sent_twice(hub, sim, paid):
    sim.fault(CHANNEL, "timeout", 1, call="upload")  # it lands; the answer comes too late
    await hub.channels[CHANNEL].upload_tracking(paid, "shunfeng", "SF1000000000012")
    assert [u["waybill_no"] for u in uploads_of(sim, paid)] == ["SF1000000000012"]
    assert sim.stats()["calls"][CHANNEL] == {"upload": 1, "get": 1}  # asked, found it


async def test_a_5xx_before_the_logistics_add_lands_is_retried_and_lands_once(hub, sim, paid):
    sim.fault(CHANNEL, "error", 1, call="upload")
    await hub.channels[CHANNEL].upload_tracking(paid, "shunfeng", "SF1000000000013")
    assert len(uploads_of(sim, paid)) == 1
    assert sim.stats()["calls"][CHANNEL] == {"upload": 2, "get": 1}  # not there: sent again


async def test_an_upload_is_not_sent_again_when_asking_fails(hub, sim, paid):
    sim.fault(CHANNEL, "error", 1, call="upload")
    sim.fault(CHANNEL, "error", 4, call="get")  # the read's own retries fail too
    with pytest.raises(Unavailable):
        await hub.channels[CHANNEL].upload_tracking(paid, "shunfeng", "SF1000000000014")
    assert sim.stats()["calls"][CHANNEL] == {"upload": 1, "get": 4}


def test_order_detail_lists_every_logistics_add_recorded(sim, paid):
    creds = sim.systems[CHANNEL]

    def call(method: str, params: dict) -> dict:
        body, ts = dumps(params), str(int(time.time()))
        query = {
            "app_key": creds["app_key"], "method": method, "timestamp": ts, "v": "2",
            "sign_method": "hmac-sha256", "access_token": creds["access_token"],
            "sign": sign(creds["app_secret"], creds["app_key"], method, body, ts),
        }  # fmt: skip
        path = "/" + method.replace(".", "/")
        return httpx.post(sim.base_url + path, params=query, content=body).json()

    for number in ("SF1000000000015", "SF1000000000016"):  # the simulator records a repeat
        added = call("order.logisticsAdd", {"order_id": paid, "company_code": "shunfeng",
                                            "logistics_code": number})  # fmt: skip
        assert added["code"] == 10000
    detail = call("order.orderDetail", {"shop_order_id": paid})["data"]["shop_order_detail"]
    parcels = detail["logistics_info"]
    assert [p["tracking_no"] for p in parcels] == ["SF1000000000015", "SF1000000000016"]
    assert {p["company"] for p in parcels} == {"shunfeng"}
    assert all(p["product_info"] and p["ship_time"] > 0 for p in parcels)
    assert detail["order_id"] == paid
