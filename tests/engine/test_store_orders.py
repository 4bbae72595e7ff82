"""Orders in the store: upsert by (channel, order id), change detection, keys, cursors."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from engine.order import Order
from engine.store import Store
from engine.store import orders as order_store
from engine.store.models import OrderRow, utcnow


def order(**overrides: object) -> Order:
    data = {
        "channel": "youzan",
        "order_id": "YZ1",
        "created_at": "2026-01-10T10:00:00+08:00",
        "paid_at": "2026-01-10T10:01:00+08:00",
        "updated_at": "2026-01-10T10:05:00+08:00",
        "status": "paid",
        "receiver": {"phone": "13812345678", "province": "上海市", "address": "路1号"},
        "items": [{"sku": "LIP-001", "qty": 1, "price": "129.00"}],
        "amount": "129.00",
    }
    data.update(overrides)
    return Order.model_validate(data)


def upsert(store: Store, *orders: Order) -> list[order_store.StoredOrder]:
    with store.engine.begin() as conn:
        return order_store.upsert_orders(conn, [(o, {"raw": o.order_id}) for o in orders])


def test_the_echo_of_our_own_upload_is_not_a_change() -> None:
    assert order_store.content_hash(order(status="shipped")) == order_store.content_hash(order())
    assert order_store.content_hash(
        order(updated_at="2026-01-11T00:00:00+08:00")
    ) == order_store.content_hash(order())
    assert order_store.content_hash(order(status="cancelled")) != order_store.content_hash(order())


def test_upsert_never_duplicates_and_detects_changes(store: Store) -> None:
    (first,) = upsert(store, order())
    assert first.changed
    (again,) = upsert(store, order())
    assert (again.id, again.changed) == (first.id, False)
    moved = order(
        updated_at="2026-01-10T11:00:00+08:00",
        receiver={"phone": "13812345678", "province": "上海市", "address": "路2号"},
    )
    (changed,) = upsert(store, moved)
    assert (changed.id, changed.changed) == (first.id, True)
    assert upsert(store, order()) == []  # an older copy from an overlapping pull is ignored
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == 1
        row = session.scalars(select(OrderRow)).one()
        assert row.canonical["receiver"]["address"] == "路2号"
        assert row.raw == {"raw": "YZ1"}


def test_the_same_order_twice_in_one_page_is_stored_once(store: Store) -> None:
    stored = upsert(store, order(), order(updated_at="2026-01-10T12:00:00+08:00"))
    assert len(stored) == 1
    with store.session() as session:
        row = session.scalars(select(OrderRow)).one()
        assert row.updated_at == datetime(2026, 1, 10, 4, 0)  # naive UTC


def test_find_earlier_respects_window_eligibility_and_ties(store: Store) -> None:
    base = datetime(2026, 1, 10, 2, 0)
    rows = upsert(
        store,
        order(order_id="A", created_at="2026-01-10T09:00:00+08:00"),  # 60 min before
        order(order_id="B", created_at="2026-01-10T08:59:00+08:00"),  # 61 min before
        order(order_id="C", created_at="2026-01-10T10:00:00+08:00"),  # same second, sorts first
        order(order_id="D", created_at="2026-01-10T10:00:00+08:00"),  # the order asking
        order(order_id="E", created_at="2026-01-10T09:30:00+08:00"),  # not eligible
    )
    ids = {s.order.order_id: s.id for s in rows}
    with store.engine.begin() as conn:
        order_store.save_keys(
            conn,
            [
                {
                    "order_pk": ids[name],
                    "scope": "s",
                    "key": "k",
                    "eligible": name != "E",
                    "created_at": s.order.created_at.astimezone(UTC).replace(tzinfo=None),
                }
                for s in rows
                for name in [s.order.order_id]
            ],
        )
        asking = {"id": ids["D"], "channel": "youzan", "order_id": "D", "created_at": base}
        window = timedelta(minutes=60)
        assert order_store.find_earlier(conn, "s", "k", asking, window) == ("youzan", "C")
        asking_c = {**asking, "id": ids["C"], "order_id": "C"}
        assert order_store.find_earlier(conn, "s", "k", asking_c, window) == ("youzan", "A")
        assert order_store.find_earlier(conn, "s", "other", asking, window) is None


def test_cursor_only_moves_forward(store: Store) -> None:
    late, early = datetime(2026, 1, 10, 12, tzinfo=UTC), datetime(2026, 1, 10, 6, tzinfo=UTC)
    with store.engine.begin() as conn:
        assert order_store.get_cursor(conn, "wf/pull/youzan") is None
        order_store.set_cursor(conn, "wf/pull/youzan", late)
        order_store.set_cursor(conn, "wf/pull/youzan", early)
        assert order_store.get_cursor(conn, "wf/pull/youzan") == datetime(2026, 1, 10, 12)


def test_upserts_of_the_same_orders_at_once_never_collide(store: Store) -> None:
    """Two processes pulling the same orders at the same moment (issue 7, item 6): each sees
    none of them, both insert; the second must neither fail on the unique key nor start a
    second run — exactly one of them reports each order as new."""
    threads, rounds, size = 4, 5, 40
    for round_ in range(rounds):
        batch = [order(order_id=f"YZ{round_}-{n}") for n in range(size)]
        barrier = threading.Barrier(threads)

        def pull(batch: list[Order] = batch, barrier: threading.Barrier = barrier) -> list:
            barrier.wait()
            return upsert(store, *batch)

        with ThreadPoolExecutor(threads) as pool:
            results = [f.result() for f in [pool.submit(pull) for _ in range(threads)]]
        for stored in results:
            assert sorted(s.order.order_id for s in stored) == sorted(o.order_id for o in batch)
        ids = {s.order.order_id: s.id for s in results[0]}
        for stored in results[1:]:
            assert {s.order.order_id: s.id for s in stored} == ids
        new = Counter(s.order.order_id for stored in results for s in stored if s.changed)
        assert new == {o.order_id: 1 for o in batch}
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(OrderRow)) == rounds * size


def test_an_update_never_overwrites_a_newer_copy(store: Store) -> None:
    upsert(store, order())
    newer = order(updated_at="2026-01-10T12:00:00+08:00", status="cancelled")
    older = order(updated_at="2026-01-10T11:00:00+08:00", status="unpaid")
    with store.engine.begin() as conn:  # a process read the row before the newer copy landed
        known = order_store._known(conn, [("youzan", "YZ1")])
    upsert(store, newer)
    with store.engine.begin() as conn:
        order_store._update_known(conn, {("youzan", "YZ1"): (older, {})}, known, utcnow())
    with store.session() as session:
        assert session.scalars(select(OrderRow)).one().platform_status == "cancelled"
