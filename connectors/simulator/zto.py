"""Simulated ZTO open-platform gateway: `zto.open.createOrder` and `zto.open.getOrderInfo`.

Checks the ``x-appKey`` / ``x-dataDigest`` headers of every call (S208 missing, S210 unknown
app key, S211 bad digest) and the e-waybill account of a create (E404). A repeated
`partnerOrderCode` answers as `SimOptions.zto_duplicate` says: the first bill code again,
a refusal (code E1021, the simulator's choice), or — the pessimistic case — a second
waybill. `getOrderInfo` answers ``result: [order, …]`` for `billCode`, `orderCode` or
`partnerOrderCode` (the last one is an assumption: see docs/carriers.md). Fault call kinds:
``create`` and ``search``; ``rate_limit`` answers S221 "api qps flow limit".
"""

from __future__ import annotations

import hmac
import json

from fastapi import FastAPI, Request, Response

from connectors.simulator.common import answer, fault_answer
from connectors.simulator.state import SimState
from connectors.zto import CREATE_PATH, DUPLICATE, SEARCH_PATH, digest

SYSTEM = "zto"
CALLS = {CREATE_PATH: "create", SEARCH_PATH: "search"}


def register(app: FastAPI, state: SimState) -> None:
    """Mount the ZTO gateway paths on `app`."""

    async def gate(request: Request, call: str | None) -> tuple[Response | None, dict]:
        played = state.take_fault(SYSTEM, request, call)
        if played:
            return fault_answer(played, lambda: error("S221", "api qps flow limit")), {}
        body = await request.body()
        app_key, sent = request.headers.get("x-appKey"), request.headers.get("x-dataDigest")
        if not app_key or not sent:
            return error("S208", "x-appKey和x-dataDigest不能为空"), {}
        creds = state.credentials[SYSTEM]
        if app_key != creds["app_key"]:
            return error("S210", "无权限访问"), {}
        if not hmac.compare_digest(digest(body, creds["app_secret"]), sent):
            return error("S211", "签名错误"), {}
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return error("S208", "请求体不是合法的JSON"), {}
        return None, payload if isinstance(payload, dict) else {}

    @app.post(CREATE_PATH)
    async def create_order(request: Request) -> Response:
        refused, body = await gate(request, "create")
        return refused or create(state, body)

    @app.post(SEARCH_PATH)
    async def get_order_info(request: Request) -> Response:
        refused, body = await gate(request, "search")
        return refused or search(state, body)

    @app.post("/zto.{api}")
    async def unknown_api(request: Request, api: str) -> Response:
        refused, _ = await gate(request, None)
        return refused or error("S207", "API不存在")


def create(state: SimState, body: dict) -> Response:
    state.counters["zto_create_calls"] += 1
    key = str(body.get("partnerOrderCode") or "")
    if not key or len(key) > 64:
        return error("S208", "partnerOrderCode不能为空")
    account = body.get("accountInfo") or {}
    creds = state.credentials[SYSTEM]
    if (account.get("accountId"), account.get("accountPassword")) != (
        creds["account_id"],
        creds["account_password"],
    ):
        return error("E404", "鉴权失败,未绑定电子面单账号")
    earlier = state.zto_orders.get(key)
    if earlier and state.options.zto_duplicate != "new_waybill":
        if state.options.zto_duplicate == "first_waybill":
            return ok(_created(earlier[0]))
        state.counters["zto_duplicates"] += 1
        return error(DUPLICATE, "合作商订单号已存在")
    receiver = body.get("receiveInfo") or {}
    if not receiver.get("receiverMobile") and not receiver.get("receiverPhone"):
        return error("S208", "receiverMobile不能为空")
    if not receiver.get("receiverAddress"):
        return error("S208", "receiverAddress不能为空")
    state.waybill_seq += 1
    bill = f"73{100000000000 + state.waybill_seq * 37:012d}"
    record = state.record_waybill(
        SYSTEM,
        key,
        bill,
        str(body.get("remark") or ""),
        orderCode=f"{260000000000000000 + state.waybill_seq}",
        partnerOrderCode=key,
    )
    state.zto_orders.setdefault(key, []).append(record)
    return ok(_created(record))


def search(state: SimState, body: dict) -> Response:
    wanted = {
        "partnerOrderCode": str(body.get("partnerOrderCode") or ""),
        "orderCode": str(body.get("orderCode") or ""),
        "waybill_no": str(body.get("billCode") or ""),
    }
    if not any(wanted.values()):
        return error("S208", "orderCode或billCode不能为空")
    found = [
        _info(record)
        for records in state.zto_orders.values()
        for record in records
        if any(value and record.get(field) == value for field, value in wanted.items())
    ]
    return ok(found)


def ok(result: object) -> Response:
    return answer({"status": True, "statusCode": "0000", "message": "成功", "result": result})


def error(code: str, message: str) -> Response:
    return answer({"status": False, "statusCode": code, "message": message, "result": None})


def _created(record: dict) -> dict:
    return {
        "billCode": record["waybill_no"],
        "orderCode": record["orderCode"],
        "partnerOrderCode": record["partnerOrderCode"],
        "siteCode": "02100",
        "siteName": "上海",
        "bigMarkInfo": {"mark": "300- H12 09", "bagAddr": "沪西"},
        "verifyCode": None,
        "signBillInfo": None,
    }


def _info(record: dict) -> dict:
    return {
        "billCode": record["waybill_no"],
        "orderCode": record["orderCode"],
        "partnerOrderCode": record["partnerOrderCode"],
        "orderStatus": 1,
    }
