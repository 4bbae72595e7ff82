"""Simulated Youzan gateway: `youzan.trades.sold.get`, `youzan.trade.get`,
`youzan.logistics.online.confirm` and `youzan.cloud.secret.decrypt.batch`.

Windows are [start_update, end_update) in local time, at most one day; `page_no` from 1,
`page_size` <= 100. Gateway errors as ``{"gw_err_resp": {err_code, err_msg}}``.

Receivers (`SimOptions.receivers`): ``"encrypted"`` renders `receiver_name`,
`receiver_tel` and `delivery_address` as ``$…$1$`` ciphertexts (province, city and
district stay plain); ``"plain"`` renders them as they are.

Batch decrypt, as one public client calls it (``youzan.cloud.secret.decrypt.batch/1.0.0``,
``{"sources": [ciphertext, …]}``, at most 10,000 a call by its note from the document):
the answer's `data` maps each source to its plain text. Another copy of the document shows
``encrypt_list: [{encrypt_data, kdt_id}]`` instead; the simulator follows the first (it
matches the single decrypt's ``{"source": …}``). As the single decrypt is documented to
do, a source that is not a ciphertext comes back as it is; a ciphertext this shop never
handed out is refused with business code 141600001 (the code is the simulator's choice).

The confirm is not idempotent, as the real one may not be: a confirm for an order already
shipped is refused with business code 102570007 "不能重复提交已发过货的商品" (the code and text a
copy of Youzan's confirm error list gives for resubmitting shipped goods; not checked against
the live API) and records nothing. Partial shipment is not modelled: the first confirm ships
the whole order.

`youzan.trade.get` (``{"tid"}``) answers one order: `full_order_info` as in
trades.sold.get, `refund_order` (empty here) and `delivery_order`, one entry per confirm:
``{express_state: 1 (shipped), express_type: 1 (sent by API), oids: [{oid}],
dists: [{dist_id, express_info: {express_id, express_no}}]}`` — the tracking number is
`express_info.express_no`. Shape from two renderings of the 4.0.0 document: the TypeScript
declarations in nest-mods/youzan (model/trade/trade-get.d.ts) and a generated Java
`YouzanTradeGetResult`; `express_id` here is the `out_stype` as sent (Youzan's is a numeric
carrier id). An unknown tid is refused with code 5000 "trade not found", as documented.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response

from connectors.simulator.cipher import Vault
from connectors.simulator.common import answer, fault_answer, json_of
from connectors.simulator.paging import Bounds, serve_page
from connectors.simulator.state import CST, SimState
from connectors.youzan import (
    ALREADY_SHIPPED,
    CANONICAL_TO_STATUS,
    DECRYPT_LIMIT,
    is_cipher,
    to_local,
)

SYSTEM = "youzan"
WINDOW_ERROR = 141500101
DECRYPT_ERROR = 141600001
TRADE_NOT_FOUND = 5000


def render(order: dict, vault: Vault | None = None) -> dict:
    """A canonical order as a Youzan `full_order_info_list` entry; with a `vault`, the
    receiver's name, phone and address are ciphertexts sealed in it."""
    r = order["receiver"]
    seal = _sealer(vault)
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
                "receiver_name": seal("name", r["name"]),
                "receiver_tel": seal("phone", r["phone"]),
                "delivery_province": r["province"],
                "delivery_city": r["city"],
                "delivery_district": r["district"],
                "delivery_address": seal("address", r["address"]),
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

    async def gate(request: Request, call: str | None = None) -> Response | None:
        played = state.take_fault(SYSTEM, request, call)
        if played:
            return fault_answer(played, lambda: gw_error(4204, "api invoke frequency exceeded"))
        token = request.query_params.get("access_token")
        if not token:
            return gw_error(4201, "access_token is missing from the query")
        if token != state.credentials[SYSTEM]["access_token"]:
            return gw_error(4203, "access_token is invalid or expired")
        return None

    @app.post("/api/youzan.trades.sold.get/{version}")
    async def trades_sold_get(request: Request, version: str) -> Response:
        refused = await gate(request, "pull")
        if refused:
            return refused
        body: dict[str, Any] = await json_of(request) or {}
        size = int(body.get("page_size", 40))
        page_no = int(body.get("page_no", 1))
        if size > state.options.max_page_size or size < 1 or page_no < 1:
            return business_error(WINDOW_ERROR, "page_size must be 1..100, page_no from 1")
        store = state.channels[SYSTEM]
        windowed = bool(body.get("start_update") and body.get("end_update"))
        start = end = 0.0
        if windowed:
            start, end = _ts(body["start_update"]), _ts(body["end_update"])
            if end - start > state.options.max_window_s:
                return business_error(WINDOW_ERROR, "start_update to end_update exceeds 1 day")

        def bounds() -> Bounds:
            # both ends or neither: without both the window is ignored
            lo, hi = store.window(start, end) if windowed else store.window(0, math.inf)
            first = lo + (page_no - 1) * size
            return lo, hi, first, min(hi, first + size)

        def render(place: Bounds) -> dict:
            lo, hi, first, top = place
            records = store.records(first, top) if first < hi else []
            return {"full_order_info_list": records, "total_results": hi - lo}

        window = (body.get("start_update"), body.get("end_update"), size)
        return ok(serve_page(state, SYSTEM, window, bounds, render))

    @app.post("/api/youzan.logistics.online.confirm/{version}")
    async def logistics_confirm(request: Request, version: str) -> Response:
        refused = await gate(request, "upload")
        if refused:
            return refused
        body: dict[str, Any] = await json_of(request) or {}
        tid, waybill = str(body.get("tid", "")), str(body.get("out_sid", ""))
        store = state.channels[SYSTEM]
        if tid not in store.orders:
            return business_error(101400001, "trade not found")
        if not waybill:
            return business_error(101400002, "out_sid is required")
        if store.orders[tid]["status"] == "shipped":  # not idempotent: nothing is recorded
            return business_error(ALREADY_SHIPPED, "不能重复提交已发过货的商品")
        oids = [o for o in str(body.get("oids") or "").split(",") if o]
        state.record_upload(
            {"channel": SYSTEM, "order_id": tid, "carrier": body.get("out_stype"),
             "waybill_no": waybill, "lines": oids}
        )  # fmt: skip
        store.ship(tid, state.clock())
        return ok({"is_success": True})

    @app.post("/api/youzan.trade.get/{version}")
    async def trade_get(request: Request, version: str) -> Response:
        refused = await gate(request, "get")
        if refused:
            return refused
        state.counters["trade_get_youzan"] += 1
        tid = str((await json_of(request) or {}).get("tid", ""))
        store = state.channels[SYSTEM]
        if tid not in store.orders:
            return business_error(TRADE_NOT_FOUND, "trade not found")
        record = store.record(tid)
        shipped = [u for u in state.uploads if u["channel"] == SYSTEM and u["order_id"] == tid]
        deliveries = [_delivery(record, up, n) for n, up in enumerate(shipped, 1)]
        return ok({**record, "refund_order": [], "delivery_order": deliveries})

    @app.post("/api/youzan.cloud.secret.decrypt.batch/{version}")
    async def secret_decrypt_batch(request: Request, version: str) -> Response:
        refused = await gate(request, "decrypt")
        if refused:
            return refused
        sources = (await json_of(request) or {}).get("sources")
        if not isinstance(sources, list) or not 1 <= len(sources) <= DECRYPT_LIMIT:
            return business_error(DECRYPT_ERROR, f"sources must hold 1..{DECRYPT_LIMIT} strings")
        plain: dict[str, str] = {}
        for source in map(str, sources):
            opened = state.vault.open(SYSTEM, source)
            if opened is None and is_cipher(source):
                return business_error(DECRYPT_ERROR, "a source is not a ciphertext of this shop")
            plain[source] = opened[1] if opened else source
        state.counters["decrypt_calls_youzan"] += 1
        state.counters["decrypted_youzan"] += len(plain)
        return ok(plain)

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


def _delivery(record: dict, upload: dict, n: int) -> dict:
    """One `delivery_order` entry of trade.get for a recorded confirm."""
    oids = upload["lines"] or [line["oid"] for line in record["full_order_info"]["orders"]]
    return {
        "express_state": 1,
        "express_type": 1,
        "oids": [{"oid": oid} for oid in oids],
        "dists": [
            {
                "dist_id": f"{upload['order_id']}-D{n}",
                "express_info": {
                    "express_id": upload["carrier"],
                    "express_no": upload["waybill_no"],
                },
            }
        ],
    }


def _sealer(vault: Vault | None) -> Callable[[str, str], str]:
    """seal(kind, plain): the ciphertext from `vault`, or the plain value when there is none."""
    if vault is None:
        return lambda _kind, plain: plain
    return functools.partial(vault.seal, SYSTEM)


def _ts(local: str) -> float:
    return datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).timestamp()
