"""What the after-sales node types share: the request an item carries, and its item shape.

An after-sales request runs through the engine as an item of `orders` (``kind:
after_sale``): ``channel``, ``order_id`` ``as-<aftersale id>``, the request's lines as
``items``, its refund as ``amount`` and the whole request under ``after_sale``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.order import Order

ITEM_PREFIX = "as-"


def item_of(channel: str, request: dict[str, Any]) -> dict[str, Any]:
    """The canonical item of a request (what ingest upserts and a run reads)."""
    return {
        "channel": channel,
        "order_id": ITEM_PREFIX + request["aftersale_id"],
        "created_at": request["created_at"],
        "paid_at": None,
        "updated_at": request["updated_at"],
        "status": request["status"],
        "items": [
            {"sku": line["sku"], "qty": line["qty"], "price": "0"} for line in request["lines"]
        ],
        "amount": request["refund"],
        "kind": "after_sale",
        "after_sale": request,
    }


def request_of(order: Order) -> dict[str, Any]:
    """The after-sales request an item carries."""
    request = (order.model_extra or {}).get("after_sale")
    if not isinstance(request, dict):
        raise ValueError(f"{order.ref} is not an after-sales request; run it in after_sales.yaml")
    return request


def request_ref(order: Order) -> str:
    """``channel:aftersale_id``, the request's name for people and the ERP."""
    return f"{order.channel}:{request_of(order)['aftersale_id']}"


def event_key(event: str, ref: str) -> str:
    """The key of the `event` wait a request's run parks on: ``return:youzan:R1`` (the parcel
    scanned in), ``inspection:youzan:R1`` (its inspection recorded). `ref` is
    ``channel:aftersale_id``; the warehouse's action (`service.returns`) wakes it."""
    return f"{event}:{ref}"


def returned_lines(request: dict[str, Any]) -> dict[str, int]:
    """SKU -> units coming back (gifts too)."""
    lines: Counter[str] = Counter()
    for line in request["lines"]:
        lines[line["sku"]] += int(line["qty"])
    return dict(lines)
