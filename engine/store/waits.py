"""Waits in the store: park a run's waits, claim a run that something wakes, and read them.

A run parks by writing its waits (one row per thing it waits for) with its status
``waiting``, in the same transaction. Waking is a claim: one conditional UPDATE moves the run
from ``waiting`` to ``woken``, so whoever wakes it first — a person, an ERP sync, a breaker
closing, the clock, in any process — wins and every other waker finds nothing to do. The
waking row becomes ``woken`` (with who, why and the route), the run's other waits
``dropped``; the runner that picks the run up marks the woken row ``done`` when it applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, true, update

from engine.store.models import OrderRow, RunRow, WaitRow, utcnow
from engine.store.prepared import Prepared

_waits = WaitRow.__table__
#: test-only switch: False drops the claim's condition, so a racing waker wins too (the twin
#: test shows a run is then woken twice)
CLAIM_ONCE = True
_runs = RunRow.__table__
_orders = OrderRow.__table__

_WAIT_COLUMNS = (
    "run_id",
    "order_pk",
    "workflow_id",
    "version",
    "node_id",
    "kind",
    "key",
    "route",
    "offers",
    "reason",
    "detail",
    "since",
    "until",
    "deadline",
    "status",
)
_PARK = Prepared(insert(_waits).values({c: bindparam(c) for c in _WAIT_COLUMNS}))
_WOKEN_OF = Prepared(
    select(_waits)
    .where(_waits.c.run_id == bindparam("run_id"), _waits.c.status == "woken")
    .order_by(_waits.c.id.desc())
)
_DONE = Prepared(
    update(_waits)
    .where(_waits.c.run_id == bindparam("run_id"), _waits.c.status == "woken")
    .values(status="done")
)
_CLAIM_RUN = Prepared(
    update(_runs)
    .where(_runs.c.id == bindparam("run_id"), _runs.c.status == "woken")
    .values(status="running")
    .returning(_runs.c.id)
)


@dataclass(frozen=True)
class OpenWait:
    """A wait that has not ended, with its run's order (oldest paid first when listed)."""

    id: int
    run_id: int
    order_pk: int
    ref: str
    workflow_id: str
    version: str
    node_id: str
    kind: str
    key: str
    route: str | None
    offers: tuple[str, ...]
    reason: str
    detail: dict[str, Any]
    since: datetime
    until: datetime | None
    deadline: datetime | None
    reminded_at: datetime | None


def park(writer: Any, rows: list[dict[str, Any]]) -> None:
    """Write a run's waits (through the runner's writer, with the run's status)."""
    for row in rows:
        writer.run(_PARK, {c: row.get(c) for c in _WAIT_COLUMNS})


def take_woken(writer: Any, run_id: int) -> dict[str, Any] | None:
    """The wait that woke this run (who, why, which route), marked done; None if none."""
    rows = writer.run(_WOKEN_OF, {"run_id": run_id})
    if rows:
        writer.run(_DONE, {"run_id": run_id})
    return rows[0] if rows else None


def claim_for_running(writer: Any, run_id: int) -> bool:
    """Take a woken run for this runner (``woken`` → ``running``); False when another took it."""
    return bool(writer.run(_CLAIM_RUN, {"run_id": run_id}))


def open_waits(
    conn: Any,
    kind: str | None = None,
    key: str | None = None,
    *,
    run_ids: list[int] | None = None,
    order_pks: list[int] | None = None,
    keys: list[str] | None = None,
    reason_contains: str | None = None,
    due_by: datetime | None = None,
    overdue_at: datetime | None = None,
) -> list[OpenWait]:
    """Open waits of waiting runs, oldest paid first (then oldest created, then id).

    Filters: `kind`, `key` (or any of `keys`), `run_ids`, `order_pks`, `reason_contains`
    (case-insensitive); `due_by` — time waits whose `until` has come; `overdue_at` — waits
    past their deadline, not reminded yet.
    """
    paid = func.coalesce(_orders.c.paid_at, _orders.c.created_at)
    query = (
        select(_waits, _orders.c.channel, _orders.c.order_id)
        .join(_runs, and_(_runs.c.id == _waits.c.run_id, _runs.c.status == "waiting"))
        .join(_orders, _orders.c.id == _waits.c.order_pk)
        .where(_waits.c.status == "open")
        .order_by(paid, _orders.c.created_at, _waits.c.id)
    )
    if kind is not None:
        query = query.where(_waits.c.kind == kind)
    if key is not None:
        query = query.where(_waits.c.key == key)
    if keys is not None:
        query = query.where(_waits.c.key.in_(keys))
    if run_ids is not None:
        query = query.where(_waits.c.run_id.in_(run_ids))
    if order_pks is not None:
        query = query.where(_waits.c.order_pk.in_(order_pks))
    if reason_contains:
        query = query.where(_waits.c.reason.icontains(reason_contains, autoescape=True))
    if due_by is not None:
        query = query.where(_waits.c.until.is_not(None), _waits.c.until <= due_by)
    if overdue_at is not None:
        query = query.where(
            _waits.c.deadline.is_not(None),
            _waits.c.deadline <= overdue_at,
            _waits.c.reminded_at.is_(None),
        )
    return [_open_wait(row) for row in conn.execute(query).mappings()]


