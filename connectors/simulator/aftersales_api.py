"""Simulated after-sales APIs of Youzan, Douyin and the H5 mall, over `AfterSalesBook`.

Youzan (``/api/<name>/<version>?access_token=…``, PLATFORMS.md "After-sales"):
``youzan.trade.refund.search/3.0.0`` (``update_time_start/end`` epoch s, ``page_no`` from 1,
``page_no × page_size`` ≤ 3000), ``youzan.trade.refund.get/3.0.0 {refund_id}`` (``tid, oid,
item_num, version, return_goods, demand`` 1 refund / 2 return / 3 exchange, ``refund_type``,
``refund_fee`` yuan, ``status`` WAIT_SELLER_AGREE …, buyer's ``logistics``),
``youzan.trade.returngoods.agree``, ``youzan.trade.refund.agree``,
``youzan.trade.refund.refuse`` (``{refund_id, version[, remark]}`` → ``is_success``) and
``youzan.trade.exchangegoods.agree`` (the simulator's name; no SDK shows one). Stale
version: business code 103010039; state changed: 102010002 (both marked uncertain).

Douyin (signed query, ``param_json`` body, PLATFORMS.md): ``/afterSale/List``
(``update_start_time/update_end_time`` s, ``page`` from 0, ``size`` ≤ 100, ``has_more``;
``aftersale_id`` a string), ``/afterSale/Detail {after_sale_id}`` (int64 id,
``process_info.after_sale_info``, ``process_info.logistics_info.return``,
``order_info.sku_order_infos``; money in fen) and ``/afterSale/operate {type, items:[{
aftersale_id, remark, update_time}]}`` with `type` 101 agree return, 201 agree refund,
202 refuse refund, 301 agree exchange; ``update_time`` older than the request's is stale
(code 50002, sub_code ``isv.aftersale-update-time-stale``: the simulator's wording).

H5 mall (ours): ``GET /h5/api/aftersales?updated_after&cursor&limit≤100`` and
``POST /h5/api/aftersales/{id}/approve|refuse|received`` with ``Idempotency-Key``: a
repeat of a key answers what the first successful call answered and acts no more; 412
when the request changed since it was read, 409 when its state does not allow the act.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response

from connectors.douyin import sign
from connectors.simulator.aftersales_book import ActError
from connectors.simulator.aftersales_book import Request as AfterSale
from connectors.simulator.common import answer, fault_answer, json_of
from connectors.simulator.state import CST, SimState

YOUZAN_STATUS = {
    "waiting_seller": "WAIT_SELLER_AGREE",
    "waiting_return": "WAIT_BUYER_RETURN_GOODS",
    "parcel_sent": "WAIT_SELLER_CONFIRM_GOODS",
    "success": "SUCCESS",
    "refused": "SELLER_REFUSE_BUYER",
    "closed": "CLOSED",
}
DOUYIN_STATUS = {
    "waiting_seller": 6,
    "waiting_return": 7,
    "parcel_sent": 11,
    "success": 12,
    "refused": 27,
    "closed": 28,
}
YOUZAN_DEMAND = {"refund_only": 1, "return_refund": 2, "exchange": 3}
YOUZAN_STALE, YOUZAN_STATE = 103010039, 102010002
DOUYIN_STALE, DOUYIN_STATE = "isv.aftersale-update-time-stale", "isv.aftersale-status-invalid"


def douyin_type(req: AfterSale, shipped: bool) -> int:
    """Douyin's aftersale_type: 0 return, 1 refund after / 2 before shipping, 3 exchange."""
    if req.type == "exchange":
        return 3
    if req.type == "return_refund":
        return 0
    return 1 if shipped else 2


