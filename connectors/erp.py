"""Kingdee K3 Cloud WebAPI: login, then `ExecuteBillQuery` for inventory, materials and
sales outbound bills.

``POST …AuthService.ValidateUser.common.kdsvc`` with acct/user/password gives a session
(cookie ``kdservice-sessionid``); ``POST …DynamicFormService.ExecuteBillQuery.common.kdsvc``
with ``{"data": {FormId, FieldKeys, FilterString, OrderString, StartRow, Limit}}`` answers a
list of rows (lists), or ``[[{"Result": {"ResponseStatus": {"IsSuccess": false, …}}}]]`` on
error. K3 Cloud keeps dates as the server's local time without an offset: China, +08:00.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
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
#: SAL_OUTSTOCK (销售出库单): bill number, then per entry row the sales order number, the
#: source bill number, material, stock, quantity in the base unit; the bill's approve date.
OUTBOUND_FIELDS = (
    "FBillNo,FSoorDerno,FSrcBillNo,FMaterialID.FNumber,FStockID.FNumber,FBaseUnitQty,FApproveDate"
)
#: approved bills only (FDocumentStatus C = 已审核): K3 moves the stock when a bill is approved
OUTBOUND_APPROVED = "FDocumentStatus = 'C'"
OUTBOUND_ORDER = "FApproveDate ASC,FBillNo ASC"
ERP_TZ = timezone(timedelta(hours=8))


class ErpConnector:
    """Reads on-hand stock, the material catalogue and sales outbound bills from the ERP."""

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

    async def outbound(self, since: datetime | None) -> list[dict]:
        """Entry rows of the approved sales outbound bills (SAL_OUTSTOCK) approved at or after
        `since` (every approved bill when None), oldest first.

        Each row: ``{"bill_no", "order_ref", "sku", "warehouse", "qty", "approved_at"}``.
        Field keys (from Kingdee's SAL_OUTSTOCK field list as published in public K3 Cloud
        integrations — e.g. the chan-kinghin/Quickpulsev2 docs ``docs/fields/
        SAL_OUTSTOCK_FIELDS.md`` and a K3CloudApi Java example querying SAL_OUTSTOCK by
        ``FModifyDate``): ``FBillNo`` (单据编号), on the entry ``FSoorDerno`` (销售订单号),
        ``FSrcBillNo`` (源单编号), ``FMaterialID.FNumber`` (物料编码, our SKU),
        ``FStockID.FNumber`` (仓库编码, our warehouse code), ``FBaseUnitQty`` (基本单位数量,
        the unit STK_Inventory's ``FBaseQty`` counts in); on the header ``FApproveDate``
        (审核日期, when the stock left) filtered with ``FDocumentStatus = 'C'`` (已审核).

        `order_ref` is the sales order number the bill carries: orderhub's order ref
        ``channel:order_id`` (e.g. ``youzan:E2026…``), the number the shop's sales orders
        are keyed into the ERP with, so that an outbound bill pushed down from it carries
        it in ``FSoorDerno``; ``FSrcBillNo`` is the fallback for bills keyed by hand with
        the order ref as their source number. A ref orderhub does not know is left to the
        caller to ignore.
        """
        where = OUTBOUND_APPROVED
        if since is not None:
            where += f" and FApproveDate >= '{erp_time(since)}'"
        rows = await self._query("SAL_OUTSTOCK", OUTBOUND_FIELDS, where, OUTBOUND_ORDER)
        return [
            {
                "bill_no": str(r[0]),
                "order_ref": str(r[1] or r[2] or ""),
                "sku": str(r[3]),
                "warehouse": str(r[4]),
                "qty": round(float(r[5])),
                "approved_at": parse_erp_time(str(r[6])),
            }
            for r in rows
        ]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _query(
        self, form_id: str, fields: str, where: str = "", order: str = ""
    ) -> list[list]:
        rows: list[list] = []
        start = 0
        while True:
            page = await self._page(form_id, fields, start, where, order)
            rows.extend(page)
            if len(page) < PAGE_ROWS:
                return rows
            start += PAGE_ROWS

    async def _page(
        self, form_id: str, fields: str, start: int, where: str, order: str
    ) -> list[list]:
        data = {
            "FormId": form_id,
            "FieldKeys": fields,
            "FilterString": where,
            "OrderString": order,
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


def erp_time(moment: datetime) -> str:
    """`moment` (naive means UTC, as the store keeps times) as K3's local date-time text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ERP_TZ).strftime("%Y-%m-%d %H:%M:%S")


def parse_erp_time(text: str) -> datetime:
    """A K3 date-time (``2024-12-19T08:27:48.863``, local, no offset) as an aware datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ERP_TZ)


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
