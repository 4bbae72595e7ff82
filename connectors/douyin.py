"""Douyin (抖店): `order.searchList` pull, `order.logisticsAdd` tracking upload and
`order.orderDetail` for the tracking numbers an order holds.

Every call is a POST to ``/<group>/<action>`` with the signed query (`app_key`, `method`,
`timestamp`, `v=2`, `sign_method=hmac-sha256`, `access_token`, `sign`) and the JSON
`param_json` as the body. Money is fen integers, times epoch seconds, pages from 0 with
`size` <= 100. Answers are ``{code, msg, sub_code, sub_msg, log_id, data}``; code 10000 is
success, a ``isp.*`` sub_code is the platform's own failure, ``*frequency*`` a rate limit.

Receivers come encrypted (`encrypt_post_receiver`, `encrypt_post_tel`,
`post_addr.encrypt_detail`) or, in older answers, plain (`post_receiver`, `post_tel`,
`post_addr.detail`). A page's ciphertexts are opened with `order.batchDecrypt`
(``cipher_infos: [{auth_id: order id, cipher_text}]``, at most 50 a call, so one call per
50 distinct ciphertexts of the page); any entry with a non-zero `err_no` fails the page.
The raw record kept beside the canonical order stays as received.

The tracking upload is checked before it is tried again: `order.orderDetail`
``{shop_order_id}`` answers ``data.shop_order_detail.logistics_info[]`` (``tracking_no``,
``company``, ``company_name``, ``ship_time``, ``delivery_id``, ``product_info[]``: one entry
per parcel shipped, shape from zsmhub/doudian-sdk order_orderDetail), so after a timeout or a
5xx the upload first asks whether the order already holds the waybill (`tracking_of`), and
never sends it again without having asked. Whether Douyin refuses or ignores a repeated
logisticsAdd is not documented; orderhub does not rely on either.

Pushes (抖店消息推送): the body is a JSON array of ``{tag, msg_id, data}`` where `data` is a
JSON string; tag "101" is an order paid (``{p_id, s_ids, shop_id, order_status: 2,
pay_time, pay_amount, …}``: ids only, so the order is read with `order.orderDetail`
``{shop_order_id}`` → ``data.shop_order_detail``), tag "0" the check the platform sends when
the URL is set up. Headers ``app-id`` and ``event-sign: md5(app_key + body + app_secret)``
(or HMAC-SHA256(app_secret, the same text) when ``sign-method: hmac-sha256``; the second form
is from newer guides, not confirmed). Douyin waits for ``{"code": 0, "msg": "success"}`` and
pushes again without it. Shapes from bububa/jinritemai-go message/* and SKIT's
DouyinShop client (VerifyEventSignature).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from connectors.http import Response, client_from_config, json_body, pages_backwards, require
from connectors.pushes import Pushed, PushRefused, header, need, same
from connectors.records import MALFORMED, NotDecrypted, decrypted_page
from engine.errors import RateLimited, Rejected, Unavailable

log = logging.getLogger("orderhub.douyin")
SYSTEM = "douyin"
CST = timezone(timedelta(hours=8))
PAGE_SIZE = 100
SUCCESS = 10000
DECRYPT_LIMIT = 50  # cipher_infos per order.batchDecrypt call
ACK = {"code": 0, "msg": "success"}
PAID_TAG = "101"
CHECK_TAG = "0"

STATUS_TO_CANONICAL = {
    1: "unpaid",
    105: "paid",
    2: "paid",
    101: "paid",
    3: "shipped",
    5: "shipped",
    4: "cancelled",
}


class DouyinConnector:
    """Pulls Douyin shop orders by update time and adds logistics to them."""

    channel = SYSTEM
    #: `tracking_of` reads the numbers the order holds: asked before an upload is tried again
    can_tell_tracking = True

    def __init__(self, config: dict[str, Any]) -> None:
        self._app_key = require(SYSTEM, config, "app_key")
        self._secret = require(SYSTEM, config, "app_secret")
        self._token = require(SYSTEM, config, "access_token")
        self._http = client_from_config(SYSTEM, config)

    async def pull(self, start: datetime, end: datetime) -> AsyncIterator[list[tuple[dict, dict]]]:
        """Orders updated in [start, end), one list of (canonical, raw) per page."""
        seen: set[str] = set()
        lo, hi = int(start.timestamp()), int(end.timestamp())

        async def fetch(page: int) -> tuple[list[dict], int]:
            params = {
                "update_time_start": lo,
                "update_time_end": hi,
                "page": page,
                "size": PAGE_SIZE,
                "order_by": "update_time",
                "order_asc": True,
            }
            data = await self._request("order.searchList", params, retry=True)
            return data.get("shop_order_list", []), int(data.get("total", 0))

        async for page in pages_backwards(fetch, PAGE_SIZE, first=0):
            fresh = _fresh(page, seen, lo, hi)
            if fresh:
                yield await decrypted_page(fresh, self._decrypt, to_canonical, SYSTEM, _order_id)

    async def upload_tracking(
        self, order_id: str, carrier: str, waybill_no: str, lines: list[str] | None = None
    ) -> None:
        """`order.logisticsAdd`, tried again only after `tracking_of` shows the order does
        not hold `waybill_no` yet (a failed ask ends the call with its error)."""
        params: dict[str, Any] = {
            "order_id": order_id,
            "company_code": carrier,
            "logistics_code": waybill_no,
            "is_refund_reject": False,
        }
        if lines:
            params["serial_number_list"] = list(lines)

        async def landed() -> dict | None:
            return {} if await self.tracking_of(order_id) == waybill_no else None

        await self._request(
            "order.logisticsAdd", params, retry=True, reconcile=landed, retry_unreconciled=False
        )

    async def tracking_of(self, order_id: str) -> str | None:
        """The tracking number Douyin holds for the order (`order.orderDetail`: the last
        parcel's `logistics_info[].tracking_no`), or None when nothing is shipped yet;
        `Rejected` for an order the shop does not have."""
        data = await self._request("order.orderDetail", {"shop_order_id": order_id}, retry=True)
        numbers = tracking_numbers(data.get("shop_order_detail") or {})
        return numbers[-1] if numbers else None

    async def pushed_order(self, record: dict) -> tuple[dict, dict]:
        """The order a push names (``{"p_id"}``), read with `order.orderDetail`, decrypted."""
        params = {"shop_order_id": str(record["p_id"])}
        data = await self._request("order.orderDetail", params, retry=True)
        raw = data["shop_order_detail"]
        ((canonical, raw),) = await decrypted_page(
            [raw], self._decrypt, to_canonical, SYSTEM, _order_id
        )
        return canonical, raw

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _decrypt(self, raws: list[dict]) -> dict[str, str]:
        """Ciphertext -> plain text for the receivers of `raws`: the page's distinct
        ciphertexts in batches of `DECRYPT_LIMIT`, sent together."""
        infos = _cipher_infos(raws)
        batches = [infos[i : i + DECRYPT_LIMIT] for i in range(0, len(infos), DECRYPT_LIMIT)]
        answers = await asyncio.gather(
            *(
                self._request("order.batchDecrypt", {"cipher_infos": b}, retry=True)
                for b in batches
            ),
            return_exceptions=True,
        )
        plain: dict[str, str] = {}
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
            plain.update(_decrypted(answer))
        return plain  # a ciphertext left out makes its order unreadable (`reveal`)

    async def _request(
        self, method: str, params: dict[str, Any], *, retry: bool, **options: Any
    ) -> dict:
        """One signed call; `options` go to `HttpClient.call` (`reconcile`, …)."""
        keys = (self._app_key, self._secret, self._token)
        return await signed_call(
            self._http, keys, method, params, parse=_parse, retry=retry, **options
        )


def sign(secret: str, app_key: str, method: str, param_json: str, timestamp: str) -> str:
    """HMAC-SHA256 hex of secret+"app_key"…+"v2"+secret, keyed by the app secret."""
    text = f"{secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v2"
    return hmac.new(secret.encode(), (text + secret).encode(), hashlib.sha256).hexdigest()


def push_signature(app_key: str, app_secret: str, body: bytes, method: str = "md5") -> str:
    """``event-sign`` of a push: md5, or HMAC-SHA256 keyed with the secret, of
    app_key + body + app_secret (hex)."""
    text = app_key.encode() + body + app_secret.encode()
    if method == "hmac-sha256":
        return hmac.new(app_secret.encode(), text, hashlib.sha256).hexdigest()
    return hashlib.md5(text).hexdigest()


def read_push(
    body: bytes, headers: Mapping[str, str], config: Mapping[str, Any], now: float
) -> list[Pushed]:
    """A Douyin message push (see the module docstring): one `Pushed` per message; the
    set-up check (tag 0) yields none."""
    app_key, secret = need(config, SYSTEM, "app_key", "app_secret")
    method = header(headers, "sign-method").lower() or "md5"
    given = header(headers, "event-sign")
    if header(headers, "app-id") not in ("", app_key) or not given:
        raise PushRefused(401, "app-id and event-sign must name this shop's app")
    if not same(push_signature(app_key, secret, body, method), given):
        raise PushRefused(401, "event-sign does not match the body")
    try:
        pushed = []
        for message in json.loads(body):
            tag = str(message["tag"])
            if tag == CHECK_TAG:
                continue
            data = json.loads(message["data"])
            order_id = str(data["p_id"])
            pushed.append(Pushed(str(message["msg_id"]), order_id, tag, tag == PAID_TAG, data))
    except (*MALFORMED, json.JSONDecodeError) as exc:
        raise PushRefused(400, f"malformed push: {type(exc).__name__}: {exc}") from None
    return pushed


def tracking_numbers(detail: Mapping[str, Any]) -> list[str]:
    """The tracking numbers of an `order.orderDetail` ``shop_order_detail``, one per parcel
    (``logistics_info[].tracking_no``), in the order Douyin lists them."""
    return [
        str(parcel["tracking_no"])
        for parcel in detail.get("logistics_info") or []
        if parcel.get("tracking_no")
    ]


def dumps(params: dict[str, Any]) -> str:
    """`param_json` as Douyin signs it: keys sorted, no spaces, UTF-8 kept."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_canonical(raw: dict, plain: Mapping[str, str] | None = None) -> dict:
    """A Douyin `shop_order_list` entry as a canonical order; `plain` maps the receiver
    ciphertexts it holds to their plain text."""
    addr = raw["post_addr"]
    plain = plain or {}
    return {
        "channel": SYSTEM,
        "order_id": str(raw["order_id"]),
        "created_at": from_epoch(raw["create_time"]),
        "paid_at": from_epoch(raw["pay_time"]) if raw.get("pay_time") else None,
        "updated_at": from_epoch(raw["update_time"]),
        "status": STATUS_TO_CANONICAL.get(raw["order_status"], str(raw["order_status"])),
        "buyer": {"nick": raw["user_nick_name"]},
        "receiver": {
            "name": reveal(raw, "post_receiver", plain),
            "phone": reveal(raw, "post_tel", plain),
            "province": addr["province"]["name"],
            "city": addr["city"]["name"],
            "district": addr["town"]["name"],
            "address": reveal(addr, "detail", plain),
        },
        "items": [
            {
                "sku": line["out_sku_id"],
                "title": line["product_name"],
                "qty": line["item_num"],
                "price": yuan(line["goods_price"]),
            }
            for line in raw["sku_order_list"]
        ],
        "amount": yuan(raw["order_amount"]),
    }


def reveal(record: dict, field: str, plain: Mapping[str, str]) -> str:
    """A receiver field as plain text: the decrypted `encrypt_<field>` (`encrypt_detail`
    for `detail`) when the record carries one, else the plain field."""
    cipher = record.get(_CIPHER_FIELD[field])
    if not cipher:
        return record.get(field) or ""
    try:
        return plain[cipher]
    except KeyError:
        raise NotDecrypted(SYSTEM) from None


def yuan(fen: int) -> str:
    """Fen integer as a yuan string with two decimals."""
    return f"{Decimal(int(fen)).scaleb(-2):.2f}"


def fen(yuan_text: str) -> int:
    """Yuan string as fen integer."""
    return int(Decimal(yuan_text) * 100)


def from_epoch(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), CST).isoformat()


