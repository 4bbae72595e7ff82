"""Simulated Douyin (抖店) open API: `order.searchList`, `order.orderDetail`,
`order.logisticsAdd` and `order.batchDecrypt`.

Checks app_key, access_token and the HMAC-SHA256 sign of every call. Windows are
[update_time_start, update_time_end) epoch seconds, at most one day; `page` from 0,
`size` <= 100. Paid orders alternate between status 105 (paid) and 2 (awaiting shipment).

Receivers (`SimOptions.receivers`): ``"encrypted"`` renders `encrypt_post_receiver`,
`encrypt_post_tel` and `post_addr.encrypt_detail` (``##…#1##`` / ``$$…$1$$``), with
`mask_post_receiver` and `mask_post_tel`, and leaves `post_receiver`, `post_tel` and
`post_addr.detail` out, as in a public SDK's sample `order.searchList` answer;
``"plain"`` renders the plain fields (with `mask_post_tel`).

`order.batchDecrypt`: ``cipher_infos: [{auth_id, cipher_text}]`` in, at most 50 a call
(the SDKs' "最大支持一次解密50条"); ``decrypt_infos: [{auth_id, cipher_text, decrypt_text,
err_no, err_msg, data_type, is_virtual_tel, …}]`` and ``custom_err`` out. The real
`auth_id` is the order id; the simulator only requires one. A ciphertext it never handed
out, or one without an auth_id, gets err_no 300004 (the code is the simulator's choice).
Real phones may come back as virtual numbers; the simulator always returns the real one.

`order.orderDetail` ``{shop_order_id}``: ``shop_order_detail`` is the order's record as
listed plus ``logistics_info``, one entry per logisticsAdd recorded for the order
(``tracking_no``, ``company``, ``company_name``, ``ship_time``, ``delivery_id``,
``product_info``), empty before the first; an unknown order is code 50002 with sub_code
``isv.business-failed:order-not-found``. Every logisticsAdd is recorded, a repeat too.
"""

from __future__ import annotations

import hmac
import json
import uuid

from fastapi import FastAPI, Request, Response

from connectors.douyin import DECRYPT_LIMIT, fen, sign, to_epoch
from connectors.simulator.cipher import Vault
from connectors.simulator.common import answer, fault_answer
from connectors.simulator.paging import Bounds, serve_page
from connectors.simulator.state import SimState

SYSTEM = "douyin"
DATA_TYPE = {"address": 1, "name": 2, "phone": 3}
UNKNOWN_CIPHER = 300004
NOT_ALLOWED = 300008  # decryption refused for that order (the simulator's code)
STATUS = {"unpaid": 1, "shipped": 3, "cancelled": 4}
COMPANY_NAMES = {
    "sf": "顺丰速运",
    "shunfeng": "顺丰速运",
    "zto": "中通快递",
    "zhongtong": "中通快递",
}
STATUS_DESC = {1: "待支付", 105: "已支付", 2: "备货中", 3: "已发货", 4: "已取消", 5: "已完成"}


def render(order: dict, vault: Vault | None = None) -> dict:
    """A canonical order as a Douyin `shop_order_list` entry; with a `vault`, the receiver's
    name, phone and address detail are ciphertexts sealed in it (the encrypted variant)."""
    status = STATUS.get(order["status"])
    if status is None:  # paid: both documented codes appear
        status = 105 if sum(map(ord, order["order_id"])) % 2 else 2
    r = order["receiver"]
    oid = order["order_id"]
    phone = r["phone"]
    record = {
        "order_id": oid,
        "order_status": status,
        "order_status_desc": STATUS_DESC[status],
        "create_time": to_epoch(order["created_at"]),
        "pay_time": to_epoch(order["paid_at"]) if order["paid_at"] else 0,
        "update_time": to_epoch(order["updated_at"]),
        "order_amount": fen(order["amount"]),
        "pay_amount": fen(order["amount"]),
        "user_nick_name": order["buyer"]["nick"],
        "post_receiver": r["name"],
        "post_tel": phone,
        "mask_post_tel": phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else phone,
        "post_addr": {
            "province": {"id": "", "name": r["province"]},
            "city": {"id": "", "name": r["city"]},
            "town": {"id": "", "name": r["district"]},
            "street": {"id": "", "name": ""},
            "detail": r["address"],
        },
        "sku_order_list": [
            {
                "order_id": f"{oid}{n:02d}",
                "parent_order_id": oid,
                "out_sku_id": item["sku"],
                "product_name": item["title"],
                "item_num": item["qty"],
                "goods_price": fen(item["price"]),
                "given_product_type": "MASTER",
            }
            for n, item in enumerate(order["items"], 1)
        ],
    }
    if vault is not None:
        _encrypt_receiver(record, r, vault)
    return record


