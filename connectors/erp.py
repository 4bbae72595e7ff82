"""Kingdee K3 Cloud WebAPI: login, then `ExecuteBillQuery` for inventory and materials.

``POST …AuthService.ValidateUser.common.kdsvc`` with acct/user/password gives a session
(cookie ``kdservice-sessionid``); ``POST …DynamicFormService.ExecuteBillQuery.common.kdsvc``
with ``{"data": {FormId, FieldKeys, FilterString, StartRow, Limit}}`` answers a list of
rows (lists), or ``[[{"Result": {"ResponseStatus": {"IsSuccess": false, …}}}]]`` on error.
"""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.http import Response, client_from_config, json_body, require
from engine.errors import Rejected

SYSTEM = "erp"
LOGIN_PATH = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
QUERY_PATH = (
    "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
)
SESSION_COOKIE = "kdservice-sessionid"
PAGE_ROWS = 2000
INVENTORY_FIELDS = "FMaterialId.FNumber,FStockId.FNumber,FBaseQty"
MATERIAL_FIELDS = "FNumber,FName,F_Price"


class ErpConnector:
    """Reads on-hand stock and the material catalogue from the ERP."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._acct = require(SYSTEM, config, "acct")
        self._user = require(SYSTEM, config, "user")
        self._password = require(SYSTEM, config, "password")
        self._http = client_from_config(SYSTEM, config)
        self._session: str | None = None
        self._lock = asyncio.Lock()

    async def inventory(self) -> list[dict]:
        """Every [{"sku", "warehouse", "on_hand"}] row of STK_Inventory."""
        rows = await self._query("STK_Inventory", INVENTORY_FIELDS)
        return [{"sku": r[0], "warehouse": r[1], "on_hand": int(r[2])} for r in rows]

    async def materials(self) -> list[dict]:
        """The catalogue [{"sku", "title", "price"}] from BD_MATERIAL."""
        rows = await self._query("BD_MATERIAL", MATERIAL_FIELDS)
        return [{"sku": r[0], "title": r[1], "price": str(r[2])} for r in rows]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _query(self, form_id: str, fields: str) -> list[list]:
        rows: list[list] = []
        start = 0
        while True:
            page = await self._page(form_id, fields, start)
            rows.extend(page)
            if len(page) < PAGE_ROWS:
                return rows
            start += PAGE_ROWS

    async def _page(self, form_id: str, fields: str, start: int) -> list[list]:
        data = {
            "FormId": form_id,
            "FieldKeys": fields,
            "FilterString": "",
            "OrderString": "",
            "StartRow": start,
            "Limit": PAGE_ROWS,
        }
        for attempt in range(2):
            session = await self._login()
            try:
                return await self._http.call(
                    "POST",
                    QUERY_PATH,
                    json={"data": data},
                    headers={"Cookie": f"{SESSION_COOKIE}={session}"},
                    parse=_parse_rows,
                    retry=True,
                )
            except _SessionLost:
                self._session = None
                if attempt:
                    raise Rejected(SYSTEM, "session refused twice; check acct/user") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _login(self) -> str:
        async with self._lock:
            if self._session is None:
                body = {
                    "acctID": self._acct,
                    "username": self._user,
                    "password": self._password,
                    "lcid": 2052,
                }
                self._session = await self._http.call(
                    "POST", LOGIN_PATH, json=body, parse=_parse_login, retry=True
                )
            return self._session


class _SessionLost(Rejected):
    def __init__(self) -> None:
        super().__init__(SYSTEM, "session lost; log in again")


def _parse_login(response: Response) -> str:
    body = json_body(SYSTEM, response)
    if body.get("LoginResultType") != 1 or not body.get("KDSVCSessionId"):
        raise Rejected(SYSTEM, "login refused; check acct, user and password in the settings")
    return str(body["KDSVCSessionId"])


def _parse_rows(response: Response) -> list[list]:
    body = json_body(SYSTEM, response)
    if body and isinstance(body[0], list) and body[0] and isinstance(body[0][0], dict):
        status = body[0][0].get("Result", {}).get("ResponseStatus", {})
        code = status.get("MsgCode")
        messages = "; ".join(e.get("Message", "") for e in status.get("Errors", []))
        if code == 1:
            raise _SessionLost()
        raise Rejected(SYSTEM, f"query refused: {messages}")
    return body
