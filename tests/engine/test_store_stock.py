"""The reservation ledger: all lines or none, once per order, never below zero."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select

from engine.store import Store
from engine.store import stock as stock_store
from engine.store.models import Alert, InventoryRow, OrderRow, OutboxMessage, StockMove


def add_orders(store: Store, count: int) -> list[int]:
    now = datetime(2026, 1, 10, 2, 0)
    with store.session() as session, session.begin():
        rows = [
            OrderRow(
                channel="h5",
                order_id=f"H{i}",
                created_at=now,
                updated_at=now,
                platform_status="paid",
                content_hash="x",
                canonical={},
                raw={},
            )
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def set_stock(store: Store, rows: list[dict]) -> None:
    with store.session() as session, session.begin():
        stock_store.sync_inventory(session, rows)


def test_reserves_all_lines_or_none(store: Store) -> None:
    (order,) = add_orders(store, 1)
    set_stock(
        store,
        [
            {"sku": "A", "warehouse": "east", "on_hand": 5},
            {"sku": "B", "warehouse": "east", "on_hand": 1},
        ],
    )
    with store.session() as session, session.begin():
        assert stock_store.reserve(session, order, "east", {"A": 2, "B": 2}, None) is None
    with store.session() as session:
        reserved = dict(session.execute(select(InventoryRow.sku, InventoryRow.reserved)).all())
        assert reserved == {"A": 0, "B": 0}
        assert session.scalar(select(func.count()).select_from(StockMove)) == 0


def test_reservation_happens_once_per_order(store: Store) -> None:
    (order,) = add_orders(store, 1)
    set_stock(store, [{"sku": "A", "warehouse": "east", "on_hand": 5}])
    for _ in range(3):
        with store.session() as session, session.begin():
            assert stock_store.reserve(session, order, "east", {"A": 2}, None) == {"A": 3}
    with store.session() as session:
        assert session.get(InventoryRow, ("A", "east")).reserved == 2


def test_sync_keeps_reservations(store: Store) -> None:
    (order,) = add_orders(store, 1)
    set_stock(store, [{"sku": "A", "warehouse": "east", "on_hand": 5}])
    with store.session() as session, session.begin():
        stock_store.reserve(session, order, "east", {"A": 4}, None)
    set_stock(store, [{"sku": "A", "warehouse": "east", "on_hand": 7}])
    with store.session() as session:
        row = session.get(InventoryRow, ("A", "east"))
        assert (row.on_hand, row.reserved) == (7, 4)


def test_concurrent_reservations_never_oversell(store: Store) -> None:
    orders = add_orders(store, 40)
    set_stock(store, [{"sku": "A", "warehouse": "east", "on_hand": 25}])
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker(chunk: list[int]) -> None:
        barrier.wait()
        for order in chunk:
            with store.session() as session, session.begin():
                results.append(
                    stock_store.reserve(session, order, "east", {"A": 1}, None) is not None
                )

    threads = [threading.Thread(target=worker, args=(orders[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 25
    with store.session() as session:
        row = session.get(InventoryRow, ("A", "east"))
        assert (row.on_hand, row.reserved) == (25, 25)
        assert session.scalar(select(func.count()).select_from(StockMove)) == 25


def test_alert_raised_once_per_subject(store: Store) -> None:
    with store.session() as session, session.begin():
        assert stock_store.raise_alert(session, "purchase", "A@east", "low", None) is True
        assert stock_store.raise_alert(session, "purchase", "A@east", "low", None) is False
        assert stock_store.raise_alert(session, "purchase", "B@east", "low", None) is True
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 2
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
