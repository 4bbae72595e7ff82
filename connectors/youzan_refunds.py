"""Youzan after-sales: `youzan.trade.refund.search` / `refund.get` and the seller's acts.

Shapes from PLATFORMS.md "After-sales": the search window is ``update_time_start/end`` in
**epoch seconds** (orders use local-time strings), ``page_no`` from 1 with
``page_no × page_size`` ≤ 3000; `refund.get` carries ``version`` (re-read before acting),
``demand`` 1 refund / 2 return / 3 exchange, ``refund_fee`` in yuan, ``status``
WAIT_SELLER_AGREE …, the buyer's parcel in ``logistics``. Acts take ``{refund_id,
version}``: ``returngoods.agree``, ``refund.agree``, ``refund.refuse`` (``remark``) and
``exchangegoods.agree`` (the simulator's name). Business code 103010039 is a stale version,
102010002 a changed state (both uncertain). Pushes (`pushed_ids`) only name the request:
orderhub reads it again, so a duplicate, late or forged push can do no more than a pull.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from connectors.after_sales import AfterSalesConnector, Stale, StateChanged
from connectors.http import Response, client_from_config, json_body, require
from connectors.youzan import from_local
from engine.errors import RateLimited, Rejected, Unavailable

SYSTEM = "youzan"
PAGE_SIZE = 100
MAX_ROWS = 3000
STATUS = {
    "WAIT_SELLER_AGREE": "waiting_seller",
    "WAIT_BUYER_RETURN_GOODS": "waiting_return",
    "WAIT_SELLER_CONFIRM_GOODS": "parcel_sent",
    "SUCCESS": "success",
    "SELLER_REFUSE_BUYER": "refused",
    "SELLER_REFUSE_BUYER_RETURN_GOODS": "refused",
    "CLOSED": "closed",
}
DEMAND = {1: "refund_only", 2: "return_refund", 3: "exchange"}
STALE, STATE_CHANGED = 103010039, 102010002
ACT_API = {
    "agree_return": "youzan.trade.returngoods.agree/3.0.0",
    "refund": "youzan.trade.refund.agree/3.0.0",
    "refuse": "youzan.trade.refund.refuse/3.0.0",
    "exchange": "youzan.trade.exchangegoods.agree/3.0.0",
}


class YouzanAfterSales(AfterSalesConnector):
    """Youzan refund requests: pull, read, agree, refuse."""

    channel = SYSTEM

    def __init__(self, config: dict[str, Any]) -> None:
        self._token = require(SYSTEM, config, "access_token")
        self._http = client_from_config(SYSTEM, config)

    async def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        page_no = 1
        while page_no * PAGE_SIZE <= MAX_ROWS:
            body = {
                "update_time_start": int(start.timestamp()),
                "update_time_end": int(end.timestamp()),
                "page_no": page_no,
                "page_size": PAGE_SIZE,
            }
            data = await self._call("youzan.trade.refund.search/3.0.0", body, retry=True)
            found = data.get("refunds") or []
            page = []
            for row in found:
                raw = await self._call(
                    "youzan.trade.refund.get/3.0.0", {"refund_id": row["refund_id"]}, retry=True
                )
                page.append((to_canonical(raw), raw))
            if page:
                yield page
            if len(found) < PAGE_SIZE:
                return
            page_no += 1

    async def detail(self, aftersale_id: str) -> dict[str, Any]:
        raw = await self._call(
            "youzan.trade.refund.get/3.0.0", {"refund_id": aftersale_id}, retry=True
        )
        return to_canonical(raw)

    async def send(self, request: dict[str, Any], act: str, remark: str, key: str) -> None:
        body: dict[str, Any] = {
            "refund_id": request["aftersale_id"],
            "version": int(request["version"]),
        }
        if act == "refuse":
            body["remark"] = remark
        # not retried blindly: `act` reads the request again before any repeat
        await self._call(ACT_API[act], body, retry=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, api: str, body: dict, *, retry: bool) -> dict:
        return await self._http.call(
            "POST",
            f"/api/{api}",
            params={"access_token": self._token},
            json=body,
            parse=_parse,
            retry=retry,
        )


def pushed_ids(push: dict[str, Any]) -> list[str]:
    """The refund ids a Youzan push names (``trade_refund_*`` messages: ``msg`` is URL-encoded
    JSON ``{tid, oids, refund_id, refunded_fee}``); other messages name none."""
    if not str(push.get("type", "")).startswith("trade_refund"):
        return []
    msg = json.loads(unquote(str(push.get("msg") or "{}")))
    return [str(msg["refund_id"])] if msg.get("refund_id") else []


def to_canonical(raw: dict) -> dict[str, Any]:
    """A `refund.get` answer in orderhub's after-sales shape."""
    logistics = raw.get("logistics") or None
    items = raw.get("items") or [
        {"oid": raw["oid"], "outer_sku_id": raw.get("outer_sku_id", ""), "num": raw["item_num"]}
    ]
    return {
        "aftersale_id": str(raw["refund_id"]),
        "order_id": str(raw["tid"]),
        "type": DEMAND.get(int(raw.get("demand", 1)), "refund_only"),
        "status": STATUS.get(raw["status"], raw["status"]),
        "version": str(raw["version"]),
        "lines": [
            {
                "line_id": str(i["oid"]),
                "sku": i["outer_sku_id"],
                "qty": int(i["num"]),
                "gift": bool(i.get("is_present")),
            }
            for i in items
        ],  # fmt: skip
        "refund": str(raw["refund_fee"]),
        "tracking": logistics
        and {"company": logistics["company_code"], "tracking_no": logistics["logistics_no"]},
        "system_refund": raw.get("refund_type") == "SYSTEM_REFUND",
        "created_at": from_local(raw["created"]),
        "updated_at": from_local(raw["update_time"]),
    }


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    gw = body.get("gw_err_resp")
    if gw:
        code = int(gw.get("err_code", 0))
        if code in (429, 4204):
            raise RateLimited(SYSTEM, f"gateway rate limit: {gw.get('err_msg')}", code=str(code))
        raise Rejected(SYSTEM, f"gateway refused: {gw.get('err_msg')}", code=str(code))
    if not body.get("success", False):
        code, msg = int(body.get("code") or 0), str(body.get("message", ""))
        if code == STALE:
            raise Stale(SYSTEM, f"stale version: {msg}", code=str(code))
        if code == STATE_CHANGED:
            raise StateChanged(SYSTEM, f"state changed: {msg}", code=str(code))
        if code >= 500 and code < 600:
            raise Unavailable(SYSTEM, msg, code=str(code))
        raise Rejected(SYSTEM, f"refused: {msg}", code=str(code))
    return body.get("data") or {}
