"""The insights' rows in the store: order facts, ERP stock by day, named state.

Every function takes a connection and leaves committing to the caller.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from engine.store.insight_models import InsightLine, InsightOrder, InsightState, StockDay
from engine.store.models import OrderRow, utcnow

_orders = OrderRow.__table__
_facts = InsightOrder.__table__
_lines = InsightLine.__table__
_stock = StockDay.__table__
_state = InsightState.__table__

#: the order columns fact derivation reads
INDEX_COLUMNS = (
    _orders.c.id,
    _orders.c.channel,
    _orders.c.created_at,
    _orders.c.paid_at,
    _orders.c.platform_status,
    _orders.c.status,
    _orders.c.warehouse,
    _orders.c.content_hash,
    _orders.c.canonical,
)


def orders_to_index(conn: Any, after_id: int, limit: int) -> list[Any]:
    """Orders past `after_id` whose facts are missing or stale (content or standing changed)."""
    stale = or_(
        _facts.c.order_pk.is_(None),
        _facts.c.content_hash != _orders.c.content_hash,
        _facts.c.standing != _orders.c.status,
    )
    query = (
        select(*INDEX_COLUMNS)
        .select_from(_orders.outerjoin(_facts, _facts.c.order_pk == _orders.c.id))
        .where(_orders.c.id > after_id, stale, _orders.c.kind == "order")  # no after-sales items
        .order_by(_orders.c.id)
        .limit(limit)
    )
    return list(conn.execute(query))


def replace_facts(conn: Any, facts: list[dict[str, Any]], lines: list[dict[str, Any]]) -> None:
    """Write the facts (and sold lines) of these orders, replacing any they had."""
    if not facts:
        return
    pks = [f["order_pk"] for f in facts]
    for start in range(0, len(pks), 900):  # SQLite's bound-parameter limit
        chunk = pks[start : start + 900]
        conn.execute(delete(_lines).where(_lines.c.order_pk.in_(chunk)))
        conn.execute(delete(_facts).where(_facts.c.order_pk.in_(chunk)))
    conn.execute(insert(_facts), facts)
    if lines:
        conn.execute(insert(_lines), lines)


def clear_facts(conn: Any) -> None:
    conn.execute(delete(_lines))
    conn.execute(delete(_facts))


def get_state(conn: Any, name: str) -> str | None:
    return conn.execute(select(_state.c.value).where(_state.c.name == name)).scalar()


def set_state(conn: Any, name: str, value: str) -> None:
    if get_state(conn, name) is None:
        conn.execute(insert(_state).values(name=name, value=value, updated_at=utcnow()))
    else:
        conn.execute(
            update(_state).where(_state.c.name == name).values(value=value, updated_at=utcnow())
        )


def save_stock_days(conn: Any, rows: list[dict[str, Any]]) -> int:
    """Upsert end-of-day on-hand rows (day, sku, warehouse, on_hand). Returns rows written."""
    if not rows:
        return 0
    days = sorted({r["day"] for r in rows})
    known = {
        (r.day, r.sku, r.warehouse)
        for r in conn.execute(
            select(_stock.c.day, _stock.c.sku, _stock.c.warehouse).where(
                _stock.c.day.between(days[0], days[-1])
            )
        )
    }
    fresh = [r for r in rows if (r["day"], r["sku"], r["warehouse"]) not in known]
    if fresh:
        conn.execute(insert(_stock), fresh)
    for r in rows:
        if (r["day"], r["sku"], r["warehouse"]) in known:
            conn.execute(
                update(_stock)
                .where(
                    _stock.c.day == r["day"],
                    _stock.c.sku == r["sku"],
                    _stock.c.warehouse == r["warehouse"],
                )
                .values(on_hand=r["on_hand"])
            )
    return len(rows)


def stock_by_day(conn: Any, since: date, until: date) -> dict[str, dict[date, int]]:
    """SKU -> day -> on-hand summed over warehouses, for the days in [since, until]."""
    out: dict[str, dict[date, int]] = {}
    rows = conn.execute(
        select(_stock.c.sku, _stock.c.day, _stock.c.on_hand).where(
            _stock.c.day.between(since, until)
        )
    )
    for sku, day, on_hand in rows:
        per_day = out.setdefault(sku, {})
        per_day[day] = per_day.get(day, 0) + on_hand
    return out


def last_stock_before(conn: Any, day: date) -> dict[str, tuple[date, int]]:
    """Each SKU's latest recorded on-hand (summed over warehouses) on or before `day`."""

    latest = (
        select(_stock.c.sku, func.max(_stock.c.day).label("day"))
        .where(_stock.c.day <= day)
        .group_by(_stock.c.sku)
        .subquery()
    )
    rows = conn.execute(
        select(_stock.c.sku, _stock.c.day, func.sum(_stock.c.on_hand))
        .join(latest, (latest.c.sku == _stock.c.sku) & (latest.c.day == _stock.c.day))
        .group_by(_stock.c.sku, _stock.c.day)
    )
    return {sku: (d, int(total)) for sku, d, total in rows}