def claim(
    conn: Any, wait: OpenWait, route: str | None, by: str, note: str | None, now: datetime
) -> bool:
    """Wake `wait`'s run once: True when this call moved it from ``waiting`` to ``woken``.

    In the caller's transaction: commit it to let a runner go on, roll it back to undo (a
    stock waker that could not reserve). The run's other open waits are dropped.
    """
    still_waiting = _runs.c.status == "waiting" if CLAIM_ONCE else true()
    won = conn.execute(
        update(_runs).where(_runs.c.id == wait.run_id, still_waiting).values(status="woken")
    ).rowcount
    if not won:
        return False
    conn.execute(
        update(_waits)
        .where(_waits.c.id == wait.id)
        .values(status="woken", woken_at=now, woken_by=by, woken_route=route, note=note)
    )
    conn.execute(
        update(_waits)
        .where(_waits.c.run_id == wait.run_id, _waits.c.status == "open")
        .values(status="dropped", woken_at=now, note=f"woken by {by} ({wait.kind} {wait.key})")
    )
    return True


def set_note(conn: Any, wait_id: int, note: str) -> None:
    conn.execute(update(_waits).where(_waits.c.id == wait_id).values(note=note))


def mark_reminded(conn: Any, wait_ids: list[int], now: datetime | None = None) -> None:
    if wait_ids:
        conn.execute(
            update(_waits).where(_waits.c.id.in_(wait_ids)).values(reminded_at=now or utcnow())
        )


def waiting_counts(conn: Any, workflow_id: str | None = None) -> dict[tuple[str, str], int]:
    """(kind, key) -> how many waiting runs wait for it (a run waiting for two things counts
    under each)."""
    query = (
        select(_waits.c.kind, _waits.c.key, func.count(func.distinct(_waits.c.run_id)))
        .join(_runs, and_(_runs.c.id == _waits.c.run_id, _runs.c.status == "waiting"))
        .where(_waits.c.status == "open")
        .group_by(_waits.c.kind, _waits.c.key)
        .order_by(_waits.c.kind, _waits.c.key)
    )
    if workflow_id is not None:
        query = query.where(_waits.c.workflow_id == workflow_id)
    return {(kind, key): n for kind, key, n in conn.execute(query)}


def waiting_runs(conn: Any, workflow_id: str | None = None) -> int:
    """How many runs wait (of one workflow, or of all)."""
    query = select(func.count()).select_from(_runs).where(_runs.c.status == "waiting")
    if workflow_id is not None:
        query = query.where(_runs.c.workflow_id == workflow_id)
    return conn.execute(query).scalar_one()


def _open_wait(row: Any) -> OpenWait:
    return OpenWait(
        id=row["id"],
        run_id=row["run_id"],
        order_pk=row["order_pk"],
        ref=f"{row['channel']}:{row['order_id']}",
        workflow_id=row["workflow_id"],
        version=row["version"],
        node_id=row["node_id"],
        kind=row["kind"],
        key=row["key"],
        route=row["route"],
        offers=tuple(row["offers"] or ()),
        reason=row["reason"],
        detail=row["detail"] or {},
        since=row["since"],
        until=row["until"],
        deadline=row["deadline"],
        reminded_at=row["reminded_at"],
    )
