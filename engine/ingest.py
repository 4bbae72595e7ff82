"""The source step: pull orders, upsert them, record their keys and start one run per change.

A trigger (schedule, webhook, manual, or `orderhub run`) calls `ingest`. The source node
yields pages of orders; each page is upserted by (channel, order_id), its lookup keys are
recorded (so a dedup verdict never depends on which run goes first), a run is created for
every new or changed order, and the source's cursor is saved — all in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.order import Order
from engine.runner import RunEnv
from engine.store import orders as order_store
from engine.store import stock as stock_store
from engine.store.models import OrderRow, RunRow

log = logging.getLogger("orderhub.ingest")


@dataclass
class Batch:
    """One page a source yielded: orders (canonical dict, raw record) and its cursor."""

    cursor: str
    position: datetime
    items: list[tuple[dict[str, Any], dict[str, Any]]]


@dataclass
class IngestResult:
    pulled: int = 0
    changed: int = 0
    runs: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class PrepareContext:
    """What a node's `prepare` hook may use, once per trigger: connectors and syncs."""

    def __init__(self, env: RunEnv, result: IngestResult) -> None:
        self.env = env
        self.connectors = env.connectors
        self.dry_run = env.dry_run
        self._result = result

    def now(self) -> datetime:
        return self.env.clock()

    def sync_catalogue(self, rows: list[dict[str, Any]]) -> int:
        with self.env.store.session() as session, session.begin():
            return stock_store.sync_catalogue(session, rows)

    def sync_inventory(self, rows: list[dict[str, Any]]) -> int:
        with self.env.store.session() as session, session.begin():
            return stock_store.sync_inventory(session, rows)

    def warn(self, message: str) -> None:
        log.warning(message)
        self._result.warnings.append(message)


class SourceContext:
    """What a source node's `pull` may use: connectors, cursors and the time range asked for."""

    def __init__(
        self, env: RunEnv, node_id: str, since: datetime | None, until: datetime | None
    ) -> None:
        self.env = env
        self.node_id = node_id
        self.connectors = env.connectors
        self.since = since
        self.until = until

    def now(self) -> datetime:
        return self.env.clock()

    def cursor_name(self, part: str) -> str:
        return f"{self.env.workflow.id}/{self.node_id}/{part}"

    def cursor(self, part: str) -> datetime | None:
        with self.env.store.session() as session:
            return order_store.get_cursor(session, self.cursor_name(part))


@dataclass(frozen=True)
class IndexContext:
    """What a node's `index` hook may read while orders are ingested."""

    catalogue: frozenset[str]


async def ingest(
    env: RunEnv, *, since: datetime | None = None, until: datetime | None = None
) -> IngestResult:
    """Run the workflow's source node and start a run for every new or changed order."""
    result = IngestResult()
    for node in env.nodes.values():
        if hasattr(node, "prepare"):
            await node.prepare(PrepareContext(env, result))
    source = env.nodes[env.workflow.source]
    ctx = SourceContext(env, env.workflow.source, since, until)
    indexers = [n for n in env.nodes.values() if hasattr(n, "index")]
    with env.store.session() as session:
        index_ctx = IndexContext(stock_store.catalogue_skus(session))
    async for batch in source.pull(ctx):
        with env.store.session() as session, session.begin():
            _store_batch(env, session, batch, indexers, index_ctx, result)
    return result


def _store_batch(
    env: RunEnv,
    session: Session,
    batch: Batch,
    indexers: list[Any],
    index_ctx: IndexContext,
    result: IngestResult,
) -> None:
    orders = [(Order.model_validate(canonical), raw) for canonical, raw in batch.items]
    result.pulled += len(orders)
    by_ref = {order.ref: order for order, _ in orders}
    for row, changed in order_store.upsert_orders(session, orders):
        if not changed:
            continue
        order = by_ref[f"{row.channel}:{row.order_id}"]
        for node in indexers:
            for scope, key, eligible in node.index(order, index_ctx):
                order_store.save_key(session, row, scope, key, eligible=eligible)
        result.changed += 1
        result.runs.append(_start_run(env, session, row))
    order_store.set_cursor(session, batch.cursor, batch.position)


def _start_run(env: RunEnv, session: Session, row: OrderRow) -> int:
    existing = (
        session.query(RunRow)
        .filter_by(
            order_pk=row.id,
            workflow_id=env.workflow.id,
            version=env.version,
            order_hash=row.content_hash,
        )
        .first()
    )
    if existing is not None:
        return existing.id
    session.execute(
        update(RunRow)
        .where(RunRow.order_pk == row.id, RunRow.status == "pending")
        .values(status="superseded")
    )
    run = RunRow(
        order_pk=row.id,
        order_hash=row.content_hash,
        workflow_id=env.workflow.id,
        version=env.version,
        draft=env.draft,
        status="pending",
        position=env.workflow.start,
        state={},
    )
    session.add(run)
    session.flush()
    row.status = "pending"
    return run.id
