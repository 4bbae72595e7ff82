"""The review and exception queues: what waits there, and a person's decision (audited).

An order whose run waits at a queue node (an `exception_route` whose workflow routes some of
its decisions) is decided with `decide`: the decision is checked against the routes that
node offers, recorded as the node's step (who, when, why) and in the audit log, the order's
queue items are closed — all in one transaction — and the run continues in the same call on
the version it is pinned to: a released duplicate has its waybill and its tracking upload
before `decide` returns; a merge links the order to the one it duplicates and ships nothing.
`decide_all` does the same for every order a filter matches (`matching` shows them first).

The run continues in the call only when no runner of its workflow is going (the workflow's
lease, as `orderhub run` holds it) — else the decision is recorded and that runner finishes
it before it ends. An order in a queue whose run does not wait (an invalid order, an
unreadable one) can only be released or cancelled: the item is closed, nothing runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from engine.errors import Conflict, InvalidInput, NotFound
from engine.store import Store, leases
from engine.store.models import OrderRow, QueueItem, RunRow
from engine.store.waits import OpenWait, open_waits
from engine.waits import wake
from service.access import Actor, require
from service.intake import check_systems
from service.resume import finish_unless_running
from service.running import lease_name
from versions import audit

#: decisions a person may take (a queue node offers those its workflow routes)
DECISIONS = ("release", "merge", "cancel", "restocked", "retry", "reroute")
#: what an order's queue items become when it is decided
CLOSED = {
    "release": "released",
    "merge": "merged",
    "cancel": "cancelled",
    "restocked": "restocked",
    "retry": "retried",
    "reroute": "rerouted",
}
#: how long a decision waits for a running `orderhub run` of the workflow before leaving the
#: decided run to it
LEASE_WAIT_S = 20.0


@dataclass(frozen=True)
class Item:
    ref: str
    queue: str
    reason: str
    status: str
    detail: dict


@dataclass(frozen=True)
class Decided:
    """A decision taken: where the order stands after it, and whether its run went on."""

    ref: str
    queue: str
    node: str | None  # the queue node its run waited at (None: no run waited)
    decision: str
    status: str  # the order's status now (shipped, merged, cancelled…) or the item's
    continued: bool  # the run went on in this call
    note: str  # one line on what happened


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


def matching(
    store: Store, actor: Actor, queue: str, reason_contains: str | None = None
) -> list[Item]:
    """The orders waiting for a decision in `queue` whose reason contains the text (any
    case), oldest paid first: what `decide_all` would decide."""
    require(actor, "queue.list")
    with store.engine.connect() as conn:
        waits = open_waits(conn, "queue", queue, reason_contains=reason_contains)
    return [
        Item(w.ref, w.key, w.reason, "open", {"node": w.node_id, "offers": list(w.offers)})
        for w in waits
    ]


async def decide(
    store: Store,
    actor: Actor,
    ref: str,
    decision: str,
    reason: str,
    node: str | None = None,
    *,
    queue: str | None = None,
    systems: dict[str, dict[str, Any]] | None = None,
) -> Decided:
    """Decide on an order waiting in a queue (at `node`, in `queue`, when given), and
    continue its run now (with connectors built from `systems`; without, the next run of
    its workflow continues it)."""
    require(actor, "queue.decide")
    _check(decision, reason, systems)
    channel, _, order_id = ref.partition(":")
    with store.session() as session, session.begin():
        order_pk = session.scalar(
            select(OrderRow.id).where(OrderRow.channel == channel, OrderRow.order_id == order_id)
        )
        if order_pk is None:
            raise NotFound(f"no order {ref}; the queue list shows the orders that wait")
        waits = open_waits(session.connection(), "queue", order_pks=[order_pk])
        waits = [w for w in waits if node in (None, w.node_id) and queue in (None, w.key)]
        if not waits:
            return _close_only(session, actor, ref, order_pk, decision, reason, node, queue)
        note = _record(store, session, actor, waits[0], decision, reason)
    wait = waits[0]
    continued, status = await _continue(store, actor, [wait], systems)
    how = "continued" if continued else _later(store, wait.workflow_id, systems)
    return Decided(
        ref, wait.key, wait.node_id, decision, status.get(ref, "?"), continued, f"{note}; {how}"
    )


async def decide_all(
    store: Store,
    actor: Actor,
    queue: str,
    decision: str,
    reason: str,
    *,
    reason_contains: str | None = None,
    expected: int | None = None,
    systems: dict[str, dict[str, Any]] | None = None,
) -> list[Decided]:
    """Decide every order `matching` the filter, all or none: each must wait at a node that
    offers `decision`. `expected` is the count the person saw; a different count now (the
    queue moved) refuses with `Conflict`, so nobody decides on orders they did not see."""
    require(actor, "queue.decide")
    _check(decision, reason, systems)
    with store.session() as session, session.begin():
        waits = open_waits(session.connection(), "queue", queue, reason_contains=reason_contains)
        if not waits:
            raise NotFound(f"no order waits in {queue} with that reason; nothing was decided")
        if expected is not None and len(waits) != expected:
            raise Conflict(
                f"{len(waits)} orders match now, not the {expected} shown; look again and "
                "confirm the new count (nothing was decided)"
            )
        refused = [w for w in waits if decision not in w.offers]
        if refused:
            first = refused[0]
            raise InvalidInput(
                f"{len(refused)} of the {len(waits)} orders wait at a node that does not "
                f"offer {decision!r} (e.g. {first.ref} at {first.node_id}: "
                f"{', '.join(first.offers)}); nothing was decided",
                field="decision",
            )
        notes = {w.ref: _record(store, session, actor, w, decision, reason) for w in waits}
    continued, status = await _continue(store, actor, waits, systems)
    return [
        Decided(w.ref, w.key, w.node_id, decision, status.get(w.ref, "?"), continued, notes[w.ref])
        for w in waits
    ]


def _check(decision: str, reason: str, systems: dict[str, dict[str, Any]] | None) -> None:
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}", field="decision")
    if not reason.strip():
        raise InvalidInput("a decision needs a reason; it goes in the audit log", field="reason")
    if systems is not None:
        check_systems(systems)  # a run that cannot continue is named before anything is written


def _record(
    store: Store, session: Any, actor: Actor, wait: OpenWait, decision: str, reason: str
) -> str:
    """Wake the run with the decision, close the order's queue items, audit; the note."""
    detail: dict[str, Any] = {"queue": wait.key, "node": wait.node_id, "decision": decision}
    note = f"{decision} by {actor.user}: {reason}"
    if decision == "merge":
        duplicate_of = _duplicate_of(session, wait)
        if duplicate_of is None:
            raise InvalidInput(
                f"{wait.ref} duplicates no order orderhub knows of; release or cancel it",
                field="decision",
            )
        detail["merged_into"] = duplicate_of
        note = f"merged into {duplicate_of} by {actor.user}: {reason}"
    conn = session.connection()
    woken = wake(
        store, "queue", wait.key, decision, str(actor), note=note, run_ids=[wait.run_id], conn=conn
    )
    if not woken:
        raise Conflict(f"{wait.ref} was decided or moved on a moment ago; look at it again")
    conn.execute(
        update(QueueItem)
        .where(QueueItem.order_pk == wait.order_pk, QueueItem.status == "open")
        .values(status=CLOSED[decision])
    )
    audit.record(session, actor, "review.decide", wait.ref, detail, reason)
    return note


