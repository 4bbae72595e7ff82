"""Outbound bills consume reservations: once, only ours, never below zero, cursor alongside."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from engine.store import Store
from engine.store import outbound as outbound_store
from engine.store import stock as stock_store
from engine.store.models import InventoryRow, StockMove
from engine.store.orders import get_cursor
from tests.engine.test_store_stock import add_orders, set_stock

APPROVED = datetime(2026, 1, 10, 18, 30, tzinfo=UTC)


def line(order: str, sku: str = "A", warehouse: str = "east", minutes: int = 0) -> dict:
    return {
        "bill_no": f"XSCKD-{order}",
        "order_ref": order,
        "sku": sku,
        "warehouse": warehouse,
        "qty": 1,
        "approved_at": APPROVED + timedelta(minutes=minutes),
    }


def reserved_store(store: Store, orders: int = 2, qty: int = 2) -> list[int]:
    """`orders` h5 orders H0, H1, … each holding `qty` of A@east (on hand 10)."""
    pks = add_orders(store, orders)
    set_stock(store, [{"sku": "A", "warehouse": "east", "on_hand": 10}])
    with store.session() as session, session.begin():
        for pk in pks:
            assert stock_store.reserve(session, pk, "east", {"A": qty}, None) is not None
    return pks


def consume(store: Store, lines: list[dict]) -> outbound_store.Consumed:
    with store.engine.begin() as conn:
        return outbound_store.consume(conn, lines)


def reserved(store: Store) -> int:
    with store.session() as session:
        return session.get(InventoryRow, ("A", "east")).reserved


def consume_moves(store: Store) -> int:
    with store.session() as session:
        count = select(func.count()).select_from(StockMove).where(StockMove.kind == "consume")
        return session.scalar(count)


def test_a_bill_line_consumes_the_whole_reservation(store: Store) -> None:
    reserved_store(store, qty=3)
    done = consume(store, [line("h5:H0")])  # the line's qty (1) does not matter
    assert (done.consumed, done.repeated, done.ignored) == (1, 0, [])
    assert reserved(store) == 3  # H1's
    with store.session() as session:
        move = session.scalars(select(StockMove).where(StockMove.kind == "consume")).one()
        assert (move.sku, move.warehouse, move.qty) == ("A", "east", 3)


def test_twice_is_once(store: Store) -> None:
    reserved_store(store)
    first = consume(store, [line("h5:H0"), line("h5:H0", minutes=1)])  # two bills, one order
    again = consume(store, [line("h5:H0")])
    assert (first.consumed, first.repeated) == (1, 1)
    assert (again.consumed, again.repeated) == (0, 1)
    assert reserved(store) == 2
    assert consume_moves(store) == 1


def test_unknown_or_unreserved_lines_are_ignored(store: Store) -> None:
    reserved_store(store)
    lines = [
        line("h5:NOPE"),  # an order orderhub does not know
        line("youzan:H0"),  # the same order id in another channel
        line("H0"),  # not a ref at all
        line("h5:H0", sku="B"),  # a SKU it did not reserve
        line("h5:H0", warehouse="south"),  # shipped from another warehouse
    ]
    done = consume(store, lines)
    assert (done.consumed, len(done.ignored)) == (0, 5)
    assert done.ignored[0] == "XSCKD-h5:NOPE h5:NOPE A@east"
    assert reserved(store) == 4
    assert consume_moves(store) == 0


def test_reserved_never_goes_below_zero(store: Store) -> None:
    reserved_store(store, orders=1, qty=4)
    with store.engine.begin() as conn:  # the counter drifted below the ledger (a manual fix)
        conn.execute(update(InventoryRow).values(reserved=1))
    assert consume(store, [line("h5:H0")]).consumed == 1
    assert reserved(store) == 0


def test_cursor_moves_with_the_batch_and_the_fetch_starts_before_it(store: Store) -> None:
    with store.engine.connect() as conn:
        assert outbound_store.outbound_since(conn) is None  # nothing reserved: nothing to fetch
    reserved_store(store)
    with store.engine.connect() as conn:
        oldest = conn.execute(select(func.min(StockMove.created_at))).scalar()
        assert outbound_store.outbound_since(conn) == oldest - outbound_store.OVERLAP
    consume(store, [line("h5:H0", minutes=5), line("h5:NOPE", minutes=7), line("h5:H1")])
    with store.engine.connect() as conn:
        cursor = get_cursor(conn, outbound_store.CURSOR)
        assert cursor == datetime(2026, 1, 10, 18, 37)  # naive UTC, the latest approve date
        assert outbound_store.outbound_since(conn) == cursor - outbound_store.OVERLAP
    consume(store, [line("h5:H0", minutes=-60)])  # an old line read again: cursor stays
    with store.engine.connect() as conn:
        assert get_cursor(conn, outbound_store.CURSOR) == cursor


def test_concurrent_consumers_consume_once(store: Store) -> None:
    reserved_store(store, orders=8, qty=1)
    lines = [line(f"h5:H{i}") for i in range(8)]
    barrier = threading.Barrier(4)
    totals: list[int] = []

    def worker() -> None:
        barrier.wait()
        totals.append(consume(store, lines).consumed)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(totals) == 8
    assert reserved(store) == 0
    assert consume_moves(store) == 8


def test_a_reservation_is_released_or_consumed_never_both(store: Store) -> None:
    """A cancelled order gives its reservation back; a bill for it later takes nothing more
    (and the other way round), so `reserved` never drops twice for one order."""
    pks = reserved_store(store, qty=2)  # H0 and H1 hold 2 each: reserved 4
    with store.engine.begin() as conn:
        assert outbound_store.release(conn, pks[0], None) == {"A@east": 2}
        assert outbound_store.release(conn, pks[0], None) == {}  # twice is once
    assert reserved(store) == 2
    late = consume(store, [line("h5:H0")])  # the bill of an order already given back
    assert (late.consumed, late.repeated) == (0, 1) and reserved(store) == 2
    assert consume(store, [line("h5:H1")]).consumed == 1
    with store.engine.begin() as conn:
        assert outbound_store.release(conn, pks[1], None) == {}  # shipped: nothing to give
    assert reserved(store) == 0
