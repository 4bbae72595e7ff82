"""Orders in the store: upsert by (channel, order_id), lookup keys, cursors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from engine.order import Order
from engine.store.models import Cursor, OrderKey, OrderRow, utc, utcnow

#: platform statuses that mean the same to the rules (we shipped it ourselves)
_SAME_AS_PAID = {"shipped": "paid"}


def content_hash(order: Order) -> str:
    """Hash of what the rules read: a new hash means the order changed and needs a new run.

    `updated_at` is left out, and `shipped` counts as `paid`, so the echo of our own tracking
    upload does not start a second run.
    """
    data = order.as_data()
    data.pop("updated_at", None)
    data["status"] = _SAME_AS_PAID.get(data["status"], data["status"])
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upsert_orders(
    session: Session, pulled: Iterable[tuple[Order, dict]]
) -> list[tuple[OrderRow, bool]]:
    """Insert new orders and update known ones; each row comes with `changed` (needs a run)."""
    pulled = list(pulled)
    if not pulled:
        return []
    wanted = {(o.channel, o.order_id) for o, _ in pulled}
    existing = {
        (row.channel, row.order_id): row
        for row in session.scalars(
            select(OrderRow).where(
                or_(*(and_(OrderRow.channel == c, OrderRow.order_id == i) for c, i in wanted))
            )
        )
    }
    result = []
    for order, raw in pulled:
        digest = content_hash(order)
        row = existing.get((order.channel, order.order_id))
        if row is None:
            row = OrderRow(channel=order.channel, order_id=order.order_id, status="new")
            session.add(row)
            existing[(order.channel, order.order_id)] = row
            changed = True
        else:
            if row.updated_at and utc(order.updated_at) < row.updated_at:
                result.append((row, False))  # an older copy of what we have (overlapping pull)
                continue
            changed = row.content_hash != digest
        row.created_at = utc(order.created_at)
        row.paid_at = utc(order.paid_at)
        row.updated_at = utc(order.updated_at)
        row.platform_status = order.status
        row.content_hash = digest
        row.canonical = order.as_data()
        row.raw = raw
        row.pulled_at = utcnow()
        result.append((row, changed))
    session.flush()
    return result


def save_key(session: Session, order: OrderRow, scope: str, key: str, *, eligible: bool) -> None:
    """Record (or replace) an order's lookup key in `scope`."""
    session.execute(delete(OrderKey).where(OrderKey.order_pk == order.id, OrderKey.scope == scope))
    session.add(
        OrderKey(
            order_pk=order.id,
            scope=scope,
            key=key,
            created_at=order.created_at,
            eligible=eligible,
        )
    )


def find_earlier(
    session: Session, scope: str, key: str, order: OrderRow, window: timedelta
) -> OrderRow | None:
    """The latest eligible order with the same key created at most `window` before `order`.

    Orders created in the same second are ordered by channel, then order id.
    """
    created = order.created_at
    same_time_before = and_(
        OrderKey.created_at == created,
        or_(
            OrderRow.channel < order.channel,
            and_(OrderRow.channel == order.channel, OrderRow.order_id < order.order_id),
        ),
    )
    query = (
        select(OrderRow)
        .join(OrderKey, OrderKey.order_pk == OrderRow.id)
        .where(
            OrderKey.scope == scope,
            OrderKey.key == key,
            OrderKey.eligible.is_(True),
            OrderKey.order_pk != order.id,
            or_(
                and_(OrderKey.created_at >= created - window, OrderKey.created_at < created),
                same_time_before,
            ),
        )
        .order_by(OrderKey.created_at.desc(), OrderRow.channel.desc(), OrderRow.order_id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def get_cursor(session: Session, source: str) -> datetime | None:
    row = session.get(Cursor, source)
    return row.value if row else None


def set_cursor(session: Session, source: str, value: datetime) -> None:
    row = session.get(Cursor, source)
    if row is None:
        session.add(Cursor(source=source, value=utc(value)))
    elif utc(value) > row.value:
        row.value = utc(value)
        row.updated_at = utcnow()
