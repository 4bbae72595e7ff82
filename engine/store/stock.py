"""Stock in the store: ERP sync, the reservation ledger, once-only alerts, queues, outbox.

Availability is checked by one conditional UPDATE per line, so concurrent runs (threads,
processes or machines) never reserve below zero; the ledger's unique (order, sku, warehouse,
kind) makes a reservation happen once. Every function takes a connection (or a session) and
leaves committing to the caller.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.store import outbox as outbox_store
from engine.store.models import (
    Alert,
    CatalogueItem,
    InventoryRow,
    QueueItem,
    StockMove,
    utcnow,
)
from engine.store.prepared import Prepared, run

_inventory = InventoryRow.__table__
_moves = StockMove.__table__
_catalogue = CatalogueItem.__table__
_queue = QueueItem.__table__


def sync_inventory(conn: Any, rows: list[dict[str, Any]]) -> int:
    """Set on-hand quantities from the ERP; reservations are kept. Returns rows written."""
    known = {
        (r.sku, r.warehouse) for r in conn.execute(select(_inventory.c.sku, _inventory.c.warehouse))
    }
    now = utcnow()
    new = [
        {
            "sku": r["sku"],
            "warehouse": r["warehouse"],
            "on_hand": int(r["on_hand"]),
            "reserved": 0,
            "synced_at": now,
        }
        for r in rows
        if (r["sku"], r["warehouse"]) not in known
    ]
    if new:
        conn.execute(insert(_inventory), new)
    for r in rows:
        if (r["sku"], r["warehouse"]) in known:
            conn.execute(
                update(_inventory)
                .where(_inventory.c.sku == r["sku"], _inventory.c.warehouse == r["warehouse"])
                .values(on_hand=int(r["on_hand"]), synced_at=now)
            )
    return len(rows)


def sync_catalogue(conn: Any, rows: list[dict[str, Any]]) -> int:
    """Upsert the ERP's materials into the catalogue. Returns rows written."""
    known = set(conn.execute(select(_catalogue.c.sku)).scalars())
    now = utcnow()
    for r in rows:
        values = {"title": r.get("title", ""), "price": str(r.get("price", "0")), "synced_at": now}
        if r["sku"] in known:
            conn.execute(update(_catalogue).where(_catalogue.c.sku == r["sku"]).values(**values))
        else:
            conn.execute(insert(_catalogue).values(sku=r["sku"], **values))
            known.add(r["sku"])
    return len(rows)


def catalogue_skus(conn: Any) -> frozenset[str]:
    return frozenset(conn.execute(select(_catalogue.c.sku)).scalars())


def reserve(
    conn: Any, order_pk: int, warehouse: str, lines: dict[str, int], run_id: int | None
) -> dict[str, int] | None:
    """Reserve every line or none. Returns each SKU's availability after it, None when short.

    A second call for the same order returns the availability without reserving again.
    """
    done = [row["sku"] for row in run(conn, _RESERVED, {"order_pk": order_pk})]
    if done:
        return {sku: _available(conn, sku, warehouse) for sku in done}
    after: dict[str, int] = {}
    for sku, qty in lines.items():
        taken = run(conn, _TAKE, {"b_sku": sku, "b_warehouse": warehouse, "qty": qty})
        if not taken:
            for back in after:
                run(conn, _GIVE_BACK, {"b_sku": back, "b_warehouse": warehouse, "qty": lines[back]})
            return None
        after[sku] = taken[0]["left"]
    now = utcnow()
    for sku, qty in lines.items():
        run(
            conn,
            _MOVE,
            {
                "order_pk": order_pk,
                "sku": sku,
                "warehouse": warehouse,
                "kind": "reserve",
                "qty": qty,
                "run_id": run_id,
                "created_at": now,
            },
        )
    return after


