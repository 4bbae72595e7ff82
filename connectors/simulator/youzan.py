"""Simulated Youzan gateway: `youzan.trades.sold.get` and `youzan.logistics.online.confirm`.

Windows are [start_update, end_update) in local time, at most one day; `page_no` from 1,
`page_size` <= 100. Gateway errors as ``{"gw_err_resp": {err_code, err_msg}}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response

from connectors.simulator.common import answer, fault_answer, json_of
from connectors.simulator.state import CST, SimState
from connectors.youzan import CANONICAL_TO_STATUS, to_local

SYSTEM = "youzan"
WINDOW_ERROR = 141500101


def render(order: dict) -> dict:
    """A canonical order as a Youzan `full_order_info_list` entry."""
    r = order["receiver"]
    return {
        "full_order_info": {
            "order_info": {
                "tid": order["order_id"],
                "status": CANONICAL_TO_STATUS[order["status"]],
                "created": to_local(order["created_at"]),
                "pay_time": to_local(order["paid_at"]) if order["paid_at"] else None,
                "update_time": to_local(order["updated_at"]),
            },
            "buyer_info": {"fans_nickname": order["buyer"]["nick"]},
            "address_info": {
                "receiver_name": r["name"],
                "receiver_tel": r["phone"],
                "delivery_province": r["province"],
                "delivery_city": r["city"],
                "delivery_district": r["district"],
                "delivery_address": r["address"],
            },
            "orders": [
                {
                    "oid": f"{order['order_id']}-{n}",
                    "outer_sku_id": item["sku"],
                    "title": item["title"],
                    "num": item["qty"],
                    "price": item["price"],
                }
                for n, item in enumerate(order["items"], 1)
            ],
            "pay_info": {"payment": order["amount"], "total_fee": order["amount"]},
        }
    }


def register(app: FastAPI, state: SimState) -> None:
    """Mount the Youzan gateway paths on `app`."""

    async def gate(request: Request) -> Response | None:
        mode = state.take_fault(SYSTEM, request)
        if mode:
            return fault_answer(mode, lambda: gw_error(4204, "api invoke frequency exceeded"))
        token = request.query_params.get("access_token")
        if not token:
            return gw_error(4201, "access_token is missing from the query")
        if token != state.credentials[SYSTEM]["access_token"]:
            return gw_error(4203, "access_token is invalid or expired")
        return None

    @app.post("/api/youzan.trades.sold.get/{version}")
    async def trades_sold_get(request: Request, version: str) -> Response:
        refused = await gate(request)
        if refused:
            return refused
        body: dict[str, Any] = await json_of(request) or {}
        size = int(body.get("page_size", 40))
        page_no = int(body.get("page_no", 1))
        if size > state.options.max_page_size or size < 1 or page_no < 1:
            return business_error(WINDOW_ERROR, "page_size must be 1..100, page_no from 1")
        store = state.channels[SYSTEM]
        if body.get("start_update") and body.get("end_update"):
            start, end = _ts(body["start_update"]), _ts(body["end_update"])
            if end - start > state.options.max_window_s:
                return business_error(WINDOW_ERROR, "start_update to end_update exceeds 1 day")
            lo, hi = store.window(start, end)
        else:  # both ends or neither: the window is ignored
            lo, hi = 0, len(store.index)
        first = lo + (page_no - 1) * size
        records = store.records(first, min(hi, first + size)) if first < hi else []
        return ok({"full_order_info_list": records, "total_results": hi - lo})

    @app.post("/api/youzan.logistics.online.confirm/{version}")
    async def logistics_confirm(request: Request, version: str) -> Response:
        refused = await gate(request)
        if refused:
            return refused
        body: dict[str, Any] = await json_of(request) or {}
        tid, waybill = str(body.get("tid", "")), str(body.get("out_sid", ""))
        store = state.channels[SYSTEM]
        if tid not in store.orders:
            return business_error(101400001, "trade not found")
        if not waybill:
            return business_error(101400002, "out_sid is required")
        oids = [o for o in str(body.get("oids") or "").split(",") if o]
        state.uploads.append(
            {"channel": SYSTEM, "order_id": tid, "carrier": body.get("out_stype"),
             "waybill_no": waybill, "lines": oids}
        )  # fmt: skip
        store.ship(tid, state.clock())
        return ok({"is_success": True})

    @app.post("/api/{api}/{version}")
    async def unknown_api(request: Request, api: str, version: str) -> Response:
        return await gate(request) or gw_error(4005, f"api {api} does not exist")

    @app.post("/api/{api}")
    async def missing_version(request: Request, api: str) -> Response:
        return await gate(request) or gw_error(4001, "api version is missing")


def ok(data: dict) -> Response:
    return answer({"success": True, "code": 200, "message": "successful", "data": data})


def gw_error(code: int, msg: str) -> Response:
    return answer({"gw_err_resp": {"err_code": code, "err_msg": msg}})


def business_error(code: int, msg: str) -> Response:
    return answer({"success": False, "code": code, "message": msg, "data": None})


def _ts(local: str) -> float:
    return datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).timestamp()
