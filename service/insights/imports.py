"""Loading a brand's past: orders exported as CSV from a channel's back office, and the ERP's
stock by day.

`import_orders` reads a CSV of order lines (one row per line, the order's columns repeated;
the columns of `connectors.simulator.history.ORDER_COLUMNS`) and upserts its orders by
(channel, order id) exactly as a pull stores them — canonical order, platform status — but
starts **no workflow run**: it never calls ingest's run creation, and marks the orders it
adds with the standing ``imported``. So 90 days of history (360,000 orders) is stored
without 360,000 runs, and a later pull of a still-changing order runs it as usual. The whole
file is one transaction: a bad row stops it with ``FILE:LINE: …`` and nothing is written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticError
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.errors import InputError
from engine.order import Order
from engine.store import Store
from engine.store import insights as facts_store
from engine.store import orders as order_store
from engine.store.models import OrderRow, utc
from service.access import Actor, require
from service.insights import facts
from versions import audit

STATUSES = ("unpaid", "paid", "shipped", "returned", "cancelled")
REQUIRED = ("order_id", "status", "created_at", "sku", "qty", "price")
BATCH = 2000
IMPORTED = "imported"  # the standing of an order that came from an import, not a run
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_LOCAL = timezone(timedelta(hours=8))
_orders = OrderRow.__table__


@dataclass(frozen=True)
class ImportSummary:
    """What an import stored: orders (new and changed), lines, and the runs it started (0)."""

    file: str
    channel: str
    orders: int
    lines: int
    runs_started: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def import_orders(
    store: Store, actor: Actor, path: Path, channel: str, *, key: bytes | None = None
) -> ImportSummary:
    """Store every order of a back-office CSV export of `channel` without running any.

    With the customer-key secret `key`, the orders' insight facts are written in the same
    transaction (saving the next refresh from reading them back)."""
    require(actor, "history.import")
    if not _CHANNEL.match(channel or ""):
        raise InputError(
            f"channel {channel!r}: name the channel the file came from, e.g. youzan, douyin, h5"
        )
    orders = lines = 0
    with Session(store.engine) as session, session.begin():
        conn = session.connection()
        batch: list[tuple[Order, dict[str, Any]]] = []
        for order, raw, count in _read_orders(path, channel):
            batch.append((order, raw))
            lines += count
            if len(batch) >= BATCH:
                orders += _store(conn, batch, key)
                batch = []
        orders += _store(conn, batch, key)
        audit.record(
            session,
            actor,
            "history.import",
            f"orders:{channel}",
            {"file": path.name, "orders": orders, "lines": lines},
        )
    return ImportSummary(path.name, channel, orders, lines)


def import_stock(store: Store, actor: Actor, path: Path) -> int:
    """Store the ERP's end-of-day on-hand from a CSV with columns day,sku,warehouse,on_hand."""
    require(actor, "history.import")
    rows = []
    for line, row in _csv_rows(path, ("day", "sku", "warehouse", "on_hand")):
        try:
            on_hand = int(row["on_hand"])
        except ValueError:
            raise InputError(
                f"{path}:{line}: on_hand {row['on_hand']!r} is not a whole number; fix the row"
            ) from None
        try:
            day = date.fromisoformat(row["day"].strip())
        except ValueError:
            raise InputError(
                f"{path}:{line}: day {row['day']!r} is not a date; write it as 2026-03-08"
            ) from None
        rows.append({"day": day, "sku": row["sku"].strip(), "warehouse": row["warehouse"].strip(),
                     "on_hand": on_hand})  # fmt: skip
    with Session(store.engine) as session, session.begin():
        written = facts_store.save_stock_days(session.connection(), rows)
        audit.record(
            session, actor, "history.import", "stock", {"file": path.name, "rows": written}
        )
    return written


def _store(conn: Any, batch: list[tuple[Order, dict[str, Any]]], key: bytes | None) -> int:
    if not batch:
        return 0
    stored = order_store.upsert_orders(conn, batch)
    ids = [s.id for s in stored]
    for start in range(0, len(ids), 900):
        conn.execute(
            update(_orders)
            .where(_orders.c.id.in_(ids[start : start + 900]), _orders.c.status == "new")
            .values(status=IMPORTED)
        )
    if key is not None and facts.key_is_current(conn, key):
        derived = [facts.derive(_Row(s), key) for s in stored]
        facts_store.replace_facts(
            conn, [f for f, _ in derived], [line for _, sold in derived for line in sold]
        )
    return len(stored)


class _Row:
    """A stored order as `facts.derive` reads an orders row (standing: as imported)."""

    def __init__(self, stored: order_store.StoredOrder) -> None:
        order = stored.order
        self.id = stored.id
        self.channel = order.channel
        self.created_at = utc(order.created_at)
        self.paid_at = utc(order.paid_at)
        self.platform_status = order.status
        self.status = IMPORTED  # a changed order that had another standing is re-derived
        self.content_hash = stored.content_hash
        extra = order.model_extra or {}
        self.warehouse = extra.get("warehouse")
        self.canonical = {
            "amount": str(order.amount),
            "receiver": {"phone": order.receiver.phone},
            "items": [{"sku": line.sku, "qty": line.qty} for line in order.items],
            "shipped_at": extra.get("shipped_at"),
            "returned_at": extra.get("returned_at"),
        }


