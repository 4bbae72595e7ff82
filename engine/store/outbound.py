"""Reservations consumed by the ERP's sales outbound bills: once shipped, counted once.

orderhub's availability is ``on_hand - reserved``: on-hand as the ERP last reported it, and
what orderhub itself reserved. When the warehouse ships an order, the ERP books a sales
outbound bill and its on-hand drops by the shipped quantity; from then on the reservation
must go, or the order is counted twice (in the lower on-hand and in `reserved`). `consume`
records a ``consume`` move per (order, SKU, warehouse) that holds a ``reserve`` move — the
ledger's unique (order, sku, warehouse, kind) makes it happen once, under any concurrency —
and lowers `inventory.reserved` by the reserved quantity, never below zero.

Why outbound bills are fetched *before* on-hand, and consumed only together with an on-hand
sync fetched after them (one transaction: moves, `reserved`, on-hand, cursor):

- a bill booked between the two fetches is in the new on-hand but not in the bills read:
  its order is counted twice for one trigger (available understated, an order may wait),
  and the next trigger reads the bill (the cursor is not past it) and consumes it;
- the other order (on-hand first) would read such a bill and release its reservation while
  the on-hand still holds the goods: counted zero times, available overstated — oversold;
- for the same reason nothing is consumed when the on-hand fetch fails (the cached on-hand
  predates the bills): the cursor stays and the next trigger reads the bills again.

The cursor (``erp/outbound``) is the latest approve date read; each fetch starts `OVERLAP`
before it, so a bill that becomes visible up to `OVERLAP` after its approve date is still
read (one later still is missed: its reservation stays held, the safe side); bills read
twice are consumed once. Before any cursor, the fetch starts at the oldest reservation
(nothing older can consume one) and is skipped while nothing is reserved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update

from engine.store.models import InventoryRow, OrderRow, StockMove, utc, utcnow
from engine.store.orders import get_cursor, set_cursor
from engine.store.stock import insert_ignore

CURSOR = "erp/outbound"
OVERLAP = timedelta(minutes=10)
CHUNK = 500

_inventory = InventoryRow.__table__
_moves = StockMove.__table__
_orders = OrderRow.__table__


@dataclass
class Consumed:
    """What one batch of outbound bill lines did to the ledger."""

    consumed: int = 0  # consume moves written (reservations released)
    repeated: int = 0  # lines whose reservation was consumed before (or twice in the batch)
    ignored: list[str] = field(default_factory=list)  # lines of no reservation of ours


def outbound_since(conn: Any) -> datetime | None:
    """Where the next outbound fetch starts (naive UTC); None: nothing to fetch."""
    start = get_cursor(conn, CURSOR)
    if start is None:
        oldest = select(func.min(_moves.c.created_at)).where(_moves.c.kind == "reserve")
        start = conn.execute(oldest).scalar()
    return None if start is None else start - OVERLAP


def consume(conn: Any, lines: list[dict[str, Any]]) -> Consumed:
    """Consume the reservations the outbound bill `lines` ship, and move the cursor.

    A line is ``{"bill_no", "order_ref" ("channel:order_id"), "sku", "warehouse", "qty",
    "approved_at"}``; it consumes the whole reservation of its order's SKU@warehouse (the
    quantity reserved, not the quantity on the line). A line for an order orderhub does not
    know, or did not reserve that SKU@warehouse for, is ignored and listed in `ignored`.
    """
    result = Consumed()
    pks = _order_pks(conn, {line["order_ref"] for line in lines})
    reserved = _reservations(conn, set(pks.values()))
    now = utcnow()
    for line in lines:
        key = (pks.get(line["order_ref"]), line["sku"], line["warehouse"])
        qty = reserved.get(key)
        if qty is None:
            result.ignored.append(f"{line['bill_no']} {line['order_ref']} {key[1]}@{key[2]}")
        elif _consume_one(conn, key, qty, now):
            result.consumed += 1
        else:
            result.repeated += 1
    if lines:
        set_cursor(conn, CURSOR, max(utc(line["approved_at"]) for line in lines))
    return result


def _consume_one(conn: Any, key: tuple[Any, str, str], qty: int, now: datetime) -> bool:
    return settle(conn, key, qty, "consume", None, now)


def settle(
    conn: Any,
    key: tuple[Any, str, str],
    qty: int,
    kind: str,
    run_id: int | None,
    now: datetime | None = None,
) -> bool:
    """End one reservation (order, sku, warehouse) once: `consume` (shipped: the ERP's
    on-hand now lacks it) or `release` (cancelled: the goods stay). A `settle` move, unique
    like every move, decides which comes first under any concurrency; the other is a no-op.
    Lowers `inventory.reserved` by `qty`, never below zero. True when this call settled it.
    """
    order_pk, sku, warehouse = key
    move = {
        "order_pk": order_pk,
        "sku": sku,
        "warehouse": warehouse,
        "qty": qty,
        "run_id": run_id,
        "created_at": now or utcnow(),
    }
    if not insert_ignore(conn, StockMove, {**move, "kind": "settle"}):
        return False
    insert_ignore(conn, StockMove, {**move, "kind": kind})
    conn.execute(
        update(_inventory)
        .where(_inventory.c.sku == sku, _inventory.c.warehouse == warehouse)
        .values(
            reserved=case(
                (_inventory.c.reserved >= qty, _inventory.c.reserved - qty),
                else_=0,
            )
        )
    )
    return True


def release(conn: Any, order_pk: int, run_id: int | None) -> dict[str, int]:
    """Give back every reservation of a cancelled order not yet consumed or released:
    SKU@warehouse -> quantity released."""
    released = {}
    for key, qty in _reservations(conn, {order_pk}).items():
        if settle(conn, key, qty, "release", run_id):
            released[f"{key[1]}@{key[2]}"] = qty
    return released


def _order_pks(conn: Any, refs: set[str]) -> dict[str, int]:
    """The store id of each ``channel:order_id`` ref orderhub holds."""
    wanted: dict[str, set[str]] = {}
    for ref in refs:
        channel, _, order_id = ref.partition(":")
        if order_id:
            wanted.setdefault(order_id, set()).add(channel)
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(wanted)):
        rows = conn.execute(
            select(_orders.c.id, _orders.c.channel, _orders.c.order_id).where(
                _orders.c.order_id.in_(chunk)
            )
        )
        for pk, channel, order_id in rows:
            if channel in wanted[order_id]:
                found[f"{channel}:{order_id}"] = pk
    return found


def _reservations(conn: Any, order_pks: set[int]) -> dict[tuple[int, str, str], int]:
    """(order, sku, warehouse) -> quantity of every reserve move of these orders."""
    found: dict[tuple[int, str, str], int] = {}
    for chunk in _chunks(sorted(order_pks)):
        rows = conn.execute(
            select(_moves.c.order_pk, _moves.c.sku, _moves.c.warehouse, _moves.c.qty).where(
                _moves.c.order_pk.in_(chunk), _moves.c.kind == "reserve"
            )
        )
        for order_pk, sku, warehouse, qty in rows:
            found[(order_pk, sku, warehouse)] = qty
    return found


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
