"""The review and exception queues: what waits there, and a person's decision (audited).

A decision is recorded on the queue item and in the audit log. Releasing an order does not
yet send it on through the workflow; that comes with the review-queue issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.errors import InvalidInput, NotFound
from engine.store import Store
from engine.store.models import OrderRow, QueueItem
from service.access import Actor, require
from versions import audit

DECISIONS = ("release", "cancel")


@dataclass(frozen=True)
class Item:
    ref: str
    queue: str
    reason: str
    status: str
    detail: dict


def list_items(
    store: Store, actor: Actor, queue: str | None = None, status: str | None = "open"
) -> list[Item]:
    require(actor, "queue.list")
    query = select(QueueItem, OrderRow.channel, OrderRow.order_id).join(
        OrderRow, OrderRow.id == QueueItem.order_pk
    )
    if queue is not None:
        query = query.where(QueueItem.queue == queue)
    if status is not None:
        query = query.where(QueueItem.status == status)
    with store.session() as session:
        rows = session.execute(query.order_by(QueueItem.id)).all()
    return [Item(f"{ch}:{oid}", i.queue, i.reason, i.status, i.detail) for i, ch, oid in rows]


def decide(
    store: Store, actor: Actor, ref: str, decision: str, reason: str, queue: str | None = None
) -> Item:
    """Record a person's decision on an order waiting in a queue."""
    require(actor, "queue.decide")
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    if not reason.strip():
        raise InvalidInput("a decision needs a reason; it goes in the audit log", field="reason")
    channel, _, order_id = ref.partition(":")
    with store.session() as session, session.begin():
        query = (
            select(QueueItem)
            .join(OrderRow, OrderRow.id == QueueItem.order_pk)
            .where(
                OrderRow.channel == channel,
                OrderRow.order_id == order_id,
                QueueItem.status == "open",
            )
        )
        if queue is not None:
            query = query.where(QueueItem.queue == queue)
        item = session.scalars(query).first()
        if item is None:
            raise NotFound(f"{ref} waits in no queue{f' {queue}' if queue else ''}")
        item.status = {"release": "released", "cancel": "cancelled"}[decision]
        audit.record(
            session,
            actor,
            "review.decide",
            ref,
            {"queue": item.queue, "decision": decision},
            reason,
        )
        return Item(ref, item.queue, item.reason, item.status, item.detail)