def _encrypt_receiver(record: dict, receiver: dict, vault: Vault) -> None:
    """Swap the plain receiver fields of `record` for ciphertexts and masks."""
    del record["post_receiver"], record["post_tel"], record["post_addr"]["detail"]
    record["encrypt_post_receiver"] = vault.seal(SYSTEM, "name", receiver["name"])
    record["encrypt_post_tel"] = vault.seal(SYSTEM, "phone", receiver["phone"])
    record["mask_post_receiver"] = receiver["name"][:1] + "*" * (len(receiver["name"]) - 1)
    record["post_addr"]["encrypt_detail"] = vault.seal(SYSTEM, "address", receiver["address"])


def register(app: FastAPI, state: SimState) -> None:
    """Mount the Douyin open-API paths on `app`."""

    async def gate(
        request: Request, method: str, call: str | None = None
    ) -> tuple[Response | None, dict]:
        played = state.take_fault(SYSTEM, request, call)
        if played:
            limited = error(40100, "调用频率超限", "isv.frequency-limit", "too many calls")
            return fault_answer(played, lambda: limited), {}
        q = request.query_params
        creds = state.credentials[SYSTEM]
        body = (await request.body()).decode()
        for name in ("app_key", "method", "timestamp", "v", "sign", "access_token"):
            if not q.get(name):
                return error(40001, "缺少参数", "isv.missing-parameter", name), {}
        if q["app_key"] != creds["app_key"] or q["method"] != method:
            return error(40002, "app_key或method无效", "isv.invalid-app-key", ""), {}
        if q["access_token"] != creds["access_token"]:
            return error(30002, "access_token已过期", "isv.access-token-expired", ""), {}
        expected = sign(creds["app_secret"], q["app_key"], method, body, q["timestamp"])
        if not hmac.compare_digest(expected, q["sign"]):
            return error(40003, "签名校验失败", "isv.signature-invalid", "bad sign"), {}
        try:
            return None, json.loads(body or "{}")
        except ValueError:
            return error(40004, "参数错误", "isv.parameter-invalid", "param_json"), {}

    @app.post("/order/searchList")
    async def search_list(request: Request) -> Response:
        refused, p = await gate(request, "order.searchList", "pull")
        if refused:
            return refused
        size, page = int(p.get("size", 10)), int(p.get("page", 0))
        if not 1 <= size <= state.options.max_page_size or page < 0:
            return error(40004, "参数错误", "isv.parameter-invalid:size", "size must be 1..100")
        start = int(p.get("update_time_start", 0))
        end = int(p.get("update_time_end", 0))
        if end < start or end - start > state.options.max_window_s:
            msg = "update_time_end must be within 1 day after update_time_start"
            return error(40004, "参数错误", "isv.parameter-invalid:update_time", msg)
        store = state.channels[SYSTEM]

        def bounds() -> Bounds:
            lo, hi = store.window(start, end)
            first = lo + page * size
            return lo, hi, first, min(hi, first + size)

        def render(place: Bounds) -> dict:
            lo, hi, first, top = place
            records = store.records(first, top) if first < hi else []
            return {"shop_order_list": records, "page": page, "size": size, "total": hi - lo}

        return ok(serve_page(state, SYSTEM, (start, end, size), bounds, render))

    @app.post("/order/orderDetail")
    async def order_detail(request: Request) -> Response:
        refused, p = await gate(request, "order.orderDetail", "get")
        if refused:
            return refused
        store = state.channels[SYSTEM]
        oid = str(p.get("shop_order_id", ""))
        if oid not in store.orders:
            return error(50002, "业务处理失败", "isv.business-failed:order-not-found", oid)
        record = store.record(oid)
        shipped = [u for u in state.uploads if u["channel"] == SYSTEM and u["order_id"] == oid]
        parcels = [_parcel(record, up, n) for n, up in enumerate(shipped, 1)]
        return ok({"shop_order_detail": {**record, "logistics_info": parcels}})

    @app.post("/order/logisticsAdd")
    async def logistics_add(request: Request) -> Response:
        refused, p = await gate(request, "order.logisticsAdd", "upload")
        if refused:
            return refused
        oid, code = str(p.get("order_id", "")), str(p.get("logistics_code", ""))
        store = state.channels[SYSTEM]
        if oid not in store.orders:
            return error(40004, "订单不存在", "isv.business-failed:order-not-found", oid)
        if not code:
            return error(40004, "参数错误", "isv.parameter-invalid:logistics_code", "")
        state.record_upload(
            {"channel": SYSTEM, "order_id": oid, "carrier": p.get("company_code"),
             "waybill_no": code, "lines": list(p.get("serial_number_list") or [])}
        )  # fmt: skip
        store.ship(oid, state.clock())
        return ok({})

    @app.post("/order/batchDecrypt")
    async def batch_decrypt(request: Request) -> Response:
        refused, p = await gate(request, "order.batchDecrypt", "decrypt")
        if refused:
            return refused
        infos = p.get("cipher_infos")
        if not isinstance(infos, list) or not 1 <= len(infos) <= DECRYPT_LIMIT:
            msg = f"cipher_infos must hold 1..{DECRYPT_LIMIT} items"
            return error(40004, "参数错误", "isv.parameter-invalid:cipher_infos", msg)
        state.counters["decrypt_calls_douyin"] += 1
        state.counters["decrypted_douyin"] += len(infos)
        refused = {
            r.split(":", 1)[1] for r in state.options.decrypt_refused if r.startswith("douyin:")
        }
        decrypted = [_decrypt_info(state.vault, info, refused) for info in infos]
        return ok({"decrypt_infos": decrypted, "custom_err": {"err_code": 0, "err_msg": ""}})


