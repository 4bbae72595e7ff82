"""The after-sales node types' rules, each through the runner on a real store: link_order,
classify_request and refund_rules route a request as the workflow's thresholds say;
await_return waits for its parcel, and past its wait limit moves on by `timeout` (or, with no
such route, reminds the team once)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.ingest import IngestResult, store_orders
from engine.loader import load_workflow
from engine.order import Order
from engine.runner import RunEnv, Runner
from engine.store import Store
from engine.store import after_sales as as_store
from engine.store import orders as order_store
from engine.store.waits import open_waits
from engine.waits import sweep
from nodes.after_sale_item import item_of

RULES = """
id: as_rules
name: after-sales rules
nodes:
  - {id: pull, type: aftersales_pull, with: {channels: [youzan]}, next: link}
  - {id: link, type: link_order, routes: {linked: classify, unknown_order: unlinked}}
  - id: classify
    type: classify_request
    routes: {refund_only: decide, return: decide, exchange: decide, closed: closed,
             refunded_by_platform: by_platform}
  - id: decide
    type: refund_rules
    with: {refund_only_max_yuan: 300, inspect_min_yuan: 1000}
    routes: {approve: approve, return: on_scan, inspect: inspect, person: person}
  - {id: approve, type: finish, with: {status: approve}}
  - {id: on_scan, type: finish, with: {status: refund_on_scan}}
  - {id: inspect, type: finish, with: {status: inspect}}
  - {id: person, type: finish, with: {status: person}}
  - {id: closed, type: finish, with: {status: closed}}
  - {id: by_platform, type: finish, with: {status: by_platform}}
  - {id: unlinked, type: finish, with: {status: unlinked}}
"""


def original(shipped: bool) -> Order:
    return Order.model_validate(
        {
            "channel": "youzan",
            "order_id": "O1",
            "created_at": "2026-01-10T10:00:00+08:00",
            "updated_at": "2026-01-10T10:05:00+08:00",
            "status": "shipped" if shipped else "paid",
            "receiver": {"name": "王英", "phone": "13812345678", "province": "上海市"},
            "items": [
                {"sku": "CAM-1", "qty": 2, "price": "1500.00"},
                {"sku": "LIP-1", "qty": 2, "price": "99.00"},
            ],  # fmt: skip
            "amount": "3198.00",
        }
    )


def request(**over: Any) -> dict[str, Any]:
    base = {
        "aftersale_id": "R1",
        "order_id": "O1",
        "type": "refund_only",
        "status": "waiting_seller",
        "version": "1",
        "lines": [{"line_id": "O1-2", "sku": "LIP-1", "qty": 1, "gift": False}],
        "refund": "99.00",
        "tracking": None,
        "system_refund": False,
        "created_at": "2026-01-11T10:00:00+08:00",
        "updated_at": "2026-01-11T10:00:00+08:00",
    }
    return {**base, **over}


def outcome_of(store: Store, req: dict[str, Any], *, shipped: bool, serial: bool = False) -> str:
    env = RunEnv(load_workflow("rules.yaml", text=RULES), store, connectors=None)
    result = IngestResult()
    with store.engine.begin() as conn:
        (stored,) = order_store.upsert_orders(conn, [(original(shipped), {})])
        order_store.set_standing(conn, stored.id, "shipped" if shipped else "paid", "")
        if serial:
            as_store.mark_serial_skus(conn, ["CAM-1"])
        store_orders(env, conn, [(item_of("youzan", req), {})], result)
    try:
        return asyncio.run(Runner(env).finish(result.runs[0]))
    finally:
        env.close()


CAMERA = [{"line_id": "O1-1", "sku": "CAM-1", "qty": 1, "gift": False}]


@pytest.mark.parametrize(
    ("req", "shipped", "serial", "outcome"),
    [
        (request(), False, False, "approve"),
        (request(refund="300.00"), False, False, "approve"),
        (request(refund="300.01"), False, False, "person"),
        (request(), True, False, "person"),
        (request(type="return_refund"), True, False, "refund_on_scan"),
        (request(type="return_refund", refund="1000.00"), True, False, "inspect"),
        (request(type="return_refund", lines=CAMERA, refund="999.00"), True, True, "inspect"),
        (
            request(type="return_refund", lines=CAMERA, refund="999.00"),
            True,
            False,
            "refund_on_scan",
        ),
        (request(type="exchange"), True, False, "inspect"),
        (request(type="return_refund", status="closed"), True, False, "closed"),
        (request(system_refund=True, status="success"), False, False, "by_platform"),
        (
            request(type="return_refund", system_refund=True, status="success"),
            True,
            False,
            "refund_on_scan",
        ),  # fmt: skip
        (request(order_id="NOPE"), True, False, "unlinked"),
    ],
    ids=[
        "small refund before shipment",
        "exactly the threshold",
        "a fen above it",
        "refund only after shipment",
        "small return",
        "high value return",
        "serial-tracked return",
        "same unit, not serial-tracked",
        "exchange",
        "closed by the buyer",
        "refunded by the platform",
        "a return refunded by the platform still comes back",
        "unknown original order",
    ],
)
def test_requests_are_routed_by_the_rules(
    store: Store, req: dict[str, Any], shipped: bool, serial: bool, outcome: str
) -> None:
    assert outcome_of(store, req, shipped=shipped, serial=serial) == outcome


LATE = """
id: as_late
name: a parcel that does not come back
nodes:
  - {id: pull, type: aftersales_pull, with: {channels: [youzan]}, next: link}
  - {id: link, type: link_order, routes: {linked: await_scan, unknown_order: back}}
  - id: await_scan
    type: await_return
    with: {wait_limit: 1d}
    routes: {arrived: back, inspect: back, timeout: late}
  - {id: back, type: finish, with: {status: back}}
  - {id: late, type: finish, with: {status: late}}
"""


UNROUTED_LATE = "  - {id: late, type: finish, with: {status: late}}\n"


@pytest.mark.parametrize("routed", [True, False], ids=["timeout_routed", "not_routed"])
def test_a_parcel_past_the_wait_limit_moves_on_by_timeout_else_the_team_is_reminded(
    store: Store, routed: bool
) -> None:
    text = LATE
    if not routed:  # no timeout route (and so no late node)
        text = text.replace(", timeout: late", "").replace(UNROUTED_LATE, "")
    env = RunEnv(load_workflow("late.yaml", text=text), store, connectors=None)
    result = IngestResult()
    with store.engine.begin() as conn:
        (stored,) = order_store.upsert_orders(conn, [(original(True), {})])
        order_store.set_standing(conn, stored.id, "shipped", "")
        store_orders(env, conn, [(item_of("youzan", request(type="return_refund")), {})], result)
    run_id = result.runs[0]
    try:
        assert asyncio.run(Runner(env).finish(run_id)) == "awaiting_return"
        with store.engine.connect() as conn:
            (kinds,) = [sorted(w.kind for w in open_waits(conn, run_ids=[run_id]))]
        assert kinds == (["event", "time"] if routed else ["event"])  # unrouted: dropped
        assert sweep(store, datetime.now(UTC) + timedelta(hours=23)).timed_out == []
        swept = sweep(store, datetime.now(UTC) + timedelta(days=2))
        if routed:
            assert [w.route for w in swept.due] == ["timeout"] and swept.reminded == 0
            assert asyncio.run(Runner(env).finish(run_id)) == "late"
        else:
            assert swept.due == [] and swept.reminded == 1
            with store.engine.connect() as conn:
                assert [w.key for w in open_waits(conn, run_ids=[run_id])] == ["return:youzan:R1"]
    finally:
        env.close()
