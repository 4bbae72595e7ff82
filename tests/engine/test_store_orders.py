"""Orders in the store: upsert by (channel, order id), change detection, keys, cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from engine.order import Order
from engine.store import Store
from engine.store import orders as order_store
from engine.store.models import OrderRow


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
