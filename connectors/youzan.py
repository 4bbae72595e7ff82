"""Youzan (有赞): incremental trade pull `youzan.trades.sold.get` and tracking upload.

Auth is the `access_token` query parameter. Money is yuan strings, times local
``yyyy-MM-dd HH:mm:ss`` strings (+08:00). Gateway errors come as
``{"gw_err_resp": {"err_code", "err_msg"}}`` (4201 token missing, 4203 token unknown,
4001 version missing, 4005 unknown API); business errors as ``{"success": false, "code"}``.

Receiver name, phone and address come as ciphertexts ``$…$1$`` (province, city, district
plain). Each page's ciphertexts are opened with one `youzan.cloud.secret.decrypt.batch`
call (``{"sources": […]}`` in, ``data`` mapping ciphertext -> plain text out); the raw
record kept beside the canonical order stays as received. Plain values pass as they are.

The tracking upload `youzan.logistics.online.confirm` may not be idempotent (a second
confirm of a shipped order is refused with business code 102570007), so it is checked
before it is tried again: after a timeout or a 5xx the HTTP layer first asks
`youzan.trade.get` (`tracking_of`) whether the order already holds the waybill, and a
refusal as already shipped counts as done when it does. trade.get's document says its
answer may lag an update by ~30 s: a refusal while it still shows no number is raised as
`Unavailable` (retry later), not as `Rejected`.

Pushes (有赞云 message push): a JSON body ``{client_id, id (the tid), kdt_id, type
("trade_TradePaid" …), status, msg (URL-encoded JSON: the trade, ``full_order_info`` as in
trades.sold.get), msg_id, version, sendCount, sign, test}`` with the headers ``Event-Sign:
md5(client_id + body + client_secret)``, ``Event-Type`` and ``Client-Id`` (shapes from
TsangJx/YouZanYunSDK Msg/* and handlers that check Event-Sign). The answer Youzan waits for
is ``{"code": 0, "msg": "success"}``; without it the message is sent again (`sendCount`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_plus

from connectors.http import Response, client_from_config, json_body, pages_backwards, require
from connectors.pushes import Pushed, PushRefused, header, need, same
from connectors.records import MALFORMED, NotDecrypted, decrypted_page
from engine.errors import RateLimited, Rejected, Unavailable

SYSTEM = "youzan"
CST = timezone(timedelta(hours=8))
PAGE_SIZE = 100
PULL_API = "/api/youzan.trades.sold.get/4.0.2"
CONFIRM_API = "/api/youzan.logistics.online.confirm/3.0.0"
TRADE_GET_API = "/api/youzan.trade.get/4.0.0"
DECRYPT_API = "/api/youzan.cloud.secret.decrypt.batch/1.0.0"
DECRYPT_LIMIT = 10_000  # sources per call; a page holds at most 3 x PAGE_SIZE
SECRET_FIELDS = ("receiver_name", "receiver_tel", "delivery_address")

STATUS_TO_CANONICAL = {
    "WAIT_BUYER_PAY": "unpaid",
    "WAIT_SELLER_SEND_GOODS": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_SUCCESS": "shipped",
    "TRADE_CLOSED": "cancelled",
}
CANONICAL_TO_STATUS = {
    "unpaid": "WAIT_BUYER_PAY",
    "paid": "WAIT_SELLER_SEND_GOODS",
    "shipped": "WAIT_BUYER_CONFIRM_GOODS",
    "cancelled": "TRADE_CLOSED",
}
RATE_LIMIT_CODES = {429, 4204}
#: confirm refused: "不能重复提交已发过货的商品" (goods already shipped), as a copy of Youzan's
#: confirm error list gives it; not checked against the live API
ALREADY_SHIPPED = 102570007
ACK = {"code": 0, "msg": "success"}
PAID_EVENTS = ("trade_TradePaid", "trade_TradeBuyerPay")


class YouzanConnector:
    """Pulls Youzan trades by update time and confirms shipments."""

    channel = SYSTEM
    #: `tracking_of` reads the order's number (a repeated confirm is refused, not ignored):
    #: asked before an upload is tried again
    can_tell_tracking = True

    def __init__(self, config: dict[str, Any]) -> None:
        self._token = require(SYSTEM, config, "access_token")
        self._http = client_from_config(SYSTEM, config)

    async def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        """Orders updated in [start, end), one list of (canonical, raw) per page."""
        seen: set[str] = set()
        lo, hi = start.timestamp(), end.timestamp()

        async def fetch(page_no: int) -> tuple[list[dict], int]:
            body = {
                "start_update": to_local(start),
                "end_update": to_local(end),
                "page_no": page_no,
                "page_size": PAGE_SIZE,
            }
            return await self._http.call(
                "POST", PULL_API, params=self._auth(), json=body, parse=_parse_page, retry=True
            )

        async for page in pages_backwards(fetch, PAGE_SIZE, first=1):
            fresh = _fresh(page, seen, lo, hi)
            if fresh:
                yield await decrypted_page(fresh, self._decrypt, to_canonical, SYSTEM, _order_id)

    async def upload_tracking(
        self, order_id: str, carrier: str, waybill_no: str, lines: list[str] | None = None
    ) -> None:
        """`youzan.logistics.online.confirm`, retried only after asking Youzan whether the
        order already holds `waybill_no`; a refusal as already shipped is success when it
        does, and `Rejected` naming the other waybill when it holds another."""
        body: dict[str, Any] = {"tid": order_id, "out_stype": carrier, "out_sid": waybill_no}
        if lines:
            body["oids"] = ",".join(lines)

        async def landed() -> dict | None:
            return {"is_success": True} if await self.tracking_of(order_id) == waybill_no else None

        try:
            await self._http.call(
                "POST",
                CONFIRM_API,
                params=self._auth(),
                json=body,
                parse=_parse,
                retry=True,
                reconcile=landed,
            )
        except Rejected as err:
            if err.code != str(ALREADY_SHIPPED):
                raise
            await self._check_shipped_with(order_id, waybill_no)

    async def tracking_of(self, order_id: str) -> str | None:
        """The tracking number Youzan holds for the order (`youzan.trade.get`: the last
        shipped package's `express_info.express_no`), or None when it is not shipped."""
        trade = await self._http.call(
            "POST",
            TRADE_GET_API,
            params=self._auth(),
            json={"tid": order_id},
            parse=_parse,
            retry=True,
        )
        numbers = tracking_numbers(trade)
        return numbers[-1] if numbers else None

    async def pushed_order(self, record: dict) -> tuple[dict, dict]:
        """A pushed trade (``{"full_order_info": …}``) as (canonical, raw), decrypted."""
        ((canonical, raw),) = await decrypted_page(
            [record], self._decrypt, to_canonical, SYSTEM, _order_id
        )
        return canonical, raw

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _decrypt(self, raws: list[dict]) -> dict[str, str]:
        """Ciphertext -> plain text for the receivers of `raws`, in one batch call."""
        sources = sorted({v for raw in raws for v in _secrets(raw) if is_cipher(v)})
        if not sources:
            return {}
        data = await self._http.call(
            "POST",
            DECRYPT_API,
            params=self._auth(),
            json={"sources": sources},
            parse=_parse,
            retry=True,
        )
        # a source left out makes its order unreadable (`reveal`); the page goes on
        return {s: data[s] for s in sources if isinstance(data.get(s), str)}

    async def _check_shipped_with(self, order_id: str, waybill_no: str) -> None:
        """After a refusal as already shipped: return when Youzan holds `waybill_no`."""
        held = await self.tracking_of(order_id)
        if held == waybill_no:
            return
        code = str(ALREADY_SHIPPED)
        if held is None:
            raise Unavailable(
                SYSTEM,
                "confirm refused as already shipped, but the order shows no tracking number "
                "yet (trade.get may lag ~30 s); retry later",
                code=code,
            )
        raise Rejected(
            SYSTEM,
            f"order {order_id} is already shipped with waybill {held}, not {waybill_no}; "
            "check the order in the Youzan back office",
            code=code,
        )

    def _auth(self) -> dict[str, str]:
        return {"access_token": self._token}


def to_canonical(raw: dict, plain: Mapping[str, str] | None = None) -> dict:
    """A Youzan `full_order_info_list` entry as a canonical order; `plain` maps the
    receiver ciphertexts it holds to their plain text."""
    info = raw["full_order_info"]
    order, addr = info["order_info"], info["address_info"]
    plain = plain or {}
    return {
        "channel": SYSTEM,
        "order_id": order["tid"],
        "created_at": from_local(order["created"]),
        "paid_at": from_local(order["pay_time"]) if order.get("pay_time") else None,
        "updated_at": from_local(order["update_time"]),
        "status": STATUS_TO_CANONICAL.get(order["status"], order["status"]),
        "buyer": {"nick": info["buyer_info"]["fans_nickname"]},
        "receiver": {
            "name": reveal(addr["receiver_name"], plain),
            "phone": reveal(addr["receiver_tel"], plain),
            "province": addr["delivery_province"],
            "city": addr["delivery_city"],
            "district": addr["delivery_district"],
            "address": reveal(addr["delivery_address"], plain),
        },
        "items": [
            {
                "sku": line["outer_sku_id"],
                "title": line["title"],
                "qty": line["num"],
                "price": line["price"],
            }
            for line in info["orders"]
        ],  # fmt: skip
        "amount": info["pay_info"]["payment"],
    }


def push_signature(client_id: str, client_secret: str, body: bytes) -> str:
    """``Event-Sign``: md5(client_id + body + client_secret), hex."""
    return hashlib.md5(client_id.encode() + body + client_secret.encode()).hexdigest()


def read_push(
    body: bytes, headers: Mapping[str, str], config: Mapping[str, Any], now: float
) -> list[Pushed]:
    """A Youzan message push (see the module docstring)."""
    client_id, secret = need(config, SYSTEM, "client_id", "client_secret")
    given = header(headers, "Event-Sign")
    if not given or not same(push_signature(client_id, secret, body), given):
        raise PushRefused(401, "Event-Sign does not match the body")
    try:
        message = json.loads(body)
        event = str(message.get("type") or header(headers, "Event-Type"))
        tid = str(message["id"])
        trade = json.loads(unquote_plus(message["msg"])) if message.get("msg") else {}
        push_id = str(message.get("msg_id") or f"{event}:{tid}:{message.get('version', '')}")
    except (*MALFORMED, json.JSONDecodeError) as exc:
        raise PushRefused(400, f"malformed push: {type(exc).__name__}: {exc}") from None
    paid = event in PAID_EVENTS and "full_order_info" in trade
    return [Pushed(push_id, tid, event, paid, trade if paid else {})]


def tracking_numbers(trade: Mapping[str, Any]) -> list[str]:
    """The tracking numbers of the shipped packages in a `youzan.trade.get` answer
    (``delivery_order[].dists[].express_info.express_no`` where ``express_state`` is 1)."""
    return [
        str(dist["express_info"]["express_no"])
        for delivery in trade.get("delivery_order") or []
        if delivery.get("express_state") == 1
        for dist in delivery.get("dists") or []
        if (dist.get("express_info") or {}).get("express_no")
    ]


def is_cipher(value: object) -> bool:
    """Whether a field value is a Youzan ciphertext (``$…$1$``)."""
    return isinstance(value, str) and len(value) > 4 and value[0] == "$" and value.endswith("$1$")


def reveal(value: str, plain: Mapping[str, str]) -> str:
    """A receiver field as plain text: itself, or the decrypted text of its ciphertext."""
    if not is_cipher(value):
        return value
    try:
        return plain[value]
    except KeyError:
        raise NotDecrypted(SYSTEM) from None


def to_local(moment: datetime | str) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in +08:00, Youzan's time format."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def from_local(value: str) -> str:
    """ISO 8601 (+08:00) of a Youzan local time string."""
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).isoformat()


