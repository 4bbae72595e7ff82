"""ZTO Express (中通) open platform: `zto.open.createOrder` and `zto.open.getOrderInfo`.

Each API is a path of the gateway (``https://japi.zto.com/zto.open.createOrder``; test
environment ``https://japi-test.zto.com``), a JSON body POSTed with two headers: ``x-appKey``
and ``x-dataDigest = base64(md5(body + appSecret))`` over the exact bytes sent. Answers are
``{status, statusCode, message, result}``; a gateway refusal has `status` false and an
``S…`` code (S206/S221 rate limits, S211 bad signature, S200/S202/S203 backend trouble).

The idempotency key is the `partnerOrderCode` (the merchant's order code). What ZTO does
with a repeated one is not in its public document, so the connector never sends a create
without having asked `getOrderInfo` by that code first: before the first try, and before
every retry after a timeout or a 5xx; when it cannot ask, it stops with the error instead
of creating blind. A duplicate refusal is answered by the same search. See
docs/carriers.md for what is certain and what is not.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from connectors.http import Response, client_from_config, json_body, require
from engine.errors import RateLimited, Rejected, Unavailable

SYSTEM = "zto"
CODE = "ZTO"
CREATE_PATH = "/zto.open.createOrder"
SEARCH_PATH = "/zto.open.getOrderInfo"
RATE_CODES = {"S206", "S221"}  # api qos limit (per minute/hour), api qps flow limit
DOWN_CODES = {"S200", "S202", "S203"}  # backend timeout, backend exception, unavailable
SIGNATURE = "S211"
#: a repeated partnerOrderCode, when ZTO refuses it (the code is the simulator's choice;
#: ZTO's own is not public)
DUPLICATE = "E1021"
ALL_NETWORK = 1  # getOrderInfo type: 0 预约件 (pickup booked), 1 全网件 (e-waybill)


class ZtoConnector:
    """Creates ZTO e-waybills, once per partner order code, and looks them up by it."""

    code = CODE

    def __init__(self, config: dict[str, Any]) -> None:
        self._app_key = require(SYSTEM, config, "app_key")
        self._secret = require(SYSTEM, config, "app_secret")
        self._account = {
            "accountId": require(SYSTEM, config, "account_id"),
            "accountPassword": str(config.get("account_password", "")),
            "type": 1,
        }
        self._http = client_from_config(SYSTEM, config)

    async def create_order(self, key: str, order: dict, sender: dict) -> str:
        """The bill code (waybill number) for `order`, creating the ZTO order once per `key`.

        Asks by the key first (one call more per waybill: ZTO may not refuse a repeated
        key); a timeout or outage is followed by a search by the key before the retry, and
        a duplicate refusal is answered by the search.
        """
        if not key or len(key) > 64:
            raise Rejected(SYSTEM, "order key must be 1..64 characters")
        made = await self.search_order(key)
        if made is not None:
            return made
        body = build_order(key, order, sender, self._account)
        waybill = await self._call(
            CREATE_PATH, body, _parse_create, reconcile=lambda: self.search_order(key)
        )
        if waybill is None:  # refused as a repeat: the order exists; ask for its bill code
            waybill = await self.search_order(key)
            if waybill is None:
                raise Rejected(SYSTEM, "duplicated order but no waybill found", code=DUPLICATE)
        return waybill

    async def search_order(self, key: str) -> str | None:
        """The bill code of the ZTO order created under `key`, or None."""
        query = {"type": ALL_NETWORK, "partnerOrderCode": key}
        return await self._call(SEARCH_PATH, query, _parse_search)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, path: str, payload: dict, parse: Any, reconcile: Any = None) -> Any:
        """POST `payload` signed; a create (with `reconcile`) is never retried unasked."""
        body = orjson.dumps(payload)
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "x-appKey": self._app_key,
            "x-dataDigest": digest(body, self._secret),
        }
        return await self._http.call(
            "POST", path, content=body, headers=headers, parse=parse, retry=True,
            reconcile=reconcile, retry_unreconciled=False,
        )  # fmt: skip


def digest(body: bytes | str, app_secret: str) -> str:
    """ZTO's x-dataDigest: base64(md5(body + appSecret)), UTF-8."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return base64.b64encode(hashlib.md5(raw + app_secret.encode("utf-8")).digest()).decode()


def build_order(key: str, order: dict, sender: dict, account: dict) -> dict:
    """`zto.open.createOrder` body for a canonical order and a sender address.

    `remark` carries the order ref ``channel:order_id`` (printed on the label)."""
    receiver = order.get("receiver", {})
    items = order.get("items", [])
    return {
        "partnerType": "2",
        "orderType": "1",
        "partnerOrderCode": key,
        "accountInfo": account,
        "senderInfo": {
            "senderName": sender.get("name", ""),
            "senderMobile": sender.get("phone", ""),
            "senderProvince": sender.get("province", ""),
            "senderCity": sender.get("city", ""),
            "senderDistrict": sender.get("district", ""),
            "senderAddress": sender.get("address", ""),
        },
        "receiveInfo": {
            "receiverName": receiver.get("name", ""),
            "receiverMobile": receiver.get("phone", ""),
            "receiverProvince": receiver.get("province", ""),
            "receiverCity": receiver.get("city", ""),
            "receiverDistrict": receiver.get("district", ""),
            "receiverAddress": receiver.get("address", ""),
        },
        "orderItems": [
            {"name": item.get("title") or item.get("sku", ""), "quantity": item.get("qty", 0)}
            for item in items
        ],
        "summaryInfo": {"quantity": sum(int(item.get("qty", 0)) for item in items)},
        "remark": order_ref(order),
    }


def order_ref(order: dict) -> str:
    """``channel:order_id`` of a canonical order ('' when it has neither)."""
    if not order.get("order_id"):
        return ""
    return f"{order.get('channel', '')}:{order['order_id']}"


def _parse_create(response: Response) -> str | None:
    result = _result(response)
    if result is _DUPLICATE:
        return None
    bill = (result or {}).get("billCode") if isinstance(result, dict) else None
    if not bill:
        raise Unavailable(SYSTEM, "created without a bill code; ask again by the key")
    return str(bill)


def _parse_search(response: Response) -> str | None:
    result = _result(response)
    for info in result if isinstance(result, list) else []:
        if isinstance(info, dict) and info.get("billCode"):
            return str(info["billCode"])
    return None


_DUPLICATE = object()


def _result(response: Response) -> Any:
    body = json_body(SYSTEM, response)
    if not isinstance(body, dict):
        raise Unavailable(SYSTEM, "answer is not a ZTO result; the gateway may be failing")
    if body.get("status") is True:
        return body.get("result")
    code = str(body.get("statusCode", ""))
    text = f"code {code}: {body.get('message', '')}"
    if code in RATE_CODES:
        raise RateLimited(SYSTEM, f"{text}; slow down", code=code)
    if code in DOWN_CODES:
        raise Unavailable(SYSTEM, f"{text}; retry later", code=code)
    if code == DUPLICATE:
        return _DUPLICATE
    if code == SIGNATURE:
        raise Rejected(SYSTEM, f"{text}; check app_key and app_secret", code=code)
    raise Rejected(SYSTEM, f"{text}; fix the order data or the account", code=code)