def _parcel(record: dict, upload: dict, n: int) -> dict:
    """One `logistics_info` entry of orderDetail for a recorded logisticsAdd."""
    return {
        "tracking_no": upload["waybill_no"],
        "company": upload["carrier"] or "",
        "company_name": COMPANY_NAMES.get(str(upload["carrier"]).lower(), ""),
        "ship_time": int(upload["at"]),
        "delivery_id": f"{upload['order_id']}-P{n}",
        "product_info": [
            {
                "sku_order_id": line["order_id"],
                "product_name": line["product_name"],
                "outer_sku_id": line["out_sku_id"],
                "product_count": line["item_num"],
            }
            for line in record["sku_order_list"]
        ],
    }


def _decrypt_info(vault: Vault, info: object, refused: set[str]) -> dict:
    """One `decrypt_infos` entry for one `cipher_infos` entry (`refused`: order ids whose
    decryption the platform does not allow, e.g. closed long ago)."""
    info = info if isinstance(info, dict) else {}
    auth_id, cipher = str(info.get("auth_id") or ""), str(info.get("cipher_text") or "")
    opened = vault.open(SYSTEM, cipher) if auth_id and auth_id not in refused else None
    kind, plain = opened or ("", "")
    err_no, err_msg = (
        (0, "")
        if opened
        else (NOT_ALLOWED, "订单状态不允许解密")
        if auth_id in refused
        else (UNKNOWN_CIPHER, "密文无效或auth_id不匹配")
    )
    return {
        "auth_id": auth_id,
        "cipher_text": cipher,
        "decrypt_text": plain,
        "err_no": err_no,
        "err_msg": err_msg,
        "data_type": DATA_TYPE.get(kind, 0),
        "is_virtual_tel": False,
        "expire_time": 0,
        "phone_no_a": "",
        "phone_no_b": "",
    }


def ok(data: dict) -> Response:
    return answer({"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "",
                   "log_id": uuid.uuid4().hex, "data": data})  # fmt: skip


def error(code: int, msg: str, sub_code: str, sub_msg: str) -> Response:
    return answer({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg,
                   "log_id": uuid.uuid4().hex, "data": {}})  # fmt: skip