def _duplicate_of(session: Any, wait: OpenWait) -> str | None:
    detail = session.scalar(
        select(QueueItem.detail).where(
            QueueItem.order_pk == wait.order_pk, QueueItem.queue == wait.key
        )
    )
    return (detail or {}).get("duplicate_of")


async def _continue(
    store: Store,
    actor: Actor,
    waits: list[OpenWait],
    systems: dict[str, dict[str, Any]] | None,
) -> tuple[bool, dict[str, str]]:
    """Finish the decided runs now when no runner holds their workflow; the orders' status."""
    continued = systems is not None and await finish_unless_running(
        store,
        systems,
        [lease_name(w.workflow_id) for w in waits],
        [w.run_id for w in waits],
        leases.holder_name(f"{actor} deciding"),
        wait_s=LEASE_WAIT_S,
    )
    with store.session() as session:
        rows = session.execute(
            select(OrderRow.channel, OrderRow.order_id, OrderRow.status).where(
                OrderRow.id.in_([w.order_pk for w in waits])
            )
        ).all()
    return continued, {f"{r.channel}:{r.order_id}": r.status for r in rows}


def _later(store: Store, workflow_id: str, systems: Any) -> str:
    if systems is None:
        return "the next run of its workflow continues it"
    holding = leases.current(store, lease_name(workflow_id))
    who = holding.holder if holding is not None else "another runner"
    return f"the run of {workflow_id} by {who} continues it before it ends"


def _close_only(
    session: Any,
    actor: Actor,
    ref: str,
    order_pk: int,
    decision: str,
    reason: str,
    node: str | None,
    queue: str | None,
) -> Decided:
    """An order in a queue whose run does not wait: release or cancel closes its item."""
    waiting = session.scalar(
        select(RunRow.id).where(RunRow.order_pk == order_pk, RunRow.status == "waiting")
    )
    query = select(QueueItem).where(QueueItem.order_pk == order_pk, QueueItem.status == "open")
    if queue is not None:
        query = query.where(QueueItem.queue == queue)
    item = session.scalars(query).first()
    if item is None or node is not None or waiting is not None:
        where = f" at {node}" if node else f" {queue}" if queue else ""
        raise NotFound(f"{ref} waits in no queue{where}; the queue list shows what waits")
    if decision not in ("release", "cancel"):
        raise InvalidInput(
            f"{ref} is in {item.queue}, where no run waits for a decision: it can only be "
            "released or cancelled",
            field="decision",
        )
    item.status = CLOSED[decision]
    audit.record(
        session, actor, "review.decide", ref, {"queue": item.queue, "decision": decision}, reason
    )
    note = f"{decision} by {actor.user}: {reason}; no run waited for it, nothing else happens"
    return Decided(ref, item.queue, None, decision, item.status, False, note)
