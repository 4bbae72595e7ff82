"""H5 mall connector against the simulated H5 REST API."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from connectors.h5 import ORDERS_PATH, H5Connector, read_push, webhook_signature
from connectors.pushes import PushRefused
from engine.errors import Rejected, Unavailable
from tests.connectors.conftest import assert_round_trip, day_windows, pull_all, window_of

CHANNEL = "h5"


async def test_round_trip_of_every_order(hub, scenario):
    await assert_round_trip(hub, scenario, CHANNEL)


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 200])
async def test_cursor_paging_boundaries(hub, scenario, count):
    start, end, ids = window_of(scenario, CHANNEL, count)
    pages = [page async for page in hub.channels[CHANNEL].pull(start, end)]
    got = [order["order_id"] for page in pages for order, _ in page]
    assert got == sorted(got, key=lambda oid: got.index(oid))  # no repeats reordered
    assert sorted(got) == sorted(ids)
    assert len(pages) == -(-count // 100)


async def test_window_longer_than_a_day_is_refused(hub, scenario):
    start, _ = day_windows(scenario)[0]
    with pytest.raises(Rejected) as err:
        await pull_all(hub.channels[CHANNEL], [(start, start + timedelta(hours=25))])
    assert "window_too_long" in str(err.value)


async def test_bad_api_key_is_rejected_without_leaking(systems, scenario):
    connector = H5Connector({**systems[CHANNEL], "api_key": "leaky-key-42"})
    try:
        with pytest.raises(Rejected) as err:
            await pull_all(connector, day_windows(scenario, 1))
    finally:
        await connector.aclose()
    assert err.value.code == "401"
    assert "leaky-key-42" not in str(err.value)


@pytest.mark.parametrize(("limit", "status"), [("100", 200), ("101", 400), ("0", 400)])
def test_limit_is_at_most_100(sim, scenario, limit, status):
    headers = {"Authorization": "Bearer " + sim.systems[CHANNEL]["api_key"]}
    params = {"updated_after": scenario["window"]["start"], "limit": limit}
    assert httpx.get(sim.base_url + ORDERS_PATH, params=params, headers=headers).status_code == (
        status
    )


async def test_upload_ships_the_order_and_repeat_is_harmless(hub, sim, scenario):
    order = scenario["channels"][CHANNEL][0]
    for _ in range(2):
        await hub.channels[CHANNEL].upload_tracking(order["order_id"], "SF", "SF1000000000002")
    assert sim.stats()["uploaded_orders"] == 1
    pulled = await pull_all(hub.channels[CHANNEL], day_windows(scenario))
    assert order["order_id"] not in {o["order_id"] for o, _ in pulled}


async def test_upload_for_unknown_order_is_rejected(hub):
    with pytest.raises(Rejected) as err:
        await hub.channels[CHANNEL].upload_tracking("H5-NOPE", "SF", "SF1000000000003")
    assert err.value.code == "404"


def test_a_push_is_read_only_with_its_signature_and_a_fresh_timestamp(systems):
    config = systems[CHANNEL]
    body = json.dumps({"event_id": "E1", "event": "order.paid", "order": {"order_id": "H1"}})
    body = body.encode()
    now = 1_760_000_000.0
    stamp = str(int(now))
    signed = {
        "X-Timestamp": stamp,
        "X-Signature": webhook_signature(config["webhook_secret"], stamp, body),
    }
    (pushed,) = read_push(body, signed, config, now)
    assert (pushed.push_id, pushed.order_id, pushed.paid) == ("E1", "H1", True)
    for bad_body, headers, at in [
        (body + b" ", signed, now),  # the body changed
        (body, {**signed, "X-Timestamp": str(int(now) - 1)}, now),  # the time changed
        (body, signed, now + 301),  # a replay after the window
        (body, {}, now),
    ]:
        with pytest.raises(PushRefused) as refused:
            read_push(bad_body, headers, config, at)
        assert refused.value.status == 401
    with pytest.raises(PushRefused, match="webhook_secret not set"):
        read_push(body, signed, {**config, "webhook_secret": ""}, now)


def uploads_of(sim, order_id: str) -> list[dict]:
    return [u for u in sim.log("uploads") if u["order_id"] == order_id]


@pytest.fixture
def h5_order(scenario) -> str:
    return scenario["channels"][CHANNEL][0]["order_id"]


async def test_tracking_of_is_none_before_the_upload_and_the_waybill_after(hub, sim, h5_order):
    h5 = hub.channels[CHANNEL]
    assert h5.can_tell_tracking is True
    assert await h5.tracking_of(h5_order) is None
    await h5.upload_tracking(h5_order, "SF", "SF1000000000021")
    assert await h5.tracking_of(h5_order) == "SF1000000000021"
    assert sim.stats()["calls"][CHANNEL]["get"] == 2


async def test_tracking_of_an_unknown_order_is_rejected_naming_it(hub):
    with pytest.raises(Rejected) as err:
        await hub.channels[CHANNEL].tracking_of("H5-NOPE")
    assert err.value.code == "404"
    assert "H5-NOPE is not in the H5 mall" in str(err.value)


async def test_a_shipment_whose_answer_times_out_is_not_posted_twice(hub, sim, h5_order):
    sim.fault(CHANNEL, "timeout", 1, call="upload")  # it lands; the answer comes too late
    await hub.channels[CHANNEL].upload_tracking(h5_order, "SF", "SF1000000000022")
    assert [u["waybill_no"] for u in uploads_of(sim, h5_order)] == ["SF1000000000022"]
    assert sim.stats()["calls"][CHANNEL] == {"upload": 1, "get": 1}


async def test_a_shipment_is_not_posted_again_when_asking_fails(hub, sim, h5_order):
    sim.fault(CHANNEL, "error", 1, call="upload")
    sim.fault(CHANNEL, "error", 4, call="get")  # the read's own retries fail too
    with pytest.raises(Unavailable):
        await hub.channels[CHANNEL].upload_tracking(h5_order, "SF", "SF1000000000023")
    assert sim.stats()["calls"][CHANNEL] == {"upload": 1, "get": 4}


def test_the_order_read_lists_every_shipment_recorded(sim, h5_order):
    headers = {"Authorization": "Bearer " + sim.systems[CHANNEL]["api_key"]}
    path = f"{sim.base_url}{ORDERS_PATH}/{h5_order}"
    for number in ("SF1000000000024", "SF1000000000025"):  # the simulator records a repeat
        body = {"carrier": "SF", "waybill_no": number, "lines": []}
        assert httpx.post(path + "/shipments", json=body, headers=headers).status_code == 200
    got = httpx.get(path, headers=headers).json()
    assert got["order"]["order_id"] == h5_order
    assert [s["waybill_no"] for s in got["shipments"]] == ["SF1000000000024", "SF1000000000025"]
    assert httpx.get(path).status_code == 401
