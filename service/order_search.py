"""Finding orders: by reference, by the receiver's phone (any spelling), by status or
channel, a page at a time. What is listed carries no phone; a reason that mentions one is
masked for roles without `orders.contact`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from engine.store import Store
from engine.store.models import OrderRow
from nodes.rules import normalise_phone
from service.access import Actor, allowed, require
from service.masking import ContactMask
from service.orders import OrderSummary, _aware, _parse_ref
from service.paging import Page, check_bounds, count_of

_SCAN_BATCH = 2000


def search_orders(
    store: Store,
    actor: Actor,
    *,
    ref: str | None = None,
    phone: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[OrderSummary]:
    """Orders newest first, narrowed by `ref` (``CHANNEL:ORDER_ID``), the receiver's `phone`
    (``+86 138 1234 5678`` finds ``13812345678``), `status` and `channel`."""
    require(actor, "orders.list")
    check_bounds(limit, offset)
    query = select(
        OrderRow.channel,
        OrderRow.order_id,
        OrderRow.created_at,
        OrderRow.status,
        OrderRow.reason,
        OrderRow.warehouse,
    )
    if ref is not None:
        wanted_channel, order_id = _parse_ref(ref)
        query = query.where(OrderRow.channel == wanted_channel, OrderRow.order_id == order_id)
    if status is not None:
        query = query.where(OrderRow.status == status)
    if channel is not None:
        query = query.where(OrderRow.channel == channel)
    mask = ContactMask(allowed(actor, "orders.contact"))
    with store.engine.connect() as conn:
        if phone is not None:
            query = query.where(OrderRow.id.in_(_with_phone(conn, phone, channel)))
        total = count_of(conn, query)
        rows = conn.execute(
            query.order_by(OrderRow.created_at.desc(), OrderRow.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    items = [
        OrderSummary(
            f"{r.channel}:{r.order_id}", _aware(r.created_at), r.status, mask(r.reason), r.warehouse
        )
        for r in rows
    ]
    return Page(items, total, limit, offset)


def _with_phone(conn: Connection, phone: str, channel: str | None) -> list[int]:
    """Ids of the orders whose receiver phone is `phone` in any spelling.

    Phones are stored as each platform spelled them, inside the order's JSON; this reads
    them a batch at a time and compares digits. (An indexed digits column would make it a
    lookup; worth it when a store holds millions of orders.)
    """
    wanted = normalise_phone(phone)
    if not wanted:
        return []
    stored = OrderRow.canonical["receiver"]["phone"].as_string()
    query = select(OrderRow.id, stored)
    if channel is not None:
        query = query.where(OrderRow.channel == channel)
    found: list[int] = []
    for order_pk, spelled in conn.execution_options(yield_per=_SCAN_BATCH).execute(query):
        if spelled and normalise_phone(spelled) == wanted:
            found.append(order_pk)
    return found
