"""Douyin (抖店) after-sales: `/afterSale/List`, `/afterSale/Detail`, `/afterSale/operate`.

Signed like every Douyin call (`connectors.douyin.sign`). List: ``update_start_time`` /
``update_end_time`` epoch s, ``page`` **from 0**, ``size`` ≤ 100, ``has_more``; its
``aftersale_id`` is a string, Detail's an int64. Money in **fen** (``refund_amount``). The
statuses: 6 awaiting seller, 7 awaiting the parcel, 11 parcel sent, 12 success, 27/29
refused, 28 failed/closed. Operate sends one item (the call is all-or-nothing) with the
request's ``update_time`` as the stale check: `type` 101 agree return, 201 agree refund,
202 refuse refund, 301 agree exchange. A stale or a state refusal is told by `sub_code`
(the simulator's wording; the real texts are not published). Message pushes
(`pushed_ids`) only name requests: orderhub reads each again before it acts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from connectors.after_sales import AfterSalesConnector, Stale, StateChanged
from connectors.douyin import from_epoch, signed_call, yuan
from connectors.http import Response, client_from_config, json_body, require
from engine.errors import RateLimited, Rejected, Unavailable

SYSTEM = "douyin"
PAGE_SIZE = 100
SUCCESS = 10000
STATUS = {6: "waiting_seller", 7: "waiting_return", 11: "parcel_sent", 12: "success",
          27: "refused", 29: "refused", 28: "closed"}  # fmt: skip
TYPE = {0: "return_refund", 1: "refund_only", 2: "refund_only", 3: "exchange"}
OPERATE = {"agree_return": 101, "refund": 201, "refuse": 202, "exchange": 301}


class DouyinAfterSales(AfterSalesConnector):
    """Douyin after-sales requests: pull, read, operate."""

    channel = SYSTEM

    def __init__(self, config: dict[str, Any]) -> None:
        self._app_key = require(SYSTEM, config, "app_key")
        self._secret = require(SYSTEM, config, "app_secret")
        self._token = require(SYSTEM, config, "access_token")
        self._http = client_from_config(SYSTEM, config)

    async def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        page = 0
        while True:
            params = {
                "update_start_time": int(start.timestamp()),
                "update_end_time": int(end.timestamp()),
                "page": page,
                "size": PAGE_SIZE,
                "order_by": ["update_time asc"],
            }
            data = await self._request("afterSale.List", params, retry=True)
            batch = []
            for item in data.get("items") or []:
                aftersale_id = str(item["aftersale_info"]["aftersale_id"])
                raw = await self._request(
                    "afterSale.Detail", {"after_sale_id": aftersale_id}, retry=True
                )
                batch.append((to_canonical(raw), raw))
            if batch:
                yield batch
            if not data.get("has_more"):
                return
            page += 1

    async def detail(self, aftersale_id: str) -> dict[str, Any]:
        raw = await self._request("afterSale.Detail", {"after_sale_id": aftersale_id}, retry=True)
        return to_canonical(raw)

    async def send(self, request: dict[str, Any], act: str, remark: str, key: str) -> None:
        item: dict[str, Any] = {
            "aftersale_id": request["aftersale_id"],
            "update_time": int(request["version"]),
        }
        if act == "refuse":
            item["reject_reason_code"] = 1
            item["remark"] = remark
        await self._request("afterSale.operate", {"type": OPERATE[act], "items": [item]})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, params: dict[str, Any], *, retry: bool = False) -> dict:
        keys = (self._app_key, self._secret, self._token)
        return await signed_call(self._http, keys, method, params, parse=_parse, retry=retry)


#: after-sales message tags: 200 created, 201/202 refund/return agreed, 203 buyer shipped,
#: 204/205 refused, 206 refunded, 207 closed
PUSH_TAGS = {"200", "201", "202", "203", "204", "205", "206", "207"}


def pushed_ids(push: list[dict[str, Any]] | dict[str, Any]) -> list[str]:
    """The after-sales ids a Douyin message push names (a list of ``{tag, msg_id, data}``,
    ``data`` a JSON string with ``aftersale_id``, ``s_id`` the line, ``p_id`` the order)."""
    messages = push if isinstance(push, list) else [push]
    ids = []
    for message in messages:
        if str(message.get("tag")) in PUSH_TAGS:
            data = message.get("data")
            data = json.loads(data) if isinstance(data, str) else data or {}
            if data.get("aftersale_id"):
                ids.append(str(data["aftersale_id"]))
    return ids


def to_canonical(raw: dict) -> dict[str, Any]:
    """A `/afterSale/Detail` answer in orderhub's after-sales shape (fen → yuan)."""
    info = raw["process_info"]["after_sale_info"]
    ret = (raw["process_info"].get("logistics_info") or {}).get("return") or {}
    lines = raw["order_info"]["sku_order_infos"]
    return {
        "aftersale_id": str(info["after_sale_id"]),
        "order_id": str(raw["order_info"]["shop_order_id"]),
        "type": TYPE.get(int(info["after_sale_type"]), "refund_only"),
        "status": STATUS.get(int(info["after_sale_status"]), str(info["after_sale_status"])),
        "version": str(info["update_time"]),  # operate's stale check
        "lines": [
            {
                "line_id": str(x["sku_order_id"]),
                "sku": x["shop_sku_code"],
                "qty": int(x["after_sale_item_count"]),
                "gift": x.get("given_product_type") == "FREE",
            }
            for x in lines
        ],  # fmt: skip
        "refund": yuan(int(info["refund_amount"]) + int(info.get("refund_post_amount") or 0)),
        "tracking": ret.get("tracking_no")
        and {"company": ret["company_code"], "tracking_no": ret["tracking_no"]},
        "system_refund": info.get("refund_type") == "SYSTEM_REFUND",
        "created_at": from_epoch(info["apply_time"]),
        "updated_at": from_epoch(info["update_time"]),
    }


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    if body.get("code") == SUCCESS:
        return body.get("data") or {}
    sub_code = str(body.get("sub_code") or "")
    text = f"{body.get('msg', '')} {body.get('sub_msg', '')}".strip()
    if "stale" in sub_code:
        raise Stale(SYSTEM, f"stale update_time: {text}", code=sub_code)
    if "status" in sub_code:
        raise StateChanged(SYSTEM, f"state changed: {text}", code=sub_code)
    if "frequency" in sub_code or "limit" in sub_code:
        raise RateLimited(SYSTEM, f"rate limited: {text}", code=sub_code)
    if sub_code.startswith("isp."):
        raise Unavailable(SYSTEM, f"platform error: {text}", code=sub_code)
    raise Rejected(SYSTEM, f"refused: {text}", code=sub_code or str(body.get("code")))