_RESERVED = Prepared(
    select(_moves.c.sku).where(
        _moves.c.order_pk == bindparam("order_pk"), _moves.c.kind == "reserve"
    )
)
_MOVE = Prepared(
    insert(_moves).values(
        {
            c: bindparam(c)
            for c in ("order_pk", "sku", "warehouse", "kind", "qty", "run_id", "created_at")
        }
    )
)
_SAME_ROW = (
    _inventory.c.sku == bindparam("b_sku"),
    _inventory.c.warehouse == bindparam("b_warehouse"),
)
_LEFT = (_inventory.c.on_hand - _inventory.c.reserved).label("left")
_TAKE = Prepared(
    update(_inventory)
    .where(*_SAME_ROW, _inventory.c.on_hand - _inventory.c.reserved >= bindparam("qty"))
    .values(reserved=_inventory.c.reserved + bindparam("qty"))
    .returning(_LEFT)
)
_GIVE_BACK = Prepared(
    update(_inventory).where(*_SAME_ROW).values(reserved=_inventory.c.reserved - bindparam("qty"))
)
_AVAILABLE = Prepared(select(_LEFT).where(*_SAME_ROW))


def raise_alert(conn: Any, kind: str, subject: str, message: str, run_id: int | None) -> bool:
    """Record an alert once per (kind, subject); True when this call raised it."""
    return _insert_ignore(
        conn,
        Alert,
        {
            "kind": kind,
            "subject": subject,
            "message": message,
            "run_id": run_id,
            "created_at": utcnow(),
        },
    )


def enqueue(
    conn: Any, queue: str, order_pk: int, run_id: int | None, reason: str, detail: dict[str, Any]
) -> None:
    """Put an order in a named queue (or refresh its entry there)."""
    values = {"run_id": run_id, "reason": reason, "detail": detail, "status": "open"}
    found = conn.execute(
        update(_queue)
        .where(_queue.c.queue == queue, _queue.c.order_pk == order_pk)
        .values(**values)
    ).rowcount
    if not found:
        conn.execute(
            insert(_queue).values(queue=queue, order_pk=order_pk, created_at=utcnow(), **values)
        )


def close_items(conn: Any, order_pk: int, status: str) -> int:
    """Close every open queue item of an order with `status`; how many were open."""
    return conn.execute(
        update(_queue)
        .where(_queue.c.order_pk == order_pk, _queue.c.status == "open")
        .values(status=status)
    ).rowcount


def close_unreadable(conn: Any, order_pks: list[int]) -> None:
    """The exceptions-queue items of orders that were unreadable and now are not: resolved
    by the platform's newer copy (an unreadable order's item has no run)."""
    if order_pks:
        conn.execute(
            update(_queue)
            .where(
                _queue.c.order_pk.in_(order_pks),
                _queue.c.queue == "exceptions",
                _queue.c.run_id.is_(None),
                _queue.c.status == "open",
            )
            .values(status="resolved")
        )


def add_outbox(conn: Any, target: str, payload: dict[str, Any]) -> None:
    """Queue a notification in the caller's transaction (see `engine.store.outbox`)."""
    outbox_store.add(conn, target, payload)


def insert_ignore(conn: Any, model: type, values: dict[str, Any]) -> bool:
    """Insert a row unless it breaks a unique constraint; True when it was inserted."""
    return _insert_ignore(conn, model, values)


def available(conn: Any, sku: str, warehouse: str) -> int:
    """What is left to reserve of a SKU in a warehouse (0 when the ERP never reported it)."""
    return _available(conn, sku, warehouse)


def _available(conn: Any, sku: str, warehouse: str) -> int:
    rows = run(conn, _AVAILABLE, {"b_sku": sku, "b_warehouse": warehouse})
    return rows[0]["left"] if rows else 0


_IGNORING: dict[tuple[str, str, tuple[str, ...]], Prepared] = {}


def _insert_ignore(conn: Any, model: type, values: dict[str, Any]) -> bool:
    dialect = conn.get_bind().dialect.name if hasattr(conn, "get_bind") else conn.dialect.name
    table = model.__table__
    cache_key = (dialect, table.name, tuple(values))
    statement = _IGNORING.get(cache_key)
    if statement is None:
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        pk = list(table.primary_key.columns)[0]
        statement = Prepared(
            insert_(table)
            .values({c: bindparam(c) for c in values})
            .on_conflict_do_nothing()
            .returning(pk)
        )
        _IGNORING[cache_key] = statement
    return bool(run(conn, statement, values))
