"""ZTO connector against the simulated ZTO gateway: signing, waybills exactly once per key."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re

import httpx
import pytest

from connectors.simulator.server import SimulatorHandle, start_simulator
from connectors.simulator.state import SimOptions
from connectors.zto import CODE, CREATE_PATH, ZtoConnector, digest
from engine.errors import RateLimited, Rejected, Timeout, Unavailable
from tests.connectors.conftest import CLIENT_TIMEOUT_S, SCENARIO_PATH, TIMEOUT_HOLD_S

BILL = re.compile(r"^73\d{12}$")
SENDER = {"name": "仓库", "phone": "021-55550000", "province": "上海市", "city": "上海市",
          "district": "青浦区", "address": "华志路1号"}  # fmt: skip
VARIANTS = ["first_waybill", "refused", "new_waybill"]


@pytest.fixture
def order(scenario):
    return {**scenario["channels"]["h5"][0], "channel": "h5"}


@pytest.fixture
def zto(hub):
    return hub.carriers["zto"]


@pytest.fixture(scope="module", params=VARIANTS)
def variant_sim(request):
    """A simulator per documented-or-not variant of a repeated partnerOrderCode."""
    options = SimOptions(timeout_sleep_s=TIMEOUT_HOLD_S, zto_duplicate=request.param)
    with start_simulator(str(SCENARIO_PATH), in_process=True, options=options) as handle:
        yield handle


@pytest.fixture
async def variant_zto(variant_sim: SimulatorHandle):
    variant_sim.reset()
    config = {**variant_sim.systems["zto"], "timeout_s": CLIENT_TIMEOUT_S, "backoff_s": 0.01}
    connector = ZtoConnector(config)
    yield connector
    await connector.aclose()


def test_digest_matches_zto_published_example():
    """ZTO's own signing example: this body and appSecret give the digest its curl sample
    sends (open.zto.com 签名生成, as republished by ZTO's tech blog)."""
    body = '{"pageNo1":33,"pageSize2":23,"data":"test"}'
    assert digest(body, "6fecf57d0f3e1c2100eac4810aa90b54") == "7Ih1zjVdgQEFBzdITreegg=="
    expected = base64.b64encode(hashlib.md5("体a".encode() + b"s").digest()).decode()
    assert digest("体a", "s") == expected == digest("体a".encode(), "s")


async def test_create_returns_a_bill_code_and_search_finds_it(zto, sim, order):
    bill = await zto.create_order("h5-1-waybill", order, SENDER)
    assert BILL.match(bill)
    assert await zto.search_order("h5-1-waybill") == bill
    assert await zto.search_order("never-made") is None
    (record,) = sim.log("waybills")
    assert (record["carrier"], record["order_ref"]) == ("zto", f"h5:{order['order_id']}")
    assert zto.code == CODE == "ZTO"


async def test_same_key_twice_is_one_waybill_whatever_zto_does_with_repeats(
    variant_zto, variant_sim, order
):
    first = await variant_zto.create_order("k-repeat", order, SENDER)
    again = await variant_zto.create_order("k-repeat", order, SENDER)
    zto = variant_sim.stats()["carriers"]["zto"]
    assert again == first
    assert (zto["created"], zto["create_calls"], zto["keys_with_two"]) == (1, 1, 0)


async def test_a_timeout_is_reconciled_by_the_key_not_created_again(
    variant_zto, variant_sim, order
):
    variant_sim.fault("zto", "timeout", 1, call="create")  # lands; its answer comes too late
    bill = await variant_zto.create_order("k-timeout", order, SENDER)
    zto = variant_sim.stats()["carriers"]["zto"]
    assert BILL.match(bill)
    assert (zto["created"], zto["create_calls"]) == (1, 1)  # found by the key, not re-created
    assert variant_sim.stats()["calls"]["zto"] == {"search": 2, "create": 1}


async def test_search_after_a_timeout_finds_the_landed_waybill(systems, sim, order):
    impatient = ZtoConnector({**systems["zto"], "retries": 0})
    try:
        sim.fault("zto", "timeout", 1, call="create")
        with pytest.raises(Timeout, match="may have landed"):
            await impatient.create_order("k-landed", order, SENDER)
        found = await impatient.search_order("k-landed")
    finally:
        await impatient.aclose()
    (record,) = sim.log("waybills")
    assert found == record["waybill_no"]


async def test_when_it_cannot_ask_first_it_creates_nothing(variant_zto, variant_sim, order):
    """ZTO may make a second waybill for a repeated key: no create is sent unless the search
    by the key answered first (the search and its three retries fail here)."""
    variant_sim.fault("zto", "down", 4, call="search")
    with pytest.raises(Unavailable):
        await variant_zto.create_order("k-blind", order, SENDER)
    assert variant_sim.stats()["carriers"]["zto"]["create_calls"] == 0
    bill = await variant_zto.create_order("k-blind", order, SENDER)  # ZTO answers again
    zto = variant_sim.stats()["carriers"]["zto"]
    assert BILL.match(bill)
    assert (zto["created"], zto["keys_with_two"]) == (1, 0)


@pytest.mark.parametrize(
    ("change", "code"),
    [({"app_secret": "not-the-secret"}, "S211"), ({"app_key": "someone-else"}, "S210"),
     ({"account_password": "wrong"}, "E404")],
)  # fmt: skip
async def test_bad_signature_key_or_account_is_refused_with_its_code(
    systems, sim, order, change, code
):
    zto = ZtoConnector({**systems["zto"], **change})
    try:
        with pytest.raises(Rejected) as err:
            await zto.create_order("k-sign", order, SENDER)
    finally:
        await zto.aclose()
    assert err.value.code == code
    assert "not-the-secret" not in str(err.value)
    assert sim.stats()["carriers"]["zto"]["created"] == 0


def test_the_simulator_checks_the_digest_over_the_bytes_sent(sim):
    body = b'{"partnerOrderCode":"x"}'
    creds = sim.systems["zto"]
    headers = {"x-appKey": creds["app_key"], "x-dataDigest": digest(body, creds["app_secret"])}
    url = sim.base_url + CREATE_PATH
    assert httpx.post(url, content=body, headers=headers).json()["statusCode"] != "S211"
    tampered = httpx.post(url, content=body + b" ", headers=headers).json()
    assert (tampered["status"], tampered["statusCode"]) == (False, "S211")
    bare = httpx.post(url, content=body).json()
    assert bare["statusCode"] == "S208"


async def test_rate_limit_is_zto_s221_and_waits(systems, sim, order):
    sim.fault("zto", "rate_limit", 1, call="create")
    patient = ZtoConnector(systems["zto"])
    impatient = ZtoConnector({**systems["zto"], "rate_limit_wait_s": 0})
    try:
        assert BILL.match(await patient.create_order("k-rate", order, SENDER))
        sim.fault("zto", "rate_limit", 1, call="create")
        with pytest.raises(RateLimited) as err:
            await impatient.create_order("k-rate-2", order, SENDER)
    finally:
        await patient.aclose()
        await impatient.aclose()
    assert err.value.code == "S221"
    assert sim.stats()["carriers"]["zto"]["created"] == 1


async def test_missing_receiver_mobile_is_refused(zto, order):
    order["receiver"] = {**order["receiver"], "phone": ""}
    with pytest.raises(Rejected) as err:
        await zto.create_order("k-nophone", order, SENDER)
    assert err.value.code == "S208"
    assert order["receiver"]["address"] not in str(err.value)


@pytest.mark.parametrize("key", ["", "x" * 65])
async def test_key_must_be_1_to_64_chars(zto, order, key):
    with pytest.raises(Rejected):
        await zto.create_order(key, order, SENDER)


async def test_many_concurrent_creates_get_distinct_waybills(zto, sim, order):
    keys = [f"k-many-{n}" for n in range(100)]
    bills = await asyncio.gather(*(zto.create_order(k, order, SENDER) for k in keys))
    assert len(set(bills)) == 100
    assert sim.stats()["carriers"]["zto"]["created"] == 100