def register(app: FastAPI, state: SimState) -> None:
    """Mount the after-sales paths of Youzan, Douyin and the H5 mall on `app`."""
    book = state.after_sales
    idempotent: dict[str, tuple[int, dict]] = {}

    def now() -> float:
        return state.clock()

    # -- Youzan -----------------------------------------------------------------------
    async def youzan(request: Request, call: str) -> tuple[Response | None, dict]:
        played = state.take_fault("youzan", request, call)
        if played:
            return fault_answer(played), {}
        if request.query_params.get("access_token") != state.credentials["youzan"]["access_token"]:
            return _yz_gw(4203, "access_token is invalid or expired"), {}
        return None, await json_of(request) or {}

    @app.post("/api/youzan.trade.refund.search/{version}")
    async def yz_search(request: Request, version: str) -> Response:
        refused, body = await youzan(request, "as_pull")
        if refused:
            return refused
        size, page_no = int(body.get("page_size", 20)), int(body.get("page_no", 1))
        if not 1 <= size <= 100 or page_no < 1 or page_no * size > 3000:
            return _yz_err(141500101, "page_no × page_size must not exceed 3000")
        lo = int(body.get("update_time_start") or 0)
        hi = int(body.get("update_time_end") or 2**40)
        found = [r for r in book.of("youzan") if lo <= r.updated < hi]
        first = (page_no - 1) * size
        refunds = [
            {"refund_id": r.aftersale_id, "tid": r.order_id, "status": YOUZAN_STATUS[r.state],
             "update_time": int(r.updated)}
            for r in found[first : first + size]
        ]  # fmt: skip
        return _yz_ok({"refunds": refunds, "total": len(found)})

    @app.post("/api/youzan.trade.refund.get/{version}")
    async def yz_get(request: Request, version: str) -> Response:
        refused, body = await youzan(request, "as_get")
        if refused:
            return refused
        try:
            req = book.get("youzan", str(body.get("refund_id", "")))
        except ActError as exc:
            return _yz_err(YOUZAN_STATE, str(exc))
        return _yz_ok(_youzan_detail(req))

    async def yz_act(request: Request, act: str) -> Response:
        refused, body = await youzan(request, "as_act")
        if refused:
            return refused
        try:
            req = book.get("youzan", str(body.get("refund_id", "")))
            version = int(body["version"]) if body.get("version") is not None else None
            if version is None:
                return _yz_err(101000001, "version is required")
            _act(book, req, act, version, str(body.get("remark") or ""), now())
        except ActError as exc:
            code = YOUZAN_STALE if exc.kind == "stale" else YOUZAN_STATE
            return _yz_err(code, str(exc))
        return _yz_ok({"is_success": True})

    for path, act in (
        ("youzan.trade.returngoods.agree", "agree_return"),
        ("youzan.trade.refund.agree", "refund"),
        ("youzan.trade.refund.refuse", "refuse"),
        ("youzan.trade.exchangegoods.agree", "exchange"),
    ):
        app.add_api_route(
            f"/api/{path}/{{version}}",
            _bind(yz_act, act),
            methods=["POST"],
        )

    # -- Douyin -----------------------------------------------------------------------
    async def douyin(request: Request, method: str, call: str) -> tuple[Response | None, dict]:
        played = state.take_fault("douyin", request, call)
        if played:
            return fault_answer(played), {}
        q, creds = request.query_params, state.credentials["douyin"]
        body = (await request.body()).decode()
        expected = sign(creds["app_secret"], creds["app_key"], method, body, q.get("timestamp", ""))
        if q.get("access_token") != creds["access_token"] or not hmac.compare_digest(
            expected, q.get("sign", "")
        ):
            return _dy_err(40003, "签名校验失败", "isv.signature-invalid"), {}
        return None, json.loads(body or "{}")

    @app.post("/afterSale/List")
    async def dy_list(request: Request) -> Response:
        refused, p = await douyin(request, "afterSale.List", "as_pull")
        if refused:
            return refused
        size, page = int(p.get("size", 10)), int(p.get("page", 0))
        if not 1 <= size <= 100 or page < 0:
            return _dy_err(40004, "参数错误", "isv.parameter-invalid:size")
        lo, hi = int(p.get("update_start_time", 0)), int(p.get("update_end_time", 2**40))
        found = [r for r in book.of("douyin") if lo <= r.updated < hi]
        chunk = found[page * size : (page + 1) * size]
        items = [
            {"aftersale_info": {"aftersale_id": r.aftersale_id, "related_id": r.order_id,
                                "aftersale_status": DOUYIN_STATUS[r.state],
                                "update_time": int(r.updated)}}
            for r in chunk
        ]  # fmt: skip
        more = (page + 1) * size < len(found)
        return _dy_ok({"items": items, "has_more": more, "total": len(found)})

    @app.post("/afterSale/Detail")
    async def dy_detail(request: Request) -> Response:
        refused, p = await douyin(request, "afterSale.Detail", "as_get")
        if refused:
            return refused
        try:
            req = book.get("douyin", str(p.get("after_sale_id", "")))
        except ActError as exc:
            return _dy_err(50002, str(exc), "isv.aftersale-not-found")
        return _dy_ok(_douyin_detail(req))

    @app.post("/afterSale/operate")
    async def dy_operate(request: Request) -> Response:
        refused, p = await douyin(request, "afterSale.operate", "as_act")
        if refused:
            return refused
        act = {101: "agree_return", 201: "refund", 202: "refuse", 301: "exchange"}.get(
            int(p.get("type", 0))
        )
        items = p.get("items") or []
        if act is None or len(items) != 1:
            return _dy_err(40004, "参数错误", "isv.parameter-invalid:type")
        item = items[0]
        try:
            req = book.get("douyin", str(item.get("aftersale_id", "")))
            if int(item.get("update_time") or 0) != int(req.updated) and not req.stale_once:
                raise ActError("stale", "update_time is stale")
            _act(book, req, act, None, str(item.get("remark") or ""), now())
        except ActError as exc:
            sub = DOUYIN_STALE if exc.kind == "stale" else DOUYIN_STATE
            return _dy_err(50002, str(exc), sub)
        return _dy_ok({"items": [{"aftersale_id": req.aftersale_id, "status_code": 0}]})

    # -- H5 mall ----------------------------------------------------------------------
    async def h5(request: Request, call: str) -> Response | None:
        played = state.take_fault("h5", request, call)
        if played:
            return fault_answer(played)
        if request.headers.get("authorization") != "Bearer " + state.credentials["h5"]["api_key"]:
            return answer({"error": "unauthorized"}, status=401)
        return None

    @app.get("/h5/api/aftersales")
    async def h5_list(request: Request) -> Response:
        refused = await h5(request, "as_pull")
        if refused:
            return refused
        q = request.query_params
        try:
            lo = datetime.fromisoformat(q["updated_after"]).timestamp()
            limit = int(q.get("limit", 50))
            offset = int(q.get("cursor") or 0)
        except (KeyError, ValueError):
            return answer({"error": "bad_request: updated_after (ISO 8601) required"}, 400)
        if not 1 <= limit <= 100:
            return answer({"error": "limit_too_large: at most 100"}, 400)
        found = [r for r in book.of("h5") if r.updated >= lo]
        chunk = found[offset : offset + limit]
        more = offset + limit < len(found)
        records = [_h5_record(r) for r in chunk]
        return answer({"aftersales": records, "next_cursor": str(offset + limit) if more else None})

    @app.post("/h5/api/aftersales/{aftersale_id}/{action}")
    async def h5_act(request: Request, aftersale_id: str, action: str) -> Response:
        refused = await h5(request, "as_act")
        if refused:
            return refused
        key = request.headers.get("idempotency-key")
        if not key:
            return answer({"error": "Idempotency-Key header required"}, 400)
        if key in idempotent:  # a repeat: the first answer again, nothing done twice
            status, body = idempotent[key]
            return answer(body, status)
        body = await json_of(request) or {}
        act = {"approve": body.get("stage", "refund"), "refuse": "refuse"}.get(action)
        status, reply = 200, {"ok": True}
        try:
            req = book.get("h5", aftersale_id)
            if action == "received":
                reply = {"ok": True, "state": req.state}
            elif act in ("agree_return", "refund", "exchange", "refuse"):
                _act(book, req, act, None, str(body.get("reason") or ""), now())
            else:
                status, reply = 400, {"error": f"unknown action {action}"}
        except ActError as exc:  # 412: changed since read; 409: the state does not allow it
            status = 412 if exc.kind == "stale" else 409
            return answer({"error": f"{exc.kind}: {exc}"}, status)  # a failure is not kept
        idempotent[key] = (status, reply)
        return answer(reply, status)


