"""The self-built H5 mall: a plain REST API with a keyset cursor and a bearer API key.

``GET /h5/api/orders?updated_after=ISO&updated_before=ISO&cursor=C&limit=N`` (limit <= 100,
window <= 24 h) answers ``{"orders": [...], "next_cursor": C | null}``; records are the
canonical shape (yuan strings, ISO times). Shipments are
``POST /h5/api/orders/{order_id}/shipments`` ``{carrier, waybill_no, lines}`` (meant to be
idempotent per waybill; orderhub does not rely on it). One order is read with
``GET /h5/api/orders/{order_id}``: ``{"order": <record as listed>, "shipments": [{carrier,
waybill_no, lines, shipped_at}]}`` in the order they came, 404 ``{"error":
"order_not_found"}`` for an order the mall does not have; an upload is tried again only
after that read shows the order does not hold the waybill yet (`tracking_of`).

Pushes (the mall's own webhook, our design): ``POST`` a JSON body ``{event_id, event:
"order.paid" | "order.updated" | "order.cancelled", order: <record as listed>}`` with
``X-Timestamp`` (epoch seconds) and ``X-Signature: hex(HMAC-SHA256(webhook_secret,
timestamp + "." + body))``; a timestamp more than 5 minutes off is refused (a replayed push).
The mall retries until it hears 200 ``{"ok": true}``; a repeat carries the same event_id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.http import Response, client_from_config, json_body, require
from connectors.pushes import Pushed, PushRefused, header, need, same
from connectors.records import MALFORMED, read_page
from engine.errors import Rejected

SYSTEM = "h5"
PAGE_SIZE = 100
ORDERS_PATH = "/h5/api/orders"
FIELDS = ("order_id", "created_at", "paid_at", "updated_at", "status", "buyer", "receiver")
REPLAY_WINDOW_S = 300
ACK = {"ok": True}
EVENTS = ("order.paid", "order.updated", "order.cancelled")


class H5Connector:
    """Pulls the H5 mall's orders by update time and posts shipments to it."""

    channel = SYSTEM
    #: `tracking_of` reads the order's shipments: asked before an upload is tried again
    can_tell_tracking = True

    def __init__(self, config: dict[str, Any]) -> None:
        self._key = require(SYSTEM, config, "api_key")
        self._http = client_from_config(SYSTEM, config)

    async def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        """Orders updated in [start, end), one list of (canonical, raw) per page."""
        cursor: str | None = None
        while True:
            params = {
                "updated_after": start.isoformat(),
                "updated_before": end.isoformat(),
                "limit": str(PAGE_SIZE),
            }
            if cursor:
                params["cursor"] = cursor
            body = await self._http.call(
                "GET", ORDERS_PATH, params=params, headers=self._auth(), parse=_parse, retry=True
            )
            batch = read_page(
                body.get("orders", []), to_canonical, SYSTEM, lambda raw: raw["order_id"]
            )
            if batch:
                yield batch
            cursor = body.get("next_cursor")
            if not cursor:
                return

    async def upload_tracking(
        self, order_id: str, carrier: str, waybill_no: str, lines: list[str] | None = None
    ) -> None:
        """Record a shipment, tried again only after `tracking_of` shows the order does not
        hold `waybill_no` yet (a failed ask ends the call with its error)."""
        body = {"carrier": carrier, "waybill_no": waybill_no, "lines": lines or []}

        async def landed() -> dict | None:
            return ACK if await self.tracking_of(order_id) == waybill_no else None

        await self._http.call(
            "POST",
            _order_path(order_id) + "/shipments",
            json=body,
            headers=self._auth(),
            parse=_parse,
            retry=True,
            reconcile=landed,
            retry_unreconciled=False,
        )

    async def tracking_of(self, order_id: str) -> str | None:
        """The waybill number of the order's last shipment (`GET /h5/api/orders/{id}`), or
        None when it has none yet; `Rejected` (code 404) for an order the mall does not have."""
        try:
            body = await self._http.call(
                "GET", _order_path(order_id), headers=self._auth(), parse=_parse, retry=True
            )
        except Rejected as err:
            if err.code != "404":
                raise
            raise Rejected(
                SYSTEM, f"order {order_id} is not in the H5 mall; check the order id", code="404"
            ) from None
        numbers = [str(s["waybill_no"]) for s in body.get("shipments") or [] if s.get("waybill_no")]
        return numbers[-1] if numbers else None

    async def pushed_order(self, record: dict) -> tuple[dict, dict]:
        """A pushed order record as (canonical, raw): the push carries all of it."""
        ((canonical, raw),) = read_page([record], to_canonical, SYSTEM, lambda r: r["order_id"])
        return canonical, raw

    async def aclose(self) -> None:
        await self._http.aclose()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}


def _order_path(order_id: str) -> str:
    return f"{ORDERS_PATH}/{quote(order_id, safe='')}"


def to_canonical(raw: dict) -> dict:
    """An H5 order record as a canonical order."""
    order: dict[str, Any] = {"channel": SYSTEM}
    for key in FIELDS:
        order[key] = raw.get(key)
    order["items"] = [
        {"sku": i["sku"], "title": i["title"], "qty": i["qty"], "price": i["price"]}
        for i in raw.get("items", [])
    ]
    order["amount"] = raw["amount"]
    return order


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, timestamp + "." + body))``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def read_push(
    body: bytes, headers: Mapping[str, str], config: Mapping[str, Any], now: float
) -> list[Pushed]:
    """The mall's signed push (see the module docstring); `now` in epoch seconds."""
    (secret,) = need(config, SYSTEM, "webhook_secret")
    stamp, signature = header(headers, "X-Timestamp"), header(headers, "X-Signature")
    if not stamp or not signature:
        raise PushRefused(401, "X-Timestamp and X-Signature headers are required")
    if not same(webhook_signature(secret, stamp, body), signature):
        raise PushRefused(401, "signature does not match the body")
    try:
        age = abs(now - float(stamp))
    except ValueError:
        raise PushRefused(401, "X-Timestamp must be epoch seconds") from None
    if age > REPLAY_WINDOW_S:
        raise PushRefused(401, f"X-Timestamp is {age:.0f} s off (at most {REPLAY_WINDOW_S})")
    try:
        message = json.loads(body)
        event, order = str(message["event"]), message["order"]
        pushed = Pushed(str(message["event_id"]), str(order["order_id"]), event,
                        event == "order.paid", order)  # fmt: skip
    except (*MALFORMED, json.JSONDecodeError) as exc:
        raise PushRefused(400, f"malformed push: {type(exc).__name__}: {exc}") from None
    if event not in EVENTS:
        raise PushRefused(400, f"unknown event {event!r} (known: {', '.join(EVENTS)})")
    return [pushed]


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    if isinstance(body, dict) and body.get("error"):
        raise Rejected(SYSTEM, f"refused: {body['error']}")
    return body
