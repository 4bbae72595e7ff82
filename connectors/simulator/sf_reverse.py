"""Simulated SF return pickups: ``EXP_RECE_CREATE_REVERSE_ORDER`` and
``EXP_RECE_SEARCH_ROUTES`` on the gateway of `sf`.

A reverse order (``orderId`` the client's key, ``contactInfoList`` 1 customer / 2 warehouse
— assumed, PLATFORMS.md) answers like a create order: a waybill ``SF…`` in
``waybillNoInfoList``. A repeated orderId answers the first waybill or error 8016, as
`SimOptions.sf_duplicate` says; ``EXP_RECE_SEARCH_ORDER_RESP`` finds reverse orders too.
The after-sales request the parcel is for is read from msgData's ``remark``
(``channel:aftersale_id``): booking it lets the courier pick the parcel up (the request
turns ``parcel_sent`` with that tracking number). Route query answers ``routeResps`` with
opCode 50 (picked up) for every reverse waybill asked for, as a JSON string.
"""

from __future__ import annotations

from fastapi import Response

from connectors.simulator.state import SimState


def create(state: SimState, msg: dict, ok: object, business: object) -> Response:
    state.counters["sf_reverse_calls"] += 1
    book = state.after_sales.reverse_orders
    order_id = str(msg.get("orderId", ""))
    if not order_id or len(order_id) > 64:
        return business("8024", "orderId must be 1..64 characters")
    first = book.get(order_id)
    if first:
        if state.options.sf_duplicate == "first_waybill":
            return ok(order_id, first["waybillNo"])
        return business("8016", "重复下单")
    contacts = {c.get("contactType"): c for c in msg.get("contactInfoList") or []}
    if not (contacts.get(1) or {}).get("address") or not (contacts.get(2) or {}).get("address"):
        return business("1014", "寄件方或到件方地址不能为空")
    state.waybill_seq += 1
    waybill = f"SF{1470000000000 + state.waybill_seq * 41:013d}"
    ref = str(msg.get("remark") or "")
    book[order_id] = {"orderId": order_id, "waybillNo": waybill, "ref": ref}
    state.counters["sf_reverse_orders"] += 1
    state.after_sales.pickup_booked(ref, {"company": "SF", "tracking_no": waybill}, state.clock())
    return ok(order_id, waybill)


def search(state: SimState, msg: dict) -> dict | None:
    """The reverse order made under msgData's orderId, if any."""
    return state.after_sales.reverse_orders.get(str(msg.get("orderId", "")))


def routes(state: SimState, msg: dict) -> dict:
    """``msgData`` of a route query: every asked waybill that is a reverse order, picked up."""
    known = {r["waybillNo"] for r in state.after_sales.reverse_orders.values()}
    asked = [str(n) for n in msg.get("trackingNumber") or []]
    resps = [
        {
            "mailNo": no,
            "routes": [{"acceptTime": "", "remark": "顺丰速运 已收取快件", "opCode": "50"}],
        }
        for no in asked
        if no in known
    ]
    return {"routeResps": resps}
