"""The queues as the API serves them: a page of waiting orders (phones masked for roles
without `orders.contact`), one decision, and the same decision on many orders at once.

A decision is `service.review.decide`'s; deciding many calls it for each order and reports
each one's result, so one order that no longer waits does not undo the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.errors import InvalidInput, OrderhubError
from engine.store import Store
from engine.store.models import OrderRow, QueueItem
from service import review
from service.access import Actor, allowed, require
from service.masking import ContactMask
from service.orders import _aware
from service.paging import Page, check_bounds, count_of

MAX_BULK = 500


@dataclass(frozen=True)
class Waiting:
    """An order waiting in a queue, and why."""

    ref: str
    queue: str
    reason: str
    status: str
    detail: dict[str, Any]
    run_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Decided:
    """What became of one order of a bulk decision: its new status, or why not."""

    ref: str
    ok: bool
    status: str | None = None
    queue: str | None = None
    error: str | None = None


def list_queue(
    store: Store,
    actor: Actor,
    *,
    queue: str | None = None,
    status: str | None = "open",
    limit: int = 50,
    offset: int = 0,
) -> Page[Waiting]:
    """Orders in a queue (every queue when `queue` is None), oldest first."""
    require(actor, "queue.list")
    check_bounds(limit, offset)
    query = select(
        QueueItem, OrderRow.channel, OrderRow.order_id, OrderRow.canonical["receiver"]["phone"]
    ).join(OrderRow, OrderRow.id == QueueItem.order_pk)
    if queue is not None:
        query = query.where(QueueItem.queue == queue)
    if status is not None:
        query = query.where(QueueItem.status == status)
    full = allowed(actor, "orders.contact")
    with store.session() as session:
        total = count_of(session.connection(), query)
        rows = session.execute(query.order_by(QueueItem.id).limit(limit).offset(offset)).all()
        items = []
        for item, channel, order_id, phone in rows:
            mask = ContactMask(full, str(phone or ""))
            items.append(
                Waiting(
                    f"{channel}:{order_id}",
                    item.queue,
                    mask(item.reason),
                    item.status,
                    mask(item.detail or {}),
                    item.run_id,
                    _aware(item.created_at),
                )
            )
    return Page(items, total, limit, offset)


async def decide_one(
    store: Store,
    actor: Actor,
    ref: str,
    decision: str,
    reason: str,
    queue: str | None = None,
    systems: dict[str, dict[str, Any]] | None = None,
) -> Decided:
    """Decide on one waiting order (audited); its run goes on with `systems` when given.
    The status is the order's queue item's after the decision (released, cancelled…)."""
    done = await review.decide(store, actor, ref, decision, reason, queue=queue, systems=systems)
    return Decided(done.ref, True, review.CLOSED[decision], done.queue)


async def decide_many(
    store: Store,
    actor: Actor,
    refs: list[str],
    decision: str,
    reason: str,
    queue: str | None = None,
    systems: dict[str, dict[str, Any]] | None = None,
) -> list[Decided]:
    """The same decision on each of `refs` (each audited); each result says how it went."""
    require(actor, "queue.decide")
    refs = list(dict.fromkeys(refs))
    if not refs:
        raise InvalidInput("name at least one order", field="refs")
    if len(refs) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} orders at once, not {len(refs)}", field="refs")
    if decision not in review.DECISIONS:
        raise InvalidInput(
            f"decision must be one of {', '.join(review.DECISIONS)}", field="decision"
        )
    if not reason.strip():
        raise InvalidInput("a decision needs a reason; it goes in the audit log", field="reason")
    results = []
    for ref in refs:
        try:
            results.append(await decide_one(store, actor, ref, decision, reason, queue, systems))
        except OrderhubError as exc:
            results.append(Decided(ref, False, error=str(exc)))
    return results
