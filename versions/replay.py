"""Replay (what-if): recorded orders through the active version and a candidate, nothing real.

Each version runs in a scratch SQLite store seeded with the same orders, catalogue and
on-hand stock, with every side-effecting node in dry run (no waybill, upload or message
leaves; reservations happen only in the scratch store). The report lists the orders whose
outcome, warehouse or queue would change, grouped by the change that causes it, and the
orders the candidate would ship beyond the stock there is (oversell).
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine.dispatch import EmbeddedDispatcher, unfinished_runs
from engine.ingest import IngestResult, store_orders
from engine.runner import RunEnv, Runner
from engine.store import Store, open_store
from engine.store import stock as stock_store
from engine.store.models import CatalogueItem, InventoryRow, OrderRow, QueueItem, RunRow, utc
from engine.workflow import Workflow
from versions.diff import semantic_diff


@dataclass(frozen=True)
class Decision:
    """What a version decided for one order."""

    outcome: str
    warehouse: str | None
    queue: str | None
    path: tuple[str, ...]  # the node ids the run went through


@dataclass(frozen=True)
class ReplayInput:
    """The orders (canonical dict with `channel`, raw record), catalogue and on-hand stock."""

    orders: list[tuple[dict[str, Any], dict[str, Any]]]
    catalogue: list[dict[str, Any]]
    inventory: list[dict[str, Any]]


@dataclass
class ReplayReport:
    orders: int
    seconds: float
    changes: list[str]  # the candidate's semantic changes against the active version
    changed: dict[str, tuple[Decision, Decision]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    oversold: list[str] = field(default_factory=list)
    hint: str | None = None  # why nothing was replayed, and what would replay something

    @property
    def orders_per_second(self) -> float:
        return 2 * self.orders / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "seconds": round(self.seconds, 3),
            "orders_per_second": round(self.orders_per_second, 1),
            "changes": self.changes,
            "changed": {
                ref: {"before": _brief(a), "after": _brief(b)}
                for ref, (a, b) in sorted(self.changed.items())
            },
            "groups": {k: sorted(v) for k, v in sorted(self.groups.items())},
            "oversold": sorted(self.oversold),
            "hint": self.hint,
        }


async def replay(data: ReplayInput, active: Workflow, candidate: Workflow) -> ReplayReport:
    """Run both versions over the same orders and compare what each decided."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="orderhub-replay-") as workdir:
        before = await _decide(active, data, Path(workdir) / "active.db")
        after = await _decide(candidate, data, Path(workdir) / "candidate.db")
    report = ReplayReport(
        orders=len(before),
        seconds=time.perf_counter() - started,
        changes=[str(c) for c in semantic_diff(active, candidate)],
    )
    groups: dict[str, list[str]] = defaultdict(list)
    for ref, old in before.items():
        new = after.get(ref)
        if new is None or (old.outcome, old.warehouse, old.queue) == (
            new.outcome,
            new.warehouse,
            new.queue,
        ):
            continue
        report.changed[ref] = (old, new)
        groups[_cause(old, new)].append(ref)
    report.groups = dict(groups)
    report.oversold = _oversold(data, after)
    return report


def input_from_scenario(scenario: dict[str, Any]) -> ReplayInput:
    """A scenario's orders, catalogue and stock (as `service.scenarios.load_scenario` reads
    them)."""
    orders = [
        ({**order, "channel": channel}, {})
        for channel, listed in scenario["channels"].items()
        for order in listed
    ]
    return ReplayInput(orders, scenario["skus"], scenario["inventory"])


def input_from_store(store: Store, days: int, now: datetime) -> ReplayInput:
    """Orders created in the last `days` days, with the catalogue and on-hand stock."""
    since = utc(now - timedelta(days=days))
    with store.session() as session:
        rows = session.execute(
            select(OrderRow.canonical, OrderRow.raw).where(OrderRow.created_at >= since)
        ).all()
        catalogue = [
            {"sku": c.sku, "title": c.title, "price": c.price}
            for c in session.scalars(select(CatalogueItem))
        ]
        inventory = [
            {"sku": i.sku, "warehouse": i.warehouse, "on_hand": i.on_hand}
            for i in session.scalars(select(InventoryRow))
        ]
    return ReplayInput([(c, r) for c, r in rows], catalogue, inventory)


