"""Orders in the store: upsert by (channel, order_id), lookup keys, cursors, runs to start.

Every function takes a connection and leaves committing to the caller; ingest wraps one page
of orders, their keys, their runs and the source's cursor in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, tuple_, update

from engine.order import Order
from engine.store.db import insert_for
from engine.store.models import Cursor, OrderKey, OrderRow, RunRow, utc, utcnow
from engine.store.prepared import Prepared, run

_orders = OrderRow.__table__
_keys = OrderKey.__table__
_cursors = Cursor.__table__

#: platform statuses that mean the same to the rules (we shipped it ourselves)
_SAME_AS_PAID = {"shipped": "paid"}


@dataclass
class StoredOrder:
    """What ingest needs of an upserted order: its id, key fields and whether it changed."""

    id: int
    order: Order
    content_hash: str
    changed: bool


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


def upsert_orders(conn: Any, pulled: Iterable[tuple[Order, dict]]) -> list[StoredOrder]:
    """Insert new orders and update known ones (never with an older copy).

    Safe against another process upserting the same orders at the same time: new rows go in
    with INSERT … ON CONFLICT DO NOTHING, and a row someone else inserted first is then
    treated as a known one; an update never overwrites a newer copy.
    """
    latest: dict[tuple[str, str], tuple[Order, dict]] = {}
    for order, raw in pulled:
        key = (order.channel, order.order_id)
        if key not in latest or order.updated_at >= latest[key][0].updated_at:
            latest[key] = (order, raw)
    if not latest:
        return []
    now = utcnow()
    stored, fresh = _update_known(conn, latest, _known(conn, list(latest)), now)
    if fresh:
        inserted = _insert_new(conn, [(latest[k][0], latest[k][1]) for k in fresh], now)
        stored.extend(inserted.values())
        raced = {k: latest[k] for k in fresh if k not in inserted}
        if raced:  # inserted by another process since we looked: update them instead
            stored.extend(_update_known(conn, raced, _known(conn, list(raced)), now)[0])
    return stored


def _known(conn: Any, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    rows = conn.execute(
        select(
            _orders.c.id,
            _orders.c.channel,
            _orders.c.order_id,
            _orders.c.updated_at,
            _orders.c.content_hash,
        ).where(_by_keys(keys))
    )
    return {(r.channel, r.order_id): r for r in rows}


def _update_known(
    conn: Any,
    latest: dict[tuple[str, str], tuple[Order, dict]],
    known: dict[tuple[str, str], Any],
    now: datetime,
) -> tuple[list[StoredOrder], list[tuple[str, str]]]:
    """Update the known orders `latest` has a copy at least as new of; the keys not known."""
    changed, stored, fresh = [], [], []
    for key, (order, raw) in latest.items():
        row = known.get(key)
        if row is None:
            fresh.append(key)
            continue
        if utc(order.updated_at) < row.updated_at:
            continue
        digest = content_hash(order)
        values = _values(order, raw, digest, now)
        changed.append({**values, "b_id": row.id, "b_updated_at": values["updated_at"]})
        stored.append(StoredOrder(row.id, order, digest, row.content_hash != digest))
    if changed:
        conn.execute(
            update(_orders).where(
                _orders.c.id == bindparam("b_id"),
                _orders.c.updated_at <= bindparam("b_updated_at"),  # a newer copy stays
            ),
            changed,
        )
    return stored, fresh


def _insert_new(
    conn: Any, orders: list[tuple[Order, dict]], now: datetime
) -> dict[tuple[str, str], StoredOrder]:
    """Insert orders nobody had; those someone inserted meanwhile are left out of the answer."""
    digests = {(o.channel, o.order_id): content_hash(o) for o, _ in orders}
    rows = conn.execute(
        insert_for(conn, _orders)
        .on_conflict_do_nothing(index_elements=["channel", "order_id"])
        .returning(_orders.c.id, _orders.c.channel, _orders.c.order_id),
        [
            {
                **_values(o, raw, digests[(o.channel, o.order_id)], now),
                "channel": o.channel,
                "order_id": o.order_id,
                "status": "new",
            }
            for o, raw in orders
        ],
    )
    ids = {(r.channel, r.order_id): r.id for r in rows}
    by_key = {(o.channel, o.order_id): o for o, _ in orders}
    return {key: StoredOrder(pk, by_key[key], digests[key], True) for key, pk in ids.items()}


def _by_keys(keys: list[tuple[str, str]]) -> Any:
    """WHERE (channel, order_id) is one of `keys`. Keys of one channel (a page, an import
    batch) become ``channel = c AND order_id IN (…)``: PostgreSQL plans a long row-value IN
    list as an OR of thousands of terms (seconds for 2,000 keys), an IN list on one column
    as one array lookup."""
    channels = {channel for channel, _ in keys}
    if len(channels) == 1:
        return and_(
            _orders.c.channel == next(iter(channels)),
            _orders.c.order_id.in_([order_id for _, order_id in keys]),
        )
    return tuple_(_orders.c.channel, _orders.c.order_id).in_(keys)


def made_here_unstarted(conn: Any) -> list[tuple[int, str, dict[str, Any]]]:
    """Orders orderhub made itself (an exchange's replacement, status ``new``, no platform
    record to pull) that no run has taken yet: (id, content hash, canonical), oldest first."""
    runs = RunRow.__table__
    query = (
        select(_orders.c.id, _orders.c.content_hash, _orders.c.canonical)
        .where(
            _orders.c.kind == "order",
            _orders.c.status == "new",
            ~select(runs.c.id).where(runs.c.order_pk == _orders.c.id).exists(),
        )
        .order_by(_orders.c.created_at, _orders.c.id)
    )
    return [(r.id, r.content_hash, r.canonical) for r in conn.execute(query)]


def save_keys(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Record (or replace) lookup keys: dicts of order_pk, scope, key, created_at, eligible."""
    if not rows:
        return
    statement = insert_for(conn, _keys)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["order_pk", "scope"],
            set_={c: statement.excluded[c] for c in ("key", "created_at", "eligible")},
        ),
        rows,
    )


