"""WeCom bot connector against the simulated webhook."""

from __future__ import annotations

import pytest

from connectors.wecom import WecomConnector
from engine.errors import RateLimited, Rejected


async def test_text_message_is_recorded_with_mentions(hub, sim):
    await hub.wecom.send("库存预警 LIP-001@east", mentioned_mobiles=["13800001111"])
    [message] = sim.log("messages")
    assert message["msgtype"] == "text"
    assert message["content"] == "库存预警 LIP-001@east"
    assert message["mentioned_mobile_list"] == ["13800001111"]


async def test_markdown_message(hub, sim):
    await hub.wecom.send("**held** 3 orders", markdown=True)
    assert sim.log("messages")[0]["msgtype"] == "markdown"


@pytest.mark.parametrize(
    ("content", "markdown", "ok"),
    [("字" * 682, False, True), ("字" * 683, False, False), ("a" * 4096, True, True),
     ("a" * 4097, True, False)],
)  # fmt: skip
async def test_size_limits_in_bytes(hub, content, markdown, ok):
    if ok:
        await hub.wecom.send(content, markdown=markdown)
    else:
        with pytest.raises(Rejected):
            await hub.wecom.send(content, markdown=markdown)


async def test_twenty_messages_a_minute_then_rate_limited(hub, sim):
    for n in range(20):
        await hub.wecom.send(f"message {n}")
    with pytest.raises(RateLimited) as err:
        await hub.wecom.send("one too many")
    assert err.value.code == "45009"
    assert sim.stats()["bot_messages"] == 20


async def test_unknown_key_is_rejected_without_leaking(systems):
    bot = WecomConnector({**systems["wecom"], "key": "bot-key-hidden"})
    try:
        with pytest.raises(Rejected) as err:
            await bot.send("hello")
    finally:
        await bot.aclose()
    assert err.value.code == "93000"
    assert "bot-key-hidden" not in str(err.value)
