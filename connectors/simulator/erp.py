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
        elif form == OUTBOUND:
            try:
                rows = outbound_rows(state, data)
            except FilterError as exc:
                return status_error(0, str(exc))
        else:
            return status_error(0, f"业务对象{form}不存在")
        return answer(rows[start : start + limit])


OUTBOUND = "SAL_OUTSTOCK"
CALL_OF_FORM = {"STK_Inventory": "inventory", "BD_MATERIAL": "catalogue", OUTBOUND: "outbound"}


def outbound_rows(state: SimState, data: dict) -> list[list]:
    """SAL_OUTSTOCK rows with the columns `FieldKeys` asks for."""
    keys = [k.strip() for k in str(data.get("FieldKeys") or "").split(",") if k.strip()]
    return state.outbound.rows(keys, str(data.get("FilterString") or ""), state.clock())


def status_error(msg_code: int, message: str) -> Response:
    status = {
        "ErrorCode": 500,
        "IsSuccess": False,
        "MsgCode": msg_code,
        "Errors": [{"FieldName": None, "Message": message, "DIndex": 0}],
    }
    return answer([[{"Result": {"ResponseStatus": status}}]])
