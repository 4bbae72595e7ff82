"""Stock in the store: ERP sync, the reservation ledger, once-only alerts, queues, outbox.

Availability is checked by one conditional UPDATE per line, so concurrent runs (threads,
processes or machines) never reserve below zero; the ledger's unique (order, sku, warehouse,
kind) makes a reservation happen once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.store.models import (
    Alert,
    CatalogueItem,
    InventoryRow,
    OutboxMessage,
    QueueItem,
    StockMove,
    utcnow,
)


def sync_inventory(session: Session, rows: list[dict[str, Any]]) -> int:
    """Set on-hand quantities from the ERP; reservations are kept. Returns rows written."""
    known = {(r.sku, r.warehouse): r for r in session.scalars(select(InventoryRow))}
    now = utcnow()
    for item in rows:
        row = known.get((item["sku"], item["warehouse"]))
        if row is None:
            row = InventoryRow(sku=item["sku"], warehouse=item["warehouse"], reserved=0)
            session.add(row)
        row.on_hand = int(item["on_hand"])
        row.synced_at = now
    return len(rows)


def sync_catalogue(session: Session, rows: list[dict[str, Any]]) -> int:
    """Upsert the ERP's materials into the catalogue. Returns rows written."""
    known = {r.sku: r for r in session.scalars(select(CatalogueItem))}
    now = utcnow()
    for item in rows:
        row = known.get(item["sku"]) or CatalogueItem(sku=item["sku"])
        if row.sku not in known:
            session.add(row)
        row.title = item.get("title", "")
        row.price = str(item.get("price", "0"))
        row.synced_at = now
    return len(rows)


def catalogue_skus(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(CatalogueItem.sku)))


def reserve(
    session: Session, order_pk: int, warehouse: str, lines: dict[str, int], run_id: int | None
) -> dict[str, int] | None:
    """Reserve every line or none. Returns each SKU's availability after it, None when short.

    A second call for the same order returns the availability without reserving again.
    """
    done = session.scalars(
        select(StockMove).where(StockMove.order_pk == order_pk, StockMove.kind == "reserve")
    ).all()
    if done:
        return {move.sku: _available(session, move.sku, warehouse) for move in done}
    after: dict[str, int] = {}
    for sku, qty in lines.items():
        left = session.execute(
            update(InventoryRow)
            .where(
                InventoryRow.sku == sku,
                InventoryRow.warehouse == warehouse,
                InventoryRow.on_hand - InventoryRow.reserved >= qty,
            )
            .values(reserved=InventoryRow.reserved + qty)
            .returning(InventoryRow.on_hand - InventoryRow.reserved)
        ).scalar()
        if left is None:
            _undo(session, warehouse, {s: lines[s] for s in after})
            return None
        after[sku] = left
    session.add_all(
        StockMove(
            order_pk=order_pk, sku=sku, warehouse=warehouse, kind="reserve", qty=qty, run_id=run_id
        )
        for sku, qty in lines.items()
    )
    return after


def raise_alert(
    session: Session, kind: str, subject: str, message: str, run_id: int | None
) -> bool:
    """Record an alert once per (kind, subject); True when this call raised it."""
    return _insert_ignore(
        session,
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
    session: Session,
    queue: str,
    order_pk: int,
    run_id: int | None,
    reason: str,
    detail: dict[str, Any],
) -> None:
    """Put an order in a named queue (or refresh its entry there)."""
    item = session.scalars(
        select(QueueItem).where(QueueItem.queue == queue, QueueItem.order_pk == order_pk)
    ).first()
    if item is None:
        item = QueueItem(queue=queue, order_pk=order_pk)
        session.add(item)
    item.run_id, item.reason, item.detail, item.status = run_id, reason, detail, "open"


def add_outbox(session: Session, target: str, payload: dict[str, Any]) -> None:
    session.add(OutboxMessage(target=target, payload=payload, status="pending"))


def _available(session: Session, sku: str, warehouse: str) -> int:
    row = session.get(InventoryRow, (sku, warehouse))
    return row.on_hand - row.reserved if row else 0


def _undo(session: Session, warehouse: str, lines: dict[str, int]) -> None:
    for sku, qty in lines.items():
        session.execute(
            update(InventoryRow)
            .where(InventoryRow.sku == sku, InventoryRow.warehouse == warehouse)
            .values(reserved=InventoryRow.reserved - qty)
        )


def _insert_ignore(session: Session, model: type, values: dict[str, Any]) -> bool:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(model.id)
    return session.execute(statement).scalar() is not None
