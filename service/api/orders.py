"""Orders: search (by reference or the receiver's phone), and one order with its history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service import order_search, orders
from service.api.auth import ActorDep, StoreDep, needs
from service.api.common import Limit, Offset
from service.orders import OrderSummary
from service.paging import DEFAULT_LIMIT, Page

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", openapi_extra=needs("orders.list"))
def search_orders(
    store: StoreDep,
    actor: ActorDep,
    ref: str | None = None,
    phone: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[OrderSummary]:
    """Orders newest first: by reference (CHANNEL:ORDER_ID), receiver phone (any spelling),
    status or channel."""
    return order_search.search_orders(
        store,
        actor,
        ref=ref,
        phone=phone,
        status=status,
        channel=channel,
        limit=limit,
        offset=offset,
    )


@router.get("/{ref}", openapi_extra=needs("orders.show"))
def show_order(ref: str, store: StoreDep, actor: ActorDep) -> dict[str, Any]:
    """One order (CHANNEL:ORDER_ID) with every run, step, queue entry and waybill; the phone
    is masked for roles without the right to see it, the address hidden from finance."""
    return orders.order_history(store, actor, ref).as_dict()