def find_earlier(
    conn: Any, scope: str, key: str, order: dict[str, Any], window: timedelta
) -> tuple[str, str] | None:
    """(channel, order_id) of the latest eligible order with `key` at most `window` earlier.

    `order` holds the id, channel, order_id and created_at of the order asking; orders
    created in the same second count as earlier when their (channel, order_id) sorts first.
    """
    created = order["created_at"]
    rows = run(
        conn,
        _FIND_EARLIER,
        {
            "scope": scope,
            "key": key,
            "me": order["id"],
            "created": created,
            "since": created - window,
            "channel": order["channel"],
            "order_id": order["order_id"],
        },
    )
    return (rows[0]["channel"], rows[0]["order_id"]) if rows else None


_FIND_EARLIER = Prepared(
    select(_orders.c.channel, _orders.c.order_id)
    .join(_keys, _keys.c.order_pk == _orders.c.id)
    .where(
        _keys.c.scope == bindparam("scope"),
        _keys.c.key == bindparam("key"),
        _keys.c.eligible.is_(True),
        _keys.c.order_pk != bindparam("me"),
        or_(
            and_(
                _keys.c.created_at >= bindparam("since"), _keys.c.created_at < bindparam("created")
            ),
            and_(
                _keys.c.created_at == bindparam("created"),
                or_(
                    _orders.c.channel < bindparam("channel"),
                    and_(
                        _orders.c.channel == bindparam("channel"),
                        _orders.c.order_id < bindparam("order_id"),
                    ),
                ),
            ),
        ),
    )
    .order_by(_keys.c.created_at.desc(), _orders.c.channel.desc(), _orders.c.order_id.desc())
    .limit(1)
)


def get_cursor(conn: Any, source: str) -> datetime | None:
    return conn.execute(select(_cursors.c.value).where(_cursors.c.source == source)).scalar()


def set_cursor(conn: Any, source: str, value: datetime) -> None:
    """Move a source's cursor forward (never back), in one statement."""
    statement = insert_for(conn, _cursors).values(
        source=source, value=utc(value), updated_at=utcnow()
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["source"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
            where=_cursors.c.value < statement.excluded.value,
        )
    )


def _values(order: Order, raw: dict, digest: str, now: datetime) -> dict[str, Any]:
    return {
        "created_at": utc(order.created_at),
        "paid_at": utc(order.paid_at),
        "updated_at": utc(order.updated_at),
        "platform_status": order.status,
        "content_hash": digest,
        "canonical": order.as_data(),
        "raw": raw,
        "pulled_at": now,
        "kind": (order.model_extra or {}).get("kind") or "order",
    }


def set_standing(conn: Any, order_pk: int, status: str, reason: str) -> None:
    """Set where an order stands (its status and reason) outside any run."""
    conn.execute(
        update(_orders).where(_orders.c.id == order_pk).values(status=status, reason=reason[:255])
    )