def order_dates(store: Store) -> tuple[datetime, datetime] | None:
    """When the store's oldest and newest orders were created (UTC); None when it has none."""
    with store.session() as session:
        first, last = session.execute(
            select(func.min(OrderRow.created_at), func.max(OrderRow.created_at))
        ).one()
    return (first, last) if first is not None else None


async def _decide(workflow: Workflow, data: ReplayInput, path: Path) -> dict[str, Decision]:
    store = open_store(f"sqlite:///{path}")
    try:
        with store.engine.begin() as conn:
            stock_store.sync_catalogue(conn, data.catalogue)
            stock_store.sync_inventory(conn, data.inventory)
        env = RunEnv(workflow, store, connectors=None, draft=True, dry_run=True)
        with store.engine.begin() as conn:
            store_orders(env, conn, data.orders, IngestResult())
        run_ids = unfinished_runs(store, workflow.id, env.version)
        await EmbeddedDispatcher(Runner(env), 32).run_all(run_ids)
        env.close()
        return _decisions(store)
    finally:
        store.dispose()


def _decisions(store: Store) -> dict[str, Decision]:
    with store.session() as session:
        queues = dict(session.execute(select(QueueItem.order_pk, QueueItem.queue)).all())
        paths = dict(session.execute(select(RunRow.order_pk, RunRow.state)).all())
        rows = session.execute(
            select(
                OrderRow.id,
                OrderRow.channel,
                OrderRow.order_id,
                OrderRow.status,
                OrderRow.warehouse,
            )
        ).all()
    return {
        f"{channel}:{order_id}": Decision(
            status, warehouse, queues.get(pk), tuple(paths.get(pk) or ())
        )
        for pk, channel, order_id, status, warehouse in rows
    }


def _cause(old: Decision, new: Decision) -> str:
    """A group name: the outcome (or warehouse, queue) change and the path difference."""
    parts = []
    if old.outcome != new.outcome:
        parts.append(f"{_shown(old.outcome)} → {_shown(new.outcome)}")
    if old.warehouse != new.warehouse:
        parts.append(f"warehouse {_shown(old.warehouse)} → {_shown(new.warehouse)}")
    if old.queue != new.queue:
        parts.append(f"queue {_shown(old.queue)} → {_shown(new.queue)}")
    skipped = [n for n in old.path if n not in new.path]
    added = [n for n in new.path if n not in old.path]
    how = ", ".join([f"skips {n}" for n in skipped] + [f"via {n}" for n in added])
    return "; ".join(parts) + (f" ({how})" if how else "")


def _oversold(data: ReplayInput, after: dict[str, Decision]) -> list[str]:
    """Orders the candidate ships although the stock was already used up (by created time)."""
    left = {(i["sku"], i["warehouse"]): int(i["on_hand"]) for i in data.inventory}
    shipped = sorted(
        (
            order
            for order, _ in data.orders
            if after.get(f"{order['channel']}:{order['order_id']}", _NONE).outcome == "shipped"
        ),
        key=lambda o: (o["created_at"], o["channel"], o["order_id"]),
    )
    over = []
    for order in shipped:
        ref = f"{order['channel']}:{order['order_id']}"
        warehouse = after[ref].warehouse
        short = False
        for line in order["items"]:
            key = (line["sku"], warehouse)
            left[key] = left.get(key, 0) - int(line["qty"])
            short = short or left[key] < 0
        if short:
            over.append(ref)
    return over


def _shown(value: str | None) -> str:
    """A decision's part as a person reads it: ``none`` for no warehouse or queue."""
    return value if value else "none"


def _brief(d: Decision) -> dict[str, Any]:
    return {"outcome": d.outcome, "warehouse": d.warehouse, "queue": d.queue}


_NONE = Decision("", None, None, ())
