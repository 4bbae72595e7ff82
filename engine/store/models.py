"""The tables of orderhub (SQLAlchemy 2). Alembic migrations in `migrations/` create them.

Times are stored as naive UTC (`utc`) so SQLite and PostgreSQL compare them alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Id = BigInteger().with_variant(Integer, "sqlite")


def utc(dt: datetime | None) -> datetime | None:
    """A datetime as naive UTC (how every time column stores it)."""
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime()}


class OrderRow(Base):
    """One order of one channel: canonical form, the platform's raw record, where it stands."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("channel", "order_id", name="uq_orders_channel_order"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    platform_status: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[dict[str, Any]]
    raw: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(32), default="new", index=True)
    reason: Mapped[str | None] = mapped_column(String(255))
    warehouse: Mapped[str | None] = mapped_column(String(32))
    pulled_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: "order", or "after_sale" for an after-sales request's item (engine.store.after_sales)
    kind: Mapped[str] = mapped_column(String(16), default="order", server_default="order")


class OrderKey(Base):
    """A lookup key recorded when an order is pulled (dedup keys), so verdicts never race."""

    __tablename__ = "order_keys"
    __table_args__ = (
        UniqueConstraint("order_pk", "scope", name="uq_order_keys_order_scope"),
        Index("ix_order_keys_lookup", "scope", "key", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    eligible: Mapped[bool] = mapped_column(Boolean)


class RunRow(Base):
    """One order going through one workflow version."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint(
            "order_pk", "workflow_id", "version", "order_hash", name="uq_runs_order_version"
        ),
        Index("ix_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_hash: Mapped[str] = mapped_column(String(64))
    workflow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    position: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class StepRow(Base):
    """One node's execution in a run, with its outcome; unique per (run, node, attempt)."""

    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint("run_id", "node_id", "attempt", name="uq_steps_run_node_attempt"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(64))
    node_type: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(16))  # started, succeeded, failed
    outcome: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    duration_ms: Mapped[float | None]


class Effect(Base):
    """An external side effect by its key: STARTED before the call, SUCCEEDED with its result."""

    __tablename__ = "effects"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_id: Mapped[int | None] = mapped_column(Id)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class InventoryRow(Base):
    """On-hand stock of a SKU in a warehouse as the ERP reports it, and what orderhub reserved."""

    __tablename__ = "inventory"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(32), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockMove(Base):
    """A row of the reservation ledger: one per (order, sku, warehouse, kind), never twice."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        UniqueConstraint("order_pk", "sku", "warehouse", "kind", name="uq_stock_moves_once"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64))
    warehouse: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    qty: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogueItem(Base):
    """A SKU the ERP knows (the catalogue `validate` checks lines against)."""

    __tablename__ = "catalogue"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[str] = mapped_column(String(32), default="0")
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """An alert raised once per subject (e.g. a purchase alert per SKU@warehouse)."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("kind", "subject", name="uq_alerts_kind_subject"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A notification written with the event that caused it; the sender sends it later.

    `status`: pending → sending (claimed in `bundle`, committed before the call) → sent;
    failed (refused, or out of tries); unsure (its sender died mid-call: never sent again).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_claims", "target", "claimed_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(32), default="message", server_default="message")
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_before: Mapped[datetime | None]  # a passing failure's backoff: not tried before then
    bundle: Mapped[str | None] = mapped_column(String(32))  # the bot message it went out in
    claimed_at: Mapped[datetime | None]


class PushRow(Base):
    """A message a channel pushed (an order paid, …), stored once per (channel, push id)."""

    __tablename__ = "pushes"
    __table_args__ = (
        UniqueConstraint("channel", "push_id", name="uq_pushes_channel_push"),
        Index("ix_pushes_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    push_id: Mapped[str] = mapped_column(String(128))
    order_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]]  # what processing needs: the order record, or its ids
    status: Mapped[str] = mapped_column(String(16))  # received, done, ignored, failed
    error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class QueueItem(Base):
    """An order waiting in a named queue (review, exceptions, held) with its reason."""

    __tablename__ = "queue_items"
    __table_args__ = (UniqueConstraint("queue", "order_pk", name="uq_queue_items_order"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(String(32), index=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Waybill(Base):
    """A carrier waybill created for an order, and when its number reached the channel."""

    __tablename__ = "waybills"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    effect_key: Mapped[str] = mapped_column(String(128), unique=True)
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(16))
    waybill_no: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_at: Mapped[datetime | None]


class Cursor(Base):
    """How far a source has read (e.g. ``order_intake/pull/youzan``)."""

    __tablename__ = "cursors"

    source: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WaitRow(Base):
    """What a parked run waits for: a decision in a queue, stock, a system, or a time.

    A run may wait for several things at once (a decision, or stock of each SKU it lacks);
    the first that wakes it wins (the run's status moves from ``waiting`` to ``woken`` once)
    and its other waits are dropped. `offers` lists the routes a person may choose (the
    waiting node's routed decisions); `route` is the one a machine waker takes (None: the
    node runs again). `deadline` is when a reminder is due (the queue's wait limit).
    """

    __tablename__ = "waits"
    __table_args__ = (
        Index("ix_waits_open", "status", "kind", "key"),
        Index("ix_waits_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    order_pk: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    workflow_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # queue, stock, system, time
    key: Mapped[str] = mapped_column(String(128))  # queue name, SKU@warehouse, system, ""
    route: Mapped[str | None] = mapped_column(String(32))
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    since: Mapped[datetime]
    until: Mapped[datetime | None]  # a time wait ends here
    deadline: Mapped[datetime | None]  # past it, one reminder (and the `timeout` route)
    reminded_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, woken, done, dropped
    woken_at: Mapped[datetime | None]
    woken_by: Mapped[str | None] = mapped_column(String(255))
    woken_route: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class WorkflowDocument(Base):
    """The text of every workflow version that started runs (saved or a draft), so that any
    process can build the environment of a run it resumes (`engine.dispatch.Environments`)."""

    __tablename__ = "workflow_documents"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(64))
    file: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
