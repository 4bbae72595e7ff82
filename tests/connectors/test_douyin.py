"""Douyin connector against the simulated Douyin open API."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from connectors.douyin import DouyinConnector, dumps, fen, from_epoch, sign, to_epoch, yuan
from engine.errors import Rejected
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
