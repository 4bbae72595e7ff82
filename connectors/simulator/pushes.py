"""The simulator pushes as the channels do: signed order messages to a URL, sent again until
acknowledged.

`message(state, channel, order_id)` builds what the channel sends for "this order is paid"
(see `connectors.h5`, `connectors.youzan` and `connectors.douyin` for the shapes and
signatures); ``POST /_sim/push {channel, order_id, url, times?, bad_signature?}`` sends it
to `url` `times` times (a platform repeating a delivery), each delivery tried up to
`TRIES` times until the answer is the channel's acknowledgement, and answers what happened.
The message id stays the same across repeats and tries, as the platforms keep it.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import httpx
from fastapi import FastAPI, Request, Response

from connectors import douyin, h5, youzan
from connectors.simulator.common import answer, json_of
from connectors.simulator.state import SimState

TRIES = 3  # deliveries of one message until it is acknowledged (the platforms retry more)
RETRY_WAIT_S = 0.5
ACKS = {"h5": h5.ACK, "youzan": youzan.ACK, "douyin": douyin.ACK}


def message(
    state: SimState, channel: str, order_id: str, *, bad_signature: bool = False
) -> tuple[dict[str, str], bytes]:
    """(headers, body) of the channel's "order paid" push for `order_id`."""
    creds = state.credentials[channel]
    store = state.channels[channel]
    order = store.orders[order_id]
    if channel == "h5":
        body = _dumps({"event_id": f"{order_id}:paid", "event": "order.paid",
                       "order": store.record(order_id)})  # fmt: skip
        stamp = str(int(state.clock()))
        signature = h5.webhook_signature(creds["webhook_secret"], stamp, body)
        headers = {"X-Timestamp": stamp, "X-Signature": signature}
    elif channel == "youzan":
        trade = _dumps(store.record(order_id)).decode()
        body = _dumps({
            "client_id": creds["client_id"], "id": order_id, "kdt_id": 1, "kdt_name": "sim",
            "mode": 1, "msg": quote_plus(trade), "msg_id": f"yz-{order_id}-paid",
            "sendCount": 1, "sign": "", "status": "WAIT_SELLER_SEND_GOODS", "test": False,
            "type": "trade_TradePaid", "version": youzan_version(order),
        })  # fmt: skip
        signature = youzan.push_signature(creds["client_id"], creds["client_secret"], body)
        headers = {"Event-Sign": signature, "Event-Type": "trade_TradePaid",
                   "Client-Id": creds["client_id"]}  # fmt: skip
    elif channel == "douyin":
        record = store.record(order_id)
        data = {"p_id": order_id, "s_ids": [s["order_id"] for s in record["sku_order_list"]],
                "shop_id": 1, "order_status": 2, "order_type": 0, "pay_type": 1,
                "pay_time": record.get("pay_time"), "pay_amount": record.get("pay_amount"),
                "biz_id": 8}  # fmt: skip
        body = _dumps([{"tag": douyin.PAID_TAG, "msg_id": f"dy-{order_id}-101",
                        "data": json.dumps(data)}])  # fmt: skip
        signature = douyin.push_signature(creds["app_key"], creds["app_secret"], body)
        headers = {"app-id": creds["app_key"], "event-sign": signature}
    else:
        raise ValueError(f"{channel} does not push")
    if bad_signature:
        headers = {k: ("0" * 32 if "sign" in k.lower() else v) for k, v in headers.items()}
    return {"Content-Type": "application/json", **headers}, body


def youzan_version(order: dict) -> int:
    """Youzan's message version: higher is newer (here the update time in ms)."""
    return int(datetime.fromisoformat(order["updated_at"]).timestamp() * 1000)


async def deliver(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes, ack: Any
) -> dict[str, Any]:
    """Send one message until it is acknowledged, at most `TRIES` times."""
    status, text, tries = 0, "", 0
    for tries in range(1, TRIES + 1):
        try:
            got = await client.post(url, content=body, headers=headers)
            status, text = got.status_code, got.text
            if status == 200 and _json(text) == ack:
                return {"acked": True, "status": status, "body": text, "tries": tries}
        except httpx.HTTPError as exc:
            status, text = 0, type(exc).__name__
        await asyncio.sleep(RETRY_WAIT_S * tries)
    return {"acked": False, "status": status, "body": text, "tries": tries}


def register(app: FastAPI, state: SimState) -> None:
    """Mount ``POST /_sim/push`` on `app`."""

    @app.post("/_sim/push")
    async def push(request: Request) -> Response:
        spec = await json_of(request) or {}
        channel, order_id, url = spec.get("channel"), spec.get("order_id"), spec.get("url")
        if channel not in ACKS or not url:
            return answer({"error": "send {channel: h5|youzan|douyin, order_id, url}"}, 400)
        if order_id not in state.channels[channel].orders:
            return answer({"error": f"no {channel} order {order_id}"}, 404)
        headers, body = message(
            state, channel, order_id, bad_signature=bool(spec.get("bad_signature"))
        )
        results = []
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(int(spec.get("times", 1))):
                results.append(await deliver(client, url, headers, body, ACKS[channel]))
                state.counters[f"pushes_{channel}"] += 1
        return answer({"deliveries": results, "seconds": time.monotonic() - started})


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