def _act(book: Any, req: AfterSale, act: str, version: int | None, remark: str, now: float) -> None:
    if act == "agree_return":
        book.agree_return(req, version, now)
    elif act == "refund":
        book.agree_refund(req, version, now)
    elif act == "exchange":
        book.agree_exchange(req, version, now)
    else:
        book.refuse(req, version, remark, now)


def _bind(handler: Any, act: str) -> Any:
    async def route(request: Request, version: str) -> Response:
        return await handler(request, act)

    return route


def _youzan_detail(r: AfterSale) -> dict[str, Any]:
    logistics = r.tracking and {
        "logistics_no": r.tracking["tracking_no"],
        "company_code": r.tracking["company"],
    }
    return {
        "refund_id": r.aftersale_id,
        "tid": r.order_id,
        "oid": r.lines[0]["line_id"],
        "item_num": sum(int(line["qty"]) for line in r.lines),
        "items": [
            {
                "oid": line["line_id"],
                "outer_sku_id": line["sku"],
                "num": line["qty"],
                "is_present": bool(line.get("gift")),
            }
            for line in r.lines
        ],  # fmt: skip
        "version": r.version,
        "return_goods": r.type != "refund_only",
        "demand": YOUZAN_DEMAND[r.type],
        "refund_type": r.refund_kind,
        "refund_fee": f"{r.refund_fen / 100:.2f}",
        "status": YOUZAN_STATUS[r.state],
        "created": _local(r.created),
        "update_time": _local(r.updated),
        "logistics": logistics or None,
    }


