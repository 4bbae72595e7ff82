"""Douyin (抖店): `order.searchList` pull and `order.logisticsAdd` tracking upload.

Every call is a POST to ``/<group>/<action>`` with the signed query (`app_key`, `method`,
`timestamp`, `v=2`, `sign_method=hmac-sha256`, `access_token`, `sign`) and the JSON
`param_json` as the body. Money is fen integers, times epoch seconds, pages from 0 with
`size` <= 100. Answers are ``{code, msg, sub_code, sub_msg, log_id, data}``; code 10000 is
success, a ``isp.*`` sub_code is the platform's own failure, ``*frequency*`` a rate limit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from connectors.http import Response, client_from_config, json_body, pages_backwards, require
from engine.errors import RateLimited, Rejected, Unavailable

SYSTEM = "douyin"
CST = timezone(timedelta(hours=8))
PAGE_SIZE = 100
SUCCESS = 10000

STATUS_TO_CANONICAL = {
    1: "unpaid",
    105: "paid",
    2: "paid",
    101: "paid",
    3: "shipped",
    5: "shipped",
    4: "cancelled",
}


class DouyinConnector:
    """Pulls Douyin shop orders by update time and adds logistics to them."""

    channel = SYSTEM

    def __init__(self, config: dict[str, Any]) -> None:
        self._app_key = require(SYSTEM, config, "app_key")
        self._secret = require(SYSTEM, config, "app_secret")
        self._token = require(SYSTEM, config, "access_token")
        self._http = client_from_config(SYSTEM, config)

    async def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        """Orders updated in [start, end), one list of (canonical, raw) per page."""
        seen: set[str] = set()
        lo, hi = int(start.timestamp()), int(end.timestamp())

        async def fetch(page: int) -> tuple[list[dict], int]:
            params = {
                "update_time_start": lo,
                "update_time_end": hi,
                "page": page,
                "size": PAGE_SIZE,
                "order_by": "update_time",
                "order_asc": True,
            }
            data = await self._request("order.searchList", params, retry=True)
            return data.get("shop_order_list", []), int(data.get("total", 0))

        async for page in pages_backwards(fetch, PAGE_SIZE, first=0):
            batch = []
            for raw in page:
                oid = str(raw["order_id"])
                if oid not in seen and lo <= raw["update_time"] < hi:
                    seen.add(oid)
                    batch.append((to_canonical(raw), raw))
            if batch:
                yield batch

    async def upload_tracking(
        self, order_id: str, carrier: str, waybill_no: str, lines: list[str] | None = None
    ) -> None:
        """`order.logisticsAdd` (repeating it with the same waybill is harmless)."""
        params: dict[str, Any] = {
            "order_id": order_id,
            "company_code": carrier,
            "logistics_code": waybill_no,
            "is_refund_reject": False,
        }
        if lines:
            params["serial_number_list"] = list(lines)
        await self._request("order.logisticsAdd", params, retry=True)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, params: dict[str, Any], *, retry: bool) -> dict:
        param_json = dumps(params)
        timestamp = str(int(time.time()))
        query = {
            "app_key": self._app_key,
            "method": method,
            "timestamp": timestamp,
            "v": "2",
            "sign_method": "hmac-sha256",
            "access_token": self._token,
            "sign": sign(self._secret, self._app_key, method, param_json, timestamp),
        }
        return await self._http.call(
            "POST",
            "/" + method.replace(".", "/"),
            params=query,
            data=param_json.encode(),
            headers={"Content-Type": "application/json"},
            parse=_parse,
            retry=retry,
        )


def sign(secret: str, app_key: str, method: str, param_json: str, timestamp: str) -> str:
    """HMAC-SHA256 hex of secret+"app_key"…+"v2"+secret, keyed by the app secret."""
    text = f"{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v2"
    return hmac.new(secret.encode(), (text + secret).encode(), hashlib.sha256).hexdigest()


def dumps(params: dict[str, Any]) -> str:
    """`param_json` as Douyin signs it: keys sorted, no spaces, UTF-8 kept."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_canonical(raw: dict) -> dict:
    """A Douyin `shop_order_list` entry as a canonical order."""
    addr = raw["post_addr"]
    return {
        "channel": SYSTEM,
        "order_id": str(raw["order_id"]),
        "created_at": from_epoch(raw["create_time"]),
        "paid_at": from_epoch(raw["pay_time"]) if raw.get("pay_time") else None,
        "updated_at": from_epoch(raw["update_time"]),
        "status": STATUS_TO_CANONICAL.get(raw["order_status"], str(raw["order_status"])),
        "buyer": {"nick": raw["user_nick_name"]},
        "receiver": {
            "name": raw["post_receiver"],
            "phone": raw["post_tel"],
            "province": addr["province"]["name"],
            "city": addr["city"]["name"],
            "district": addr["town"]["name"],
            "address": addr["detail"],
        },
        "items": [
            {
                "sku": line["out_sku_id"],
                "title": line["product_name"],
                "qty": line["item_num"],
                "price": yuan(line["goods_price"]),
            }
            for line in raw["sku_order_list"]
        ],
        "amount": yuan(raw["order_amount"]),
    }


def yuan(fen: int) -> str:
    """Fen integer as a yuan string with two decimals."""
    return f"{Decimal(int(fen)).scaleb(-2):.2f}"


def fen(yuan_text: str) -> int:
    """Yuan string as fen integer."""
    return int(Decimal(yuan_text) * 100)


def from_epoch(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), CST).isoformat()


def to_epoch(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    code = body.get("code")
    if code == SUCCESS:
        return body.get("data") or {}
    sub_code = str(body.get("sub_code") or "")
    text = f"{body.get('msg', '')} {body.get('sub_msg', '')}".strip()
    if "frequency" in sub_code or "limit" in sub_code:
        raise RateLimited(SYSTEM, f"rate limited: {text}", code=sub_code or str(code))
    if sub_code.startswith("isp.") or (isinstance(code, int) and code >= 50000):
        raise Unavailable(SYSTEM, f"platform error: {text}", code=sub_code or str(code))
    raise Rejected(SYSTEM, f"refused: {text}", code=sub_code or str(code))
