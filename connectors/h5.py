"""The self-built H5 mall: a plain REST API with a keyset cursor and a bearer API key.

``GET /h5/api/orders?updated_after=ISO&updated_before=ISO&cursor=C&limit=N`` (limit <= 100,
window <= 24 h) answers ``{"orders": [...], "next_cursor": C | null}``; records are the
canonical shape (yuan strings, ISO times). Shipments are
``POST /h5/api/orders/{order_id}/shipments``, idempotent per waybill. Push webhooks carry
``X-H5-Signature: hex(HMAC-SHA256(webhook_secret, body))``; `verify_webhook` checks it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.http import Response, client_from_config, json_body, require
from connectors.records import read_page
from engine.errors import Rejected

SYSTEM = "h5"
PAGE_SIZE = 100
ORDERS_PATH = "/h5/api/orders"
FIELDS = ("order_id", "created_at", "paid_at", "updated_at", "status", "buyer", "receiver")


class H5Connector:
    """Pulls the H5 mall's orders by update time and posts shipments to it."""

    channel = SYSTEM
    upload_is_idempotent = True  # the mall treats a repeated waybill as the same shipment

    def __init__(self, config: dict[str, Any]) -> None:
        self._key = require(SYSTEM, config, "api_key")
        self._webhook_secret = str(config.get("webhook_secret", ""))
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
        """Record a shipment; the mall treats a repeated waybill as the same shipment."""
        body = {"carrier": carrier, "waybill_no": waybill_no, "lines": lines or []}
        path = f"{ORDERS_PATH}/{quote(order_id, safe='')}/shipments"
        await self._http.call(
            "POST", path, json=body, headers=self._auth(), parse=_parse, retry=True
        )

    def verify_webhook(self, body: bytes, signature: str) -> bool:
        """True when a pushed webhook's `X-H5-Signature` matches its body."""
        if not self._webhook_secret:
            return False
        return hmac.compare_digest(webhook_signature(self._webhook_secret, body), signature)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}


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


def webhook_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    if isinstance(body, dict) and body.get("error"):
        raise Rejected(SYSTEM, f"refused: {body['error']}")
    return body
