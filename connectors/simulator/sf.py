"""Simulated SF Express gateway ``/std/service``: create and search orders.

Validates partnerID and msgDigest (A1004 / A1006), optional 30/s limit (A1005). A repeated
orderId answers error 8016, or the first waybill when `SimOptions.sf_duplicate` is
``"first_waybill"``. A receiver without a mobile is business error 1010. Fault call kinds:
``create`` (EXP_RECE_CREATE_ORDER) and ``search`` (EXP_RECE_SEARCH_ORDER_RESP); the
``rate_limit`` fault answers A1005. The order ref a waybill is for is read from msgData's
`remark` (the connector writes ``channel:order_id`` there) for the once-only counters.
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response

from connectors.sf import CREATE, SEARCH, SERVICE_PATH, digest
from connectors.simulator import sf_reverse
from connectors.simulator.common import answer, fault_answer
from connectors.simulator.state import SimState

SYSTEM = "sf"
REVERSE = "EXP_RECE_CREATE_REVERSE_ORDER"
ROUTES = "EXP_RECE_SEARCH_ROUTES"
CALLS = {CREATE: "create", SEARCH: "search", REVERSE: "reverse", ROUTES: "routes"}
FIELDS = ("partnerID", "requestID", "serviceCode", "timestamp", "msgDigest", "msgData")


def register(app: FastAPI, state: SimState) -> None:
    """Mount the SF gateway path on `app`."""

    @app.post(SERVICE_PATH)
    async def service(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        played = state.take_fault(SYSTEM, request, CALLS.get(form.get("serviceCode", "")))
        if played:
            return fault_answer(played, lambda: gateway("A1005", "流量受控"))
        missing = [f for f in FIELDS if not form.get(f)]
        if missing:
            return gateway("A1001", f"必传参数不可为空: {missing[0]}")
        creds = state.credentials[SYSTEM]
        if form["partnerID"] != creds["partner_id"]:
            return gateway("A1004", "无对应服务权限")
        expected = digest(form["msgData"], form["timestamp"], creds["check_word"])
        if not hmac.compare_digest(expected, form["msgDigest"]):
            return gateway("A1006", "数字签名无效")
        if not state.allow_sf():
            return gateway("A1005", "流量受控")
        try:
            msg = json.loads(form["msgData"])
        except ValueError:
            return gateway("A1001", "msgData is not JSON")
        if form["serviceCode"] == CREATE:
            return create(state, msg)
        if form["serviceCode"] == SEARCH:
            return search(state, msg)
        if form["serviceCode"] == REVERSE:
            return sf_reverse.create(state, msg, business_ok, business)
        if form["serviceCode"] == ROUTES:
            return _ok({"success": True, "errorCode": "S0000", "errorMsg": None,
                        "msgData": sf_reverse.routes(state, msg)})  # fmt: skip
        return gateway("A1004", "无对应服务权限")


def create(state: SimState, msg: dict) -> Response:
    state.counters["sf_create_calls"] += 1
    order_id = str(msg.get("orderId", ""))
    if not order_id or len(order_id) > 64:
        return business("8024", "orderId must be 1..64 characters")
    first = state.waybills.get(order_id)
    if first:
        if state.options.sf_duplicate == "first_waybill":
            return business_ok(order_id, first["waybillNo"])
        state.counters["sf_duplicates"] += 1
        return business("8016", "重复下单")
    contacts = {c.get("contactType"): c for c in msg.get("contactInfoList") or []}
    receiver = contacts.get(2) or {}
    if not re.search(r"\d", str(receiver.get("mobile") or "")):
        return business("1010", "到件方联系电话不能为空")
    if not receiver.get("address"):
        return business("1014", "到件方地址不能为空")
    if receiver.get("province") in state.options.sf_undeliverable:
        state.counters["sf_undeliverable"] += 1
        return _ok(
            {"success": True, "errorCode": "S0000", "errorMsg": None,
             "msgData": {"orderId": order_id, "filterResult": 3, "waybillNoInfoList": []}}
        )  # fmt: skip
    state.waybill_seq += 1
    waybill = f"SF{1460000000000 + state.waybill_seq * 37:013d}"
    ref = str(msg.get("remark") or "")
    state.waybills[order_id] = state.record_waybill(
        SYSTEM, order_id, waybill, ref, orderId=order_id, waybillNo=waybill, msgData=msg
    )
    return business_ok(order_id, waybill)


def search(state: SimState, msg: dict) -> Response:
    order_id = str(msg.get("orderId", ""))
    record = state.waybills.get(order_id) or sf_reverse.search(state, msg)
    if record is None:
        return business("8018", "未获取到订单信息")
    return business_ok(order_id, record["waybillNo"])


def gateway(code: str, msg: str) -> Response:
    return answer({"apiResultCode": code, "apiErrorMsg": msg,
                   "apiResponseID": uuid.uuid4().hex, "apiResultData": None})  # fmt: skip


def business(code: str, msg: str) -> Response:
    data = {"success": False, "errorCode": code, "errorMsg": msg, "msgData": None}
    return _ok(data)


def business_ok(order_id: str, waybill: str) -> Response:
    msg_data = {
        "orderId": order_id,
        "filterResult": 2,
        "waybillNoInfoList": [{"waybillType": 1, "waybillNo": waybill}],
    }
    return _ok({"success": True, "errorCode": "S0000", "errorMsg": None, "msgData": msg_data})


def _ok(data: dict) -> Response:
    return answer({"apiResultCode": "A1000", "apiErrorMsg": "",
                   "apiResponseID": uuid.uuid4().hex,
                   "apiResultData": json.dumps(data, ensure_ascii=False)})  # fmt: skip
