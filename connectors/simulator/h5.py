"""Simulated H5 mall REST API: keyset-cursor order listing, one order's read and shipment
posts.

Bearer `api_key` auth (401 otherwise); window [updated_after, updated_before) at most
one day (400); `limit` <= 100 (400). The cursor names the last (update time, order id)
returned, so orders moving while a window is read are neither skipped nor repeated.
``GET /h5/api/orders/{order_id}`` answers ``{"order": <record as listed>, "shipments":
[{carrier, waybill_no, lines, shipped_at}]}``, one shipment per post recorded (a repeat
too), 404 ``{"error": "order_not_found"}`` for an unknown order.
"""

from __future__ import annotations

import base64
import bisect
from datetime import datetime

from fastapi import FastAPI, Request, Response

from connectors.simulator.common import answer, fault_answer, json_of
from connectors.simulator.paging import Bounds, serve_page
from connectors.simulator.state import SimState, iso

SYSTEM = "h5"


def render(order: dict) -> dict:
    """A canonical order as the H5 mall's record (the same fields, no channel)."""
    return {k: v for k, v in order.items() if k != "channel"}


def register(app: FastAPI, state: SimState) -> None:
    """Mount the H5 mall's API paths on `app`."""

    async def gate(request: Request, call: str) -> Response | None:
        played = state.take_fault(SYSTEM, request, call)
        if played:
            return fault_answer(played)  # no rate-limit shape of its own: 429 + Retry-After
        expected = "Bearer " + state.credentials[SYSTEM]["api_key"]
        if request.headers.get("authorization") != expected:
            return answer({"error": "unauthorized"}, status=401)
        return None

    @app.get("/h5/api/orders")
    async def list_orders(request: Request) -> Response:
        refused = await gate(request, "pull")
        if refused:
            return refused
        q = request.query_params
        try:
            start = datetime.fromisoformat(q["updated_after"]).timestamp()
            end_text = q.get("updated_before")
            end = datetime.fromisoformat(end_text).timestamp() if end_text else start + 86400
            limit = int(q.get("limit", 50))
            after = _decode(q["cursor"]) if q.get("cursor") else None
        except (KeyError, ValueError):
            return answer({"error": "bad_request: updated_after (ISO 8601) required"}, 400)
        if end - start > state.options.max_window_s:
            return answer({"error": "window_too_long: at most 24 h"}, status=400)
        if not 1 <= limit <= state.options.max_page_size:
            return answer({"error": "limit_too_large: at most 100"}, status=400)
        store = state.channels[SYSTEM]

        def bounds() -> Bounds:
            lo, hi = store.window(start, end)
            first = max(lo, bisect.bisect_right(store.index, after)) if after else lo
            return lo, hi, first, min(hi, first + limit)

        def render(place: Bounds) -> dict:
            _, hi, first, top = place
            records = store.records(first, top) if first < hi else []
            cursor = _encode(store.index[top - 1]) if top < hi and records else None
            return {"orders": records, "next_cursor": cursor}

        window = (q["updated_after"], q.get("updated_before"), limit)
        return answer(serve_page(state, SYSTEM, window, bounds, render))

    @app.get("/h5/api/orders/{order_id}")
    async def get_order(request: Request, order_id: str) -> Response:
        refused = await gate(request, "get")
        if refused:
            return refused
        store = state.channels[SYSTEM]
        if order_id not in store.orders:
            return answer({"error": "order_not_found"}, status=404)
        shipments = [
            {"carrier": u["carrier"], "waybill_no": u["waybill_no"], "lines": u["lines"],
             "shipped_at": iso(int(u["at"]))}
            for u in state.uploads
            if u["channel"] == SYSTEM and u["order_id"] == order_id
        ]  # fmt: skip
        return answer({"order": store.record(order_id), "shipments": shipments})

    @app.post("/h5/api/orders/{order_id}/shipments")
    async def add_shipment(request: Request, order_id: str) -> Response:
        refused = await gate(request, "upload")
        if refused:
            return refused
        body = await json_of(request) or {}
        store = state.channels[SYSTEM]
        if order_id not in store.orders:
            return answer({"error": "order_not_found"}, status=404)
        if not body.get("waybill_no"):
            return answer({"error": "waybill_no required"}, status=400)
        state.record_upload(
            {"channel": SYSTEM, "order_id": order_id, "carrier": body.get("carrier"),
             "waybill_no": body["waybill_no"], "lines": list(body.get("lines") or [])}
        )  # fmt: skip
        store.ship(order_id, state.clock())
        return answer({"ok": True})


def _encode(key: tuple[int, str]) -> str:
    return base64.urlsafe_b64encode(f"{key[0]}|{key[1]}".encode()).decode()


def _decode(cursor: str) -> tuple[int, str]:
    ts, _, oid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
    return int(ts), oid
