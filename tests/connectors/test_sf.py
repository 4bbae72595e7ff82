"""SF Express connector against the simulated SF gateway: waybills exactly once per key."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re

import pytest

from connectors.sf import SfConnector, digest, java_urlencode
from connectors.simulator.server import start_simulator
from connectors.simulator.state import SimOptions
from engine.errors import RateLimited, Rejected, Unavailable
from tests.connectors.conftest import SCENARIO_PATH

WAYBILL = re.compile(r"^SF\d{13}$")
SENDER = {"name": "仓库", "phone": "021-55550000", "province": "上海市", "city": "上海市",
          "district": "浦东新区", "address": "仓库路1号"}  # fmt: skip


@pytest.fixture
def order(scenario):
    return {**scenario["channels"]["douyin"][0], "channel": "douyin"}


async def test_create_returns_a_waybill(hub, sim, order):
    waybill = await hub.sf.create_order("douyin:1:waybill", order, SENDER)
    assert WAYBILL.match(waybill)
    assert await hub.sf.search_order("douyin:1:waybill") == waybill
    assert sim.stats()["waybills_created"] == 1


async def test_repeated_key_gives_the_same_waybill_through_8016_and_search(hub, sim, order):
    first = await hub.sf.create_order("k-repeat", order, SENDER)
    again = await hub.sf.create_order("k-repeat", order, SENDER)
    stats = sim.stats()
    assert again == first
    assert (stats["waybills_created"], stats["create_calls"], stats["duplicate_refusals"]) == (
        1,
        2,
        1,
    )


async def test_timeout_is_followed_by_a_search_that_finds_the_landed_order(hub, sim, order):
    sim.fault("sf", "timeout", 1)
    waybill = await hub.sf.create_order("k-timeout", order, SENDER)
    stats = sim.stats()
    assert WAYBILL.match(waybill)
    assert (stats["create_calls"], stats["waybills_created"]) == (1, 1)  # found, not re-created
    assert stats["requests"]["sf"] == 2  # the create, then one search


@pytest.mark.parametrize("mode", ["down", "error", "rate_limit"])
async def test_transient_failure_is_retried_after_a_search(hub, sim, order, mode):
    sim.fault("sf", mode, 1)
    waybill = await hub.sf.create_order(f"k-{mode}", order, SENDER)
    stats = sim.stats()
    assert WAYBILL.match(waybill)
    assert (stats["create_calls"], stats["waybills_created"]) == (1, 1)
    if mode == "rate_limit":  # refused unprocessed: asked again after a pause, no search
        assert stats["requests"]["sf"] == 2
    else:
        assert stats["requests"]["sf"] == 3  # failed create, search (not found), create


async def test_lasting_outage_raises_unavailable(hub, sim, order):
    sim.fault("sf", "down", 50)
    with pytest.raises(Unavailable):
        await hub.sf.create_order("k-down", order, SENDER)
    assert sim.stats()["waybills_created"] == 0


async def test_missing_receiver_mobile_is_a_business_error(hub, order):
    order["receiver"] = {**order["receiver"], "phone": ""}
    with pytest.raises(Rejected) as err:
        await hub.sf.create_order("k-nophone", order, SENDER)
    assert err.value.code == "1010"


async def test_bad_check_word_is_rejected_without_leaking(systems, order):
    sf = SfConnector({**systems["sf"], "check_word": "cw-very-secret"})
    try:
        with pytest.raises(Rejected) as err:
            await sf.create_order("k-sign", order, SENDER)
    finally:
        await sf.aclose()
    assert err.value.code == "A1006"
    assert "cw-very-secret" not in str(err.value)


@pytest.mark.parametrize("key", ["", "x" * 65])
async def test_order_key_must_be_1_to_64_chars(hub, order, key):
    with pytest.raises(Rejected):
        await hub.sf.create_order(key, order, SENDER)


async def test_unknown_key_searches_to_none(hub):
    assert await hub.sf.search_order("never-created") is None


async def test_many_concurrent_creates_get_distinct_waybills(hub, sim, order):
    keys = [f"k-many-{n}" for n in range(200)]
    waybills = await asyncio.gather(*(hub.sf.create_order(k, order, SENDER) for k in keys))
    assert len(set(waybills)) == 200
    assert sim.stats()["waybills_created"] == 200


async def test_first_waybill_variant_and_rate_limit_option(systems, order):
    options = SimOptions(sf_duplicate="first_waybill", sf_rate_limit_per_s=30)
    with start_simulator(str(SCENARIO_PATH), in_process=True, options=options) as other:
        impatient = {"retries": 0, "rate_limit_wait_s": 0}
        sf = SfConnector({**other.systems["sf"], **impatient})
        try:
            first = await sf.create_order("k-variant", order, SENDER)
            assert await sf.create_order("k-variant", order, SENDER) == first
            assert other.stats()["duplicate_refusals"] == 0
            answers = await asyncio.gather(
                *(sf.search_order("k-variant") for _ in range(40)), return_exceptions=True
            )
        finally:
            await sf.aclose()
    limited = [a for a in answers if isinstance(a, RateLimited)]
    assert limited and all(a.code == "A1005" for a in limited)
    assert sum(a == first for a in answers) <= 28  # 30 per second, 2 used by the creates


@pytest.mark.parametrize("paced", [False, True])
async def test_a_rate_limit_slows_calls_down_instead_of_failing_them(systems, order, paced):
    """SF's 30 calls a second: 45 searches at once all get through, waiting their turn —
    spaced by the pacer (`rate_per_s`) without a single A1005, or retried after each. The
    pacer runs at half SF's limit: a busy machine that delays some calls and then sends them
    together must not push a second's worth past SF's count."""
    options = SimOptions(sf_rate_limit_per_s=30)
    with start_simulator(str(SCENARIO_PATH), in_process=True, options=options) as other:
        config = {**other.systems["sf"], **({"rate_per_s": 15} if paced else {})}
        sf = SfConnector(config)
        try:
            first = await sf.create_order("k-paced", order, SENDER)
            answers = await asyncio.gather(*(sf.search_order("k-paced") for _ in range(45)))
            assert sf._http.breaker.state == "closed"  # slow down is not down
        finally:
            await sf.aclose()
        refused = other.stats()["requests"]["sf"] - 46
    assert answers == [first] * 45
    assert refused == 0 if paced else refused > 0


def test_digest_matches_the_documented_recipe():
    # base64(md5(urlencode("ab" + "1" + "cw"))), computed independently
    assert digest("ab", "1", "cw") == "3JL/MXyVOnN3Tou4AI5oAQ=="
    assert digest("a b", "1", "cw") == base64.b64encode(hashlib.md5(b"a+b1cw").digest()).decode()
    assert java_urlencode("a b~*") == "a+b%7E*"


@pytest.mark.parametrize(
    "text",
    ["丝绒唇釉 #01 ~*._-+&=%/", '{"a":"科技园路５７６号"}', "x y😀", "", "A1005 流量受控"],
)
def test_java_urlencode_matches_javas_urlencoder(text: str) -> None:
    """Space as '+', '*' kept, '~' encoded, everything else %XX of its UTF-8 bytes."""
    from urllib.parse import quote_plus

    from connectors.sf import java_urlencode

    assert java_urlencode(text) == quote_plus(text, safe="*").replace("~", "%7E")