def _read_orders(path: Path, channel: str) -> Iterator[tuple[Order, dict[str, Any], int]]:
    """(order, raw, lines) per order; the rows of one order must be together."""
    seen: set[str] = set()
    current: list[tuple[int, dict[str, str]]] = []
    for line, row in _csv_rows(path, REQUIRED):
        order_id = (row.get("order_id") or "").strip()
        if not order_id:
            raise InputError(f"{path}:{line}: order_id is empty; every row needs its order's id")
        if current and current[0][1]["order_id"].strip() != order_id:
            yield _order(path, channel, current)
            current = []
        if not current:
            if order_id in seen:
                raise InputError(
                    f"{path}:{line}: order {order_id} appears again after other orders; sort the "
                    "file by order_id so each order's rows are together (nothing was imported)"
                )
            seen.add(order_id)
        current.append((line, row))
    if current:
        yield _order(path, channel, current)


def _order(
    path: Path, channel: str, rows: list[tuple[int, dict[str, str]]]
) -> tuple[Order, dict[str, Any], int]:
    line, head = rows[0]
    where = f"{path}:{line}"
    status = (head.get("status") or "").strip()
    if status not in STATUSES:
        raise InputError(
            f"{where}: status {status!r} is not one of {', '.join(STATUSES)}; map the "
            "platform's status to one of them (nothing was imported)"
        )
    created = _time(where, "created_at", head.get("created_at"))
    paid = _time(where, "paid_at", head.get("paid_at"), required=status in STATUSES[1:4])
    shipped = _time(where, "shipped_at", head.get("shipped_at"), required=False)
    returned = _time(where, "returned_at", head.get("returned_at"), required=False)
    updated = _time(where, "updated_at", head.get("updated_at"), required=False)
    updated = updated or max(t for t in (created, paid, shipped, returned) if t is not None)
    items = [_item(path, n, row) for n, row in rows]
    amount = head.get("amount")
    data = {
        "channel": channel,
        "order_id": head["order_id"].strip(),
        "created_at": created,
        "paid_at": paid,
        "updated_at": updated,
        "status": status,
        "buyer": {"nick": head.get("buyer_nick") or ""},
        "receiver": {
            key: head.get(column) or ""
            for key, column in (
                ("name", "receiver_name"),
                ("phone", "receiver_phone"),
                ("province", "province"),
                ("city", "city"),
                ("district", "district"),
                ("address", "address"),
            )
        },
        "items": items,
        "amount": _money(where, "amount", amount)
        if amount
        else sum((i["price"] * i["qty"] for i in items), Decimal(0)),
        "shipped_at": shipped,
        "returned_at": returned,
    }
    if head.get("warehouse"):
        data["warehouse"] = head["warehouse"].strip()
    try:
        order = Order.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{where}: {field}: {first['msg']} (nothing was imported)") from None
    return order, {"import": path.name, "line": line}, len(rows)


def _item(path: Path, line: int, row: dict[str, str]) -> dict[str, Any]:
    where = f"{path}:{line}"
    sku = (row.get("sku") or "").strip()
    if not sku:
        raise InputError(f"{where}: sku is empty; every row is one line of an order")
    try:
        qty = int(row.get("qty") or "")
    except ValueError:
        qty = 0
    if qty <= 0:
        raise InputError(f"{where}: qty {row.get('qty')!r} is not a positive whole number")
    return {"sku": sku, "title": row.get("title") or "", "qty": qty,
            "price": _money(where, "price", row.get("price"))}  # fmt: skip


def _money(where: str, column: str, text: str | None) -> Decimal:
    try:
        return Decimal((text or "").strip())
    except InvalidOperation:
        raise InputError(
            f"{where}: {column} {text!r} is not an amount in yuan, e.g. 129.00"
        ) from None


def _time(where: str, column: str, text: str | None, *, required: bool = True) -> datetime | None:
    """ISO 8601 with an offset, or ``YYYY-MM-DD HH:MM:SS`` in China Standard Time."""
    text = (text or "").strip()
    if not text:
        if required:
            raise InputError(f"{where}: {column} is empty; this status needs it")
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{where}: {column} {text!r} is not a time; write 2026-01-31T10:00:00+08:00 or "
            "2026-01-31 10:00:00 (China time)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=_LOCAL)


def _csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(
                    f"{path}: no column {', '.join(missing)}; the first row must name the "
                    f"columns (at least {','.join(required)})"
                )
            for row in reader:
                yield reader.line_num, row
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the export as UTF-8 CSV") from None