def to_epoch(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


_CIPHER_FIELD = {
    "post_receiver": "encrypt_post_receiver",
    "post_tel": "encrypt_post_tel",
    "detail": "encrypt_detail",
}


def _fresh(page: list[dict], seen: set[str], lo: int, hi: int) -> list[dict]:
    """The records of `page` not seen yet and updated in [lo, hi); marks them seen."""
    fresh = []
    for raw in page:
        try:
            oid, updated = str(raw["order_id"]), int(raw["update_time"])
        except MALFORMED:
            fresh.append(raw)  # unreadable: ingest keeps it for the exceptions queue
            continue
        if oid not in seen and lo <= updated < hi:
            seen.add(oid)
            fresh.append(raw)
    return fresh


def _order_id(raw: dict) -> str:
    return str(raw["order_id"])


def _cipher_infos(raws: list[dict]) -> list[dict[str, str]]:
    """One `cipher_infos` entry per distinct receiver ciphertext, with its order id."""
    infos: dict[str, dict[str, str]] = {}
    for raw in raws:
        addr = raw.get("post_addr") or {}
        for cipher in (raw.get("encrypt_post_receiver"), raw.get("encrypt_post_tel"),
                       addr.get("encrypt_detail")):  # fmt: skip
            if cipher and cipher not in infos:
                infos[cipher] = {"auth_id": str(raw.get("order_id")), "cipher_text": cipher}
    return list(infos.values())


def _decrypted(data: dict) -> dict[str, str]:
    """Ciphertext -> plain text from an `order.batchDecrypt` answer; `Rejected` when the
    call failed. An entry the platform refused is left out (its order becomes unreadable,
    the rest of the page goes on) and logged by order id, never with a plain text."""
    err = data.get("custom_err") or {}
    if err.get("err_code"):
        msg = f"decrypt refused: {err.get('err_msg', '')}"
        raise Rejected(SYSTEM, msg, code=str(err["err_code"]))
    plain: dict[str, str] = {}
    for info in data.get("decrypt_infos") or []:
        if info.get("err_no"):
            log.warning(
                "douyin refused to decrypt for order %s: %s (%s)",
                info.get("auth_id"),
                info.get("err_msg", ""),
                info["err_no"],
            )
            continue
        plain[info["cipher_text"]] = info["decrypt_text"]
    return plain


async def signed_call(
    http: Any,
    keys: tuple[str, str, str],
    method: str,
    params: dict[str, Any],
    *,
    parse: Callable[[Response], dict],
    retry: bool,
    **options: Any,
) -> dict:
    """One signed Douyin open-platform call: `keys` are (app_key, app_secret, access_token);
    `options` go to `HttpClient.call` (`reconcile`, `retry_unreconciled`)."""
    app_key, secret, token = keys
    param_json = dumps(params)
    timestamp = str(int(time.time()))
    query = {
        "app_key": app_key,
        "method": method,
        "timestamp": timestamp,
        "v": "2",
        "sign_method": "hmac-sha256",
        "access_token": token,
        "sign": sign(secret, app_key, method, param_json, timestamp),
    }
    return await http.call(
        "POST",
        "/" + method.replace(".", "/"),
        params=query,
        data=param_json.encode(),
        headers={"Content-Type": "application/json"},
        parse=parse,
        retry=retry,
        **options,
    )


def _parse(response: Response) -> dict:
    body = json_body(SYSTEM, response)
    code = body.get("code")
    if code == SUCCESS:
        return body.get("data") or {}
    sub_code = str(body.get("sub_code") or "")
    text = f"{body.get('msg', '')} {body.get('sub_msg', '')}".strip()
    if "frequency" in sub_code or "limit" in sub_code:
        raise RateLimited(SYSTEM, f"rate limited: {text}", code=sub_code or str(code))
    if sub_code.startswith("isv."):  # the caller's request, whatever the code (50002 …)
        raise Rejected(SYSTEM, f"refused: {text}", code=sub_code)
    if sub_code.startswith("isp.") or (isinstance(code, int) and code >= 50000):
        raise Unavailable(SYSTEM, f"platform error: {text}", code=sub_code or str(code))
    raise Rejected(SYSTEM, f"refused: {text}", code=sub_code or str(code))
