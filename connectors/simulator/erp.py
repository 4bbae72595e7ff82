"""Simulated Kingdee K3 Cloud WebAPI: ValidateUser login and paged ExecuteBillQuery.

Forms: ``STK_Inventory`` (rows [material number, stock number, base qty]: the scenario's
on-hand less the outbound bills booked), ``BD_MATERIAL`` (rows [number, name, price]) and
``SAL_OUTSTOCK`` (entry rows of the approved sales outbound bills, columns as asked in
`FieldKeys`, filtered by ``FDocumentStatus = 'C'`` and ``FApproveDate >= '…'``; see
`outbound`). `Limit` <= 10,000; `StartRow` from 0. Fault call kinds: ``login``, and by
form ``inventory`` (STK_Inventory), ``catalogue`` (BD_MATERIAL), ``outbound`` (SAL_OUTSTOCK).
The ERP has no rate-limit answer of its own: a ``rate_limit`` fault answers HTTP 429 with
Retry-After.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request, Response

from connectors.erp import LOGIN_PATH, QUERY_PATH, SESSION_COOKIE
from connectors.simulator.common import answer, fault_answer, json_of
from connectors.simulator.outbound import FilterError
from connectors.simulator.state import SimState

SYSTEM = "erp"
MAX_LIMIT = 10000


def register(app: FastAPI, state: SimState) -> None:
    """Mount the Kingdee WebAPI paths on `app`."""

    @app.post(LOGIN_PATH)
    async def validate_user(request: Request) -> Response:
        played = state.take_fault(SYSTEM, request, "login")
        if played:
            return fault_answer(played)
        body = await json_of(request) or {}
        creds = state.credentials[SYSTEM]
        if (body.get("acctID"), body.get("username"), body.get("password")) != (
            creds["acct"],
            creds["user"],
            creds["password"],
        ):
            return answer({"LoginResultType": 0, "Message": "用户名或密码错误"})
        session = secrets.token_hex(16)
        state.sessions.add(session)
        response = answer({"LoginResultType": 1, "KDSVCSessionId": session})
        response.set_cookie(SESSION_COOKIE, session)
        return response

    @app.post(QUERY_PATH)
    async def execute_bill_query(request: Request) -> Response:
        data = (await json_of(request) or {}).get("data") or {}
        form = data.get("FormId")
        played = state.take_fault(SYSTEM, request, CALL_OF_FORM.get(form))
        if played:
            return fault_answer(played)
        if request.cookies.get(SESSION_COOKIE) not in state.sessions:
            return status_error(1, "会话信息已丢失，请重新登录")
        start, limit = int(data.get("StartRow", 0)), int(data.get("Limit", 2000))
        if limit > MAX_LIMIT or limit < 1 or start < 0:
            return status_error(0, "Limit must be 1..10000")
        if form == "STK_Inventory":
            rows = [[r["sku"], r["warehouse"], r["on_hand"]] for r in state.on_hand()]
        elif form == "BD_MATERIAL":
            rows = [[s["sku"], s["title"], s["price"]] for s in state.scenario["skus"]]
            if "FIsSNManage" in str(data.get("FieldKeys") or ""):  # serial-managed material
                rows = [[s["sku"], bool(s.get("serial_tracked"))] for s in state.scenario["skus"]]
        elif form == RETURNS:
            rows = return_rows(state, data)
        elif form == OUTBOUND:
            try:
                rows = outbound_rows(state, data)
            except FilterError as exc:
                return status_error(0, str(exc))
        else:
            return status_error(0, f"业务对象{form}不存在")
        return answer(rows[start : start + limit])


OUTBOUND = "SAL_OUTSTOCK"
RETURNS = "SAL_RETURNSTOCK"
CALL_OF_FORM = {
    "STK_Inventory": "inventory",
    "BD_MATERIAL": "catalogue",
    OUTBOUND: "outbound",
    RETURNS: "returns",
}
#: SAL_RETURNSTOCK columns the simulated ERP answers (PLATFORMS.md, "Kingdee
#: SAL_RETURNSTOCK"); ``F_ORDERHUB_ASID`` stands for the tenant's custom field holding the
#: platform's after-sales id, which the shop adds (a real K3 needs one: "Platform ids need a
#: custom F_… field")
RETURN_KEYS = (
    "FBillNo",
    "FDocumentStatus",
    "FApproveDate",
    "FRetcustId.FNumber",
    "FMaterialId.FNumber",
    "FRealQty",
    "FStockId.FNumber",
    "FStockstatusId.FNumber",
    "FReturnType",
    "FSrcBillNo",
    "F_ORDERHUB_ASID",
    "FSerialNo",
)


def return_rows(state: SimState, data: dict) -> list[list]:
    """SAL_RETURNSTOCK rows (the scenario's ``return_bills``, all approved) with the columns
    `FieldKeys` asks for; unknown keys are answered empty."""
    keys = [k.strip() for k in str(data.get("FieldKeys") or "").split(",") if k.strip()]
    rows = []
    for bill in state.scenario.get("return_bills") or []:
        for line in bill["lines"]:
            entry = {
                "FBillNo": bill["bill_no"],
                "FDocumentStatus": "C",
                "FApproveDate": bill["approved_at"],
                "FRetcustId.FNumber": bill["channel"],
                "FMaterialId.FNumber": line["sku"],
                "FRealQty": float(line["qty"]),
                "FStockId.FNumber": bill["warehouse"],
                "FStockstatusId.FNumber": line.get("stock_status", "KCZT01_SYS"),
                "FReturnType": "THLX01_SYS",
                "FSrcBillNo": bill["order_ref"],
                "F_ORDERHUB_ASID": bill["aftersale_ref"],
                "FSerialNo": ",".join(line.get("serials") or []),
            }
            rows.append([entry.get(k, "") for k in keys])
    return rows


def outbound_rows(state: SimState, data: dict) -> list[list]:
    """SAL_OUTSTOCK rows with the columns `FieldKeys` asks for."""
    keys = [k.strip() for k in str(data.get("FieldKeys") or "").split(",") if k.strip()]
    where = str(data.get("FilterString") or "")
    return state.outbound.rows(keys, where, state.clock(), state.scenario.get("serials"))


def status_error(msg_code: int, message: str) -> Response:
    status = {
        "ErrorCode": 500,
        "IsSuccess": False,
        "MsgCode": msg_code,
        "Errors": [{"FieldName": None, "Message": message, "DIndex": 0}],
    }
    return answer([[{"Result": {"ResponseStatus": status}}]])