def _douyin_detail(r: AfterSale) -> dict[str, Any]:
    ret = r.tracking and {"tracking_no": r.tracking["tracking_no"],
                          "company_code": r.tracking["company"]}  # fmt: skip
    return {
        "process_info": {
            "after_sale_info": {
                "after_sale_id": int(r.aftersale_id),
                "after_sale_status": DOUYIN_STATUS[r.state],
                "after_sale_type": douyin_type(r, r.type != "refund_only"),
                "refund_amount": r.refund_fen,
                "refund_post_amount": 0,
                "refund_type": r.refund_kind,
                "apply_time": int(r.created),
                "update_time": int(r.updated),
            },
            "logistics_info": {"return": ret or {}},
        },
        "order_info": {
            "shop_order_id": r.order_id,
            "sku_order_infos": [
                {
                    "sku_order_id": line["line_id"],
                    "shop_sku_code": line["sku"],
                    "after_sale_item_count": line["qty"],
                    "given_product_type": "FREE" if line.get("gift") else "MASTER",
                }
                for line in r.lines
            ],  # fmt: skip
        },
    }


def _h5_record(r: AfterSale) -> dict[str, Any]:
    return {
        "aftersale_id": r.aftersale_id,
        "order_id": r.order_id,
        "type": r.type,
        "status": r.state,
        "version": r.version,
        "lines": [
            {
                "line_id": line["line_id"],
                "sku": line["sku"],
                "qty": line["qty"],
                "gift": bool(line.get("gift")),
            }
            for line in r.lines
        ],  # fmt: skip
        "refund_fen": r.refund_fen,
        "system_refund": r.refund_kind == "SYSTEM_REFUND",
        "buyer_return": r.tracking,
        "created_at": _iso(r.created),
        "updated_at": _iso(r.updated),
    }


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts, CST).strftime("%Y-%m-%d %H:%M:%S")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(CST).isoformat()


def _yz_ok(data: dict) -> Response:
    return answer({"success": True, "code": 200, "message": "successful", "data": data})


def _yz_err(code: int, msg: str) -> Response:
    return answer({"success": False, "code": code, "message": msg, "data": None})


def _yz_gw(code: int, msg: str) -> Response:
    return answer({"gw_err_resp": {"err_code": code, "err_msg": msg}})


def _dy_ok(data: dict) -> Response:
    return answer({"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "",
                   "log_id": "sim", "data": data})  # fmt: skip


def _dy_err(code: int, msg: str, sub_code: str) -> Response:
    return answer({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": msg,
                   "log_id": "sim", "data": {}})  # fmt: skip
