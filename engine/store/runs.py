"""Runs in the store: start them in batches, load one with its order, save its progress."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, tuple_, update

from engine.store.models import OrderRow, RunRow, WaitRow, utcnow
from engine.store.prepared import Prepared
from engine.store.prepared import run as run_prepared

_runs = RunRow.__table__
_orders = OrderRow.__table__
_waits = WaitRow.__table__


@dataclass
class RunState:
    """A run as the runner holds it while it advances it (a row of `runs`)."""

    id: int
    order_pk: int
    order_hash: str
    workflow_id: str
    version: str
    draft: bool
    status: str  # pending, running, waiting, woken, retry, completed, failed, superseded
    position: str | None  # the node to execute next (or the node it waits at)
    state: dict[str, Any]  # node id -> that node's detail (what later steps read)
    outcome: str | None
    error: str | None
    attempt: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass
class OrderStanding:
    """Where the run's order stands (the columns of `orders` a run reads and writes)."""

    id: int
    channel: str
    order_id: str
    created_at: datetime
    canonical: dict[str, Any]
    status: str
    reason: str | None
    warehouse: str | None

    @property
    def ref(self) -> str:
        return f"{self.channel}:{self.order_id}"


def start_runs(
    conn: Any,
    workflow_id: str,
    version: str,
    draft: bool,
    start: str | None,
    orders: list[tuple[int, str]],
) -> list[int]:
    """One pending run per (order id, order hash) unless that run exists already.

    Older pending runs of the same orders are superseded. Returns every run id, in order.
    """
    if not orders:
        return []
    existing = _run_ids(conn, workflow_id, version, orders)
    new = [o for o in orders if o not in existing]
    if new:
        supersede(conn, [pk for pk, _ in new])
        now = utcnow()
        conn.execute(
            insert(_runs),
            [
                {
                    "order_pk": pk,
                    "order_hash": digest,
                    "workflow_id": workflow_id,
                    "version": version,
                    "draft": draft,
                    "status": "pending",
                    "position": start,
                    "state": {},
                    "created_at": now,
                }
                for pk, digest in new
            ],
        )
        existing.update(_run_ids(conn, workflow_id, version, new))
        conn.execute(
            update(_orders).where(_orders.c.id.in_([pk for pk, _ in new])).values(status="pending")
        )
    return [existing[o] for o in orders]


def supersede(conn: Any, order_pks: list[int]) -> None:
    """Runs of these orders that have not started, wait for another try or wait for
    something will not go on: the orders changed under them (a new run starts from the
    beginning with the new copy). Their waits are dropped."""
    if order_pks:
        stale = ("pending", "retry", "waiting")
        conn.execute(
            update(_waits)
            .where(
                _waits.c.status == "open",
                _waits.c.run_id.in_(
                    select(_runs.c.id).where(
                        _runs.c.order_pk.in_(order_pks), _runs.c.status == "waiting"
                    )
                ),
            )
            .values(status="dropped", note="the order changed; a new run took over")
        )
        conn.execute(
            update(_runs)
            .where(_runs.c.order_pk.in_(order_pks), _runs.c.status.in_(stale))
            .values(status="superseded")
        )


def _run_ids(
    conn: Any, workflow_id: str, version: str, orders: list[tuple[int, str]]
) -> dict[tuple[int, str], int]:
    """The ids of the runs of these (order id, order hash) pairs on one version."""
    rows = conn.execute(
        select(_runs.c.id, _runs.c.order_pk, _runs.c.order_hash).where(
            _runs.c.workflow_id == workflow_id,
            _runs.c.version == version,
            tuple_(_runs.c.order_pk, _runs.c.order_hash).in_(orders),
        )
    )
    return {(r.order_pk, r.order_hash): r.id for r in rows}


_ORDER_FIELDS = (
    "id",
    "channel",
    "order_id",
    "created_at",
    "canonical",
    "status",
    "reason",
    "warehouse",
)
_LOAD_RUN = Prepared(  # the run and its order in one round trip (order columns as o_*)
    select(_runs, *(_orders.c[f].label(f"o_{f}") for f in _ORDER_FIELDS))
    .join(_orders, _orders.c.id == _runs.c.order_pk)
    .where(_runs.c.id == bindparam("run_id"))
)
_RUN_FIELDS = (
    "status",
    "position",
    "state",
    "outcome",
    "error",
    "attempt",
    "started_at",
    "finished_at",
)
_SAVE_RUN = Prepared(
    update(_runs)
    .where(_runs.c.id == bindparam("b_id"))
    .values({c: bindparam(c) for c in _RUN_FIELDS})
)
_SAVE_ORDER = Prepared(
    update(_orders)
    .where(_orders.c.id == bindparam("b_id"))
    .values({c: bindparam(c) for c in ("status", "reason", "warehouse")})
)


_RUN_NAMES = tuple(f.name for f in fields(RunState))


def load_run(conn: Any, run_id: int) -> tuple[RunState, OrderStanding]:
    """A run and its order."""
    (row,) = run_prepared(conn, _LOAD_RUN, {"run_id": run_id})
    order = OrderStanding(**{f: row[f"o_{f}"] for f in _ORDER_FIELDS})
    return RunState(**{f: row[f] for f in _RUN_NAMES}), order


def save_run(conn: Any, run: RunState) -> None:
    """Write a run's position, state, status and try."""
    run_prepared(conn, _SAVE_RUN, {"b_id": run.id, **{f: getattr(run, f) for f in _RUN_FIELDS}})


def save_order(conn: Any, order: OrderStanding) -> None:
    """Write where an order stands: its status, reason and warehouse."""
    reason = (order.reason or "")[:255] or None
    run_prepared(
        conn,
        _SAVE_ORDER,
        {
            "b_id": order.id,
            "status": order.status,
            "reason": reason,
            "warehouse": order.warehouse,
        },
    )
