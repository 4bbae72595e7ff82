"""The queues as the API and the editor serve them: a page of waiting orders (phones masked
for roles without `orders.contact`), each with the decisions its waiting node offers, one
decision, and the same decision on many orders at once.

A decision is `service.review.decide`'s; deciding many calls it for each order and reports
each one's result, so one order that no longer waits does not undo the others. Deciding
every order a filter matches (`matching`, then `decide_matching`) is all or none, on the
count the person saw: what `orderhub queue decide --all` and the editor's bulk form do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.errors import InvalidInput, NotFound, OrderhubError
from engine.store import Store
from engine.store.models import OrderRow, QueueItem
from engine.store.waits import open_waits
from service import review
from service.access import Actor, allowed, require
from service.masking import ContactMask, mask_phones
from service.orders import HIDDEN, _aware
from service.paging import Page, check_bounds, count_of

MAX_BULK = 500
#: what an order in a queue whose run does not wait (an invalid order) may become
NO_RUN_OFFERS = ("release", "cancel")


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
    #: the decisions a person may take on it: those its waiting node routes (or, when no
    #: run waits for it, release and cancel)
    offers: list[str] = field(default_factory=lambda: list(NO_RUN_OFFERS))
    node: str | None = None  # the queue node its run waits at (None: no run waits)


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
        pks = sorted({item.order_pk for item, *_ in rows})
        waits = open_waits(session.connection(), "queue", order_pks=pks) if pks else []
        waiting_at = {(w.order_pk, w.key): w for w in waits}
        items = []
        for item, channel, order_id, phone in rows:
            mask = ContactMask(full, str(phone or ""))
            wait = waiting_at.get((item.order_pk, item.queue)) if item.status == "open" else None
            items.append(
                Waiting(
                    f"{channel}:{order_id}",
                    item.queue,
                    mask(item.reason),
                    item.status,
                    mask(item.detail or {}),
                    item.run_id,
                    _aware(item.created_at),
                    _offers(item.status, wait),
                    wait.node_id if wait is not None else None,
                )
            )
    return Page(items, total, limit, offset)


def _offers(status: str, wait: Any) -> list[str]:
    if status != "open":
        return []  # decided already
    if wait is None:
        return list(NO_RUN_OFFERS)
    return [d for d in review.DECISIONS if d in wait.offers]  # in one order, whatever the node's


def platform_record(store: Store, actor: Actor, ref: str) -> dict[str, Any]:
    """The order as its platform sent it (the raw record), masked as the orders page masks:
    phones for roles without `orders.contact`, the street address for roles without
    `orders.address`."""
    require(actor, "orders.show")
    channel, _, order_id = ref.partition(":")
    with store.session() as session:
        row = session.execute(
            select(OrderRow.raw, OrderRow.canonical).where(
                OrderRow.channel == channel, OrderRow.order_id == order_id
            )
        ).first()
    if row is None:
        raise NotFound(f"no order {ref}; the queue list shows the orders that wait")
    receiver = (row.canonical or {}).get("receiver") or {}
    mask = ContactMask(allowed(actor, "orders.contact"), str(receiver.get("phone") or ""))
    raw = mask(row.raw or {})
    street = str(receiver.get("address") or "")
    if not allowed(actor, "orders.address") and street:
        raw = _hide(raw, street)
    return raw


def _hide(value: Any, street: str) -> Any:
    if isinstance(value, str):
        return HIDDEN if street in value else value
    if isinstance(value, dict):
        return {k: _hide(v, street) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v, street) for v in value]
    return value


@dataclass(frozen=True)
class Matching:
    """The orders a bulk decision would decide: those waiting in `queue` whose reason
    contains the text, and the decisions every one of them offers."""

    queue: str
    reason_contains: str | None
    items: list[review.Item]
    offers: list[str]

    def describe(self) -> str:
        """``3 orders wait in held whose reason contains 'low'``."""
        what = f"in {self.queue}" + (
            f" whose reason contains {self.reason_contains!r}" if self.reason_contains else ""
        )
        return f"{len(self.items)} orders wait {what}"


@dataclass(frozen=True)
class BulkDecided:
    """What a bulk decision did: each order's result, and the statuses they are in now."""

    decision: str
    done: list[review.Decided]

    @property
    def statuses(self) -> list[tuple[str, int]]:
        return Counter(d.status for d in self.done).most_common()

    def summary(self) -> str:
        """``cancel: 3 orders decided and went on; now cancelled 3``."""
        now = ", ".join(f"{status} {n}" for status, n in self.statuses)
        went_on = (
            "went on" if self.done and self.done[0].continued else "go on with the running run"
        )
        return f"{self.decision}: {len(self.done)} orders decided and {went_on}; now {now}"


def matching(
    store: Store, actor: Actor, queue: str, reason_contains: str | None = None
) -> Matching:
    """What a bulk decision over `queue` (reasons containing the text, any case) would
    decide — show its count and ask before `decide_matching`."""
    contains = (reason_contains or "").strip() or None
    items = review.matching(store, actor, queue, contains)
    if not allowed(actor, "orders.contact"):
        items = [replace(i, reason=mask_phones(i.reason)) for i in items]
    offers = [d for d in review.DECISIONS if items and all(d in i.detail["offers"] for i in items)]
    return Matching(queue, contains, items, offers)


async def decide_matching(
    store: Store,
    actor: Actor,
    shown: Matching,
    decision: str,
    reason: str,
    systems: dict[str, dict[str, Any]] | None = None,
) -> BulkDecided:
    """Decide every order `shown` matched, all or none; refused (`Conflict`, nothing
    decided) when the count matching now differs from the count shown."""
    done = await review.decide_all(
        store,
        actor,
        shown.queue,
        decision,
        reason,
        reason_contains=shown.reason_contains,
        expected=len(shown.items),
        systems=systems,
    )
    return BulkDecided(decision, done)


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