def _fresh(page: list[dict], seen: set[str], lo: float, hi: float) -> list[dict]:
    """The records of `page` not seen yet and updated in [lo, hi); marks them seen."""
    fresh = []
    for raw in page:
        try:
            order = raw["full_order_info"]["order_info"]
            tid, ts = order["tid"], datetime.fromisoformat(from_local(order["update_time"]))
        except MALFORMED:
            fresh.append(raw)  # unreadable: ingest keeps it for the exceptions queue
            continue
        if tid not in seen and lo <= ts.timestamp() < hi:
            seen.add(tid)
            fresh.append(raw)
    return fresh


def _order_id(raw: dict) -> str:
    return raw["full_order_info"]["order_info"]["tid"]


def _secrets(raw: dict) -> list[str]:
    addr = (raw.get("full_order_info") or {}).get("address_info") or {}
    return [addr[field] for field in SECRET_FIELDS if isinstance(addr.get(field), str)]


def _parse_page(response: Response) -> tuple[list[dict], int]:
    data = _parse(response)
    return data.get("full_order_info_list", []), int(data.get("total_results", 0))


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    gw = body.get("gw_err_resp")
    if gw:
        code = int(gw.get("err_code", 0))
        msg = str(gw.get("err_msg", ""))
        if code in RATE_LIMIT_CODES:
            raise RateLimited(SYSTEM, f"gateway rate limit: {msg}", code=str(code))
        if code >= 5000:
            raise Unavailable(SYSTEM, f"gateway error: {msg}", code=str(code))
        hint = "; refresh the access token" if code in (4201, 4202, 4203) else ""
        raise Rejected(SYSTEM, f"gateway refused: {msg}{hint}", code=str(code))
    if not body.get("success", False):
        raise Rejected(SYSTEM, f"refused: {body.get('message', '')}", code=str(body.get("code")))
    return body.get("data") or {}
