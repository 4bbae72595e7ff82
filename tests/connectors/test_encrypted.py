"""Encrypted receivers: Youzan and Douyin pulls against the default (encrypted) simulator.

The same scenario is pulled from an encrypted and a plain simulator: the canonical orders
must be the same, the raw records must keep the ciphertexts, and the decrypt calls must
be batched per page.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from connectors import Connectors, build_connectors, douyin, youzan
from connectors.douyin import DECRYPT_LIMIT, dumps, sign
from connectors.records import NotDecrypted
from connectors.simulator import douyin as sim_douyin
from connectors.simulator import youzan as sim_youzan
from connectors.simulator.cipher import Vault
from connectors.simulator.server import SimulatorHandle, start_simulator
from connectors.simulator.state import SimOptions
from engine.errors import Unavailable
from tests.connectors.conftest import (
    SCENARIO_PATH,
    TIMEOUT_HOLD_S,
    assert_round_trip,
    day_windows,
)

CHANNELS = ("youzan", "douyin")
YOUZAN_CIPHER = re.compile(r"^\$[A-Za-z0-9+/=]+\$1\$$")
DOUYIN_PHONE = re.compile(r"^\$\$[A-Za-z0-9+/=*]+\$1\$\$$")
DOUYIN_TEXT = re.compile(r"^##[A-Za-z0-9+/=*]+#1##$")


@pytest.fixture(scope="module")
def plain_server() -> Iterator[SimulatorHandle]:
    options = SimOptions(timeout_sleep_s=TIMEOUT_HOLD_S, receivers="plain")
    with start_simulator(str(SCENARIO_PATH), options=options) as handle:
        yield handle


@pytest.fixture
async def plain_hub(plain_server: SimulatorHandle) -> AsyncIterator[Connectors]:
    plain_server.reset()
    connectors = build_connectors(plain_server.systems)
    yield connectors
    await connectors.aclose()


async def pull_pages(hub: Connectors, channel: str, scenario: dict) -> list[list[tuple]]:
    pages = []
    for start, end in day_windows(scenario):
        pages += [page async for page in hub.channels[channel].pull(start, end)]
    return pages


@pytest.mark.parametrize("channel", CHANNELS)
async def test_encrypted_pull_gives_the_orders_of_the_plain_pull(hub, plain_hub, scenario, channel):
    encrypted = await assert_round_trip(hub, scenario, channel)
    plain = await assert_round_trip(plain_hub, scenario, channel)
    assert sorted(o["order_id"] for o, _ in encrypted) == sorted(o["order_id"] for o, _ in plain)
    by_id = {o["order_id"]: o for o, _ in plain}
    assert all(order == by_id[order["order_id"]] for order, _ in encrypted)
    assert {json.dumps(r, sort_keys=True) for _, r in encrypted}.isdisjoint(
        json.dumps(r, sort_keys=True) for _, r in plain
    )  # the raw records differ: one holds ciphertexts, the other plain text


async def test_youzan_raw_record_keeps_the_ciphertexts(hub, scenario):
    pulled = await assert_round_trip(hub, scenario, "youzan")
    for order, raw in pulled:
        addr = raw["full_order_info"]["address_info"]
        receiver = order["receiver"]
        for field, value in (("receiver_tel", "phone"), ("receiver_name", "name"),
                             ("delivery_address", "address")):  # fmt: skip
            if receiver[value]:
                assert YOUZAN_CIPHER.match(addr[field])
        assert addr["delivery_province"] == receiver["province"]  # plain, as documented
        _assert_no_plain_text(raw, receiver)


async def test_douyin_raw_record_keeps_the_ciphertexts(hub, scenario):
    pulled = await assert_round_trip(hub, scenario, "douyin")
    for order, raw in pulled:
        receiver = order["receiver"]
        assert DOUYIN_PHONE.match(raw["encrypt_post_tel"])
        assert DOUYIN_TEXT.match(raw["encrypt_post_receiver"])
        assert DOUYIN_TEXT.match(raw["post_addr"]["encrypt_detail"])
        assert "post_tel" not in raw and "detail" not in raw["post_addr"]
        phone = receiver["phone"]
        assert raw["mask_post_tel"] == phone[:3] + "****" + phone[-4:]
        _assert_no_plain_text(raw, receiver)


async def test_youzan_decrypts_once_per_page(hub, sim, scenario):
    pages = await pull_pages(hub, "youzan", scenario)
    assert len(pages) > 2  # the windows span several pages
    stats = sim.stats()
    assert stats["decrypt_calls"]["youzan"] == len(pages)
    assert stats["decrypted"]["youzan"] == sum(len(_youzan_secrets(p)) for p in pages)


async def test_douyin_decrypts_each_page_in_batches_of_fifty(hub, sim, scenario):
    pages = await pull_pages(hub, "douyin", scenario)
    assert len(pages) > 2
    expected = sum(math.ceil(len(_douyin_secrets(page)) / DECRYPT_LIMIT) for page in pages)
    stats = sim.stats()
    assert stats["decrypt_calls"]["douyin"] == expected
    assert stats["decrypted"]["douyin"] == sum(len(_douyin_secrets(page)) for page in pages)


async def test_plain_receivers_need_no_decrypt(plain_hub, plain_server, scenario):
    for channel in CHANNELS:
        assert await pull_pages(plain_hub, channel, scenario)
    assert plain_server.stats()["decrypt_calls"] == {"youzan": 0, "douyin": 0}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("mode", ["error", "down"])
async def test_a_failing_decrypt_fails_the_pull(hub, sim, scenario, channel, mode):
    sim.fault(channel, mode, count=100, call="decrypt")
    with pytest.raises(Unavailable):  # a ConnectorError, after the HTTP layer's retries
        await pull_pages(hub, channel, scenario)
    stats = sim.stats()
    assert stats["decrypt_calls"][channel] == 0
    assert stats["requests"][channel] >= 1 + 4  # the first page, then 1 + 3 retries


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_passing_decrypt_fault_is_retried(hub, sim, scenario, channel):
    sim.fault(channel, "rate_limit", count=2, call="decrypt")
    await assert_round_trip(hub, scenario, channel)


@pytest.mark.parametrize(("params", "code"), [({}, 4201), ({"access_token": "wrong"}, 4203)])
def test_youzan_decrypt_refuses_a_bad_token(sim, params, code):
    url = sim.base_url + youzan.DECRYPT_API
    answer = httpx.post(url, params=params, json={"sources": ["$x$1$"]}).json()
    assert answer["gw_err_resp"]["err_code"] == code


@pytest.mark.parametrize(
    ("override", "sub_code"),
    [
        ({"app_secret": "not-the-secret"}, "isv.signature-invalid"),
        ({"access_token": "stale-token"}, "isv.access-token-expired"),
    ],
)
def test_douyin_decrypt_refuses_a_bad_signature_or_token(sim, override, sub_code):
    creds = {**sim.systems["douyin"], **override}
    answer = _douyin_decrypt(sim, creds, [{"auth_id": "1", "cipher_text": "##x#1##"}])
    assert answer["sub_code"] == sub_code


def test_douyin_decrypt_answers_per_entry_and_keeps_to_fifty(sim):
    creds = sim.systems["douyin"]
    answer = _douyin_decrypt(sim, creds, [{"auth_id": "1", "cipher_text": "##nope#1##"}])
    assert answer["code"] == 10000
    (info,) = answer["data"]["decrypt_infos"]
    assert (info["err_no"], info["decrypt_text"]) == (sim_douyin.UNKNOWN_CIPHER, "")
    too_many = [{"auth_id": "1", "cipher_text": "##x#1##"}] * (DECRYPT_LIMIT + 1)
    refused = _douyin_decrypt(sim, creds, too_many)
    assert refused["sub_code"] == "isv.parameter-invalid:cipher_infos"


def test_youzan_decrypt_refuses_a_foreign_ciphertext_and_passes_plain_text(sim):
    url = sim.base_url + youzan.DECRYPT_API
    token = {"access_token": sim.systems["youzan"]["access_token"]}
    foreign = httpx.post(url, params=token, json={"sources": ["$bm90LW91cnM=$1$"]}).json()
    assert foreign["success"] is False
    plain = httpx.post(url, params=token, json={"sources": ["13800138000"]}).json()
    assert plain["data"] == {"13800138000": "13800138000"}


async def test_no_plain_text_reaches_the_logs(hub, scenario, caplog):
    caplog.set_level(logging.DEBUG)
    pulled = await assert_round_trip(hub, scenario, "douyin")
    pulled += await assert_round_trip(hub, scenario, "youzan")
    phones = {o["receiver"]["phone"] for o, _ in pulled if o["receiver"]["phone"]}
    assert not any(phone in caplog.text for phone in phones)


@pytest.mark.parametrize(
    ("channel", "render", "parse"),
    [("youzan", sim_youzan.render, youzan.to_canonical),
     ("douyin", sim_douyin.render, douyin.to_canonical)],
)  # fmt: skip
def test_encrypted_shape_round_trips_through_the_vault(scenario, channel, render, parse):
    vault = Vault()
    for order in scenario["channels"][channel]:
        raw = render(order, vault)
        plain = {c: vault.open(channel, c)[1] for c in _strings(raw) if vault.open(channel, c)}
        assert parse(raw, plain) == {**order, "channel": channel}
        with pytest.raises(NotDecrypted):  # name and address are always ciphertexts
            parse(raw)


def test_receivers_option_and_fault_call_are_checked(sim):
    assert SimOptions().receivers == "encrypted"
    with pytest.raises(ValueError):
        SimOptions(receivers="masked")
    body = {"system": "youzan", "mode": "down", "call": "search"}
    assert httpx.post(sim.base_url + "/_sim/faults", json=body).status_code == 400


def _douyin_decrypt(sim: SimulatorHandle, creds: dict[str, Any], infos: list[dict]) -> dict:
    body = dumps({"cipher_infos": infos})
    ts = str(int(time.time()))
    query = {
        "app_key": creds["app_key"],
        "method": "order.batchDecrypt",
        "timestamp": ts,
        "v": "2",
        "sign_method": "hmac-sha256",
        "access_token": creds["access_token"],
        "sign": sign(creds["app_secret"], creds["app_key"], "order.batchDecrypt", body, ts),
    }
    return httpx.post(sim.base_url + "/order/batchDecrypt", params=query, content=body).json()


def _assert_no_plain_text(raw: dict, receiver: dict) -> None:
    """Neither phone nor address in the raw record (the buyer's nick, plain on both
    platforms, is the receiver's name in the generated scenarios)."""
    text = json.dumps(raw, ensure_ascii=False)
    for key in ("phone", "address"):
        assert not receiver[key] or receiver[key] not in text


def _youzan_secrets(page: list[tuple]) -> set[str]:
    fields = ("receiver_name", "receiver_tel", "delivery_address")
    addrs = [raw["full_order_info"]["address_info"] for _, raw in page]
    return {a[f] for a in addrs for f in fields if youzan.is_cipher(a[f])}


def _douyin_secrets(page: list[tuple]) -> set[str]:
    found = set()
    for _, raw in page:
        values = (raw["encrypt_post_tel"], raw["encrypt_post_receiver"])
        found.update(v for v in (*values, raw["post_addr"]["encrypt_detail"]) if v)
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
