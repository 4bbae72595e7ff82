"""The source step: pull orders, upsert them, record their keys and start one run per change.

A trigger (schedule, webhook, manual, or `orderhub run`) calls `ingest`. The source node
yields pages of orders; each page is upserted by (channel, order_id), its lookup keys are
recorded (so a dedup verdict never depends on which run goes first), a run is created for
every new or changed order, and the source's cursor is saved — all in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import erp_sync
from engine import unreadable as unreadable_mod
from engine.errors import ConnectorError
from engine.order import Order
from engine.restock import resume_for_stock
from engine.runner import RunEnv
from engine.store import after_sales, documents
from engine.store import orders as order_store
from engine.store import outbound as outbound_store
from engine.store import stock as stock_store
from engine.store.models import OrderKey, OrderRow, utc
from engine.store.runs import start_runs, supersede
from engine.unreadable import read_order
from engine.waits import wake

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
    not_pulled: dict[str, str] = field(default_factory=dict)  # source part -> why
    restocked: int = 0  # waiting runs an inventory sync woke (they finish with the others)
    erp_woken: int = 0  # runs waiting for the ERP that a sync which succeeded woke
    adopted: int = 0  # orders orderhub made (exchange replacements) that got a run here


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
        """Write the ERP's catalogue (see `sync_catalogue`); then wake the runs waiting
        for the ERP. Returns the rows written."""
        written = sync_catalogue(self.env, rows)
        self._erp_answered()
        return written

    def sync_inventory(
        self, rows: list[dict[str, Any]], shipped: list[dict[str, Any]] | None = None
    ) -> int:
        """Set on-hand from the ERP's `rows`; first consume the reservations of the outbound
        bill lines `shipped` (fetched before `rows`), in the same transaction with their
        cursor (see `engine.store.outbound`). Then wake the orders waiting for stock that now
        fits (`engine.restock`). Returns the inventory rows written."""
        with self.env.store.engine.begin() as conn:
            done = outbound_store.consume(conn, shipped) if shipped else None
            written = stock_store.sync_inventory(conn, rows)
            erp_sync.mark_synced(conn, erp_sync.STOCK)
        self._erp_answered()
        if not self.dry_run:  # orders waiting for stock that now fits go on, oldest paid first
            woken = resume_for_stock(self.env.store, now=self.env.clock())
            self._result.restocked += len(woken)
        if done is not None and done.ignored:
            self.warn(
                f"{len(done.ignored)} ERP outbound bill lines match no reservation of ours "
                f"(order unknown or not reserved there), ignored: {', '.join(done.ignored[:5])}"
                + (" …" if len(done.ignored) > 5 else "")
            )
        return written

    def _erp_answered(self) -> None:
        """The ERP just answered: the runs waiting for it go on (with the others)."""
        if self.dry_run:
            return
        note = "the ERP answered this trigger's sync"
        woken = wake(self.env.store, "system", erp_sync.SYSTEM, None, "ERP sync", note=note)
        self._result.erp_woken += len(woken)

    def record_serials(self, skus: list[str], serials: list[dict[str, Any]]) -> None:
        """Mark `skus` serial-tracked and record the serials packed (ERP outbound bills)."""
        with self.env.store.engine.begin() as conn:
            after_sales.mark_serial_skus(conn, skus)
            _, unknown = after_sales.record_serials(conn, serials)
        if unknown:
            self.warn(f"{len(unknown)} orders with serials in the ERP are unknown here, ignored")

    def outbound_since(self) -> datetime | None:
        """Where the next ERP outbound fetch starts; None when there is nothing to fetch."""
        with self.env.store.engine.connect() as conn:
            return outbound_store.outbound_since(conn)

    async def fetch(
        self, label: str, fetch: Callable[[], Awaitable[list[dict[str, Any]]]]
    ) -> list[dict[str, Any]] | None:
        """Read from an external system for a later write; None when it fails (a warning)
        or in a dry run."""
        if self.dry_run:
            return None
        try:
            return await fetch()
        except ConnectorError as exc:
            self.warn(f"{label} not read ({exc}); going on without it until the next trigger")
            return None

    async def refresh(
        self,
        label: str,
        fetch: Callable[[], Awaitable[list[dict[str, Any]]]],
        write: Callable[[list[dict[str, Any]]], int],
    ) -> bool:
        """Copy data from an external system into the local cache; on failure keep the cache.

        This is what lets work go on when the ERP is down. Skipped in a dry run.
        """
        if self.dry_run:
            return False
        try:
            write(await fetch())
        except ConnectorError as exc:
            self.warn(f"{label} not refreshed ({exc}); going on with the cached copy")
            return False
        return True

    def warn(self, message: str) -> None:
        log.warning(message)
        self._result.warnings.append(message)


class SourceContext:
    """What a source node's `pull` may use: connectors, cursors and the time range asked for."""

    def __init__(
        self,
        env: RunEnv,
        node_id: str,
        since: datetime | None,
        until: datetime | None,
        result: IngestResult | None = None,
    ) -> None:
        self.env = env
        self.node_id = node_id
        self.connectors = env.connectors
        self.since = since
        self.until = until
        self._result = result or IngestResult()

    def not_pulled(self, part: str, error: ConnectorError) -> None:
        """`part` (a channel) could not be pulled: its cursor stays, the other parts go on,
        and the team is told (WeCom, through the outbox)."""
        message = f"{self.cursor_name(part)} not pulled: {error}"
        log.warning(message)
        self._result.warnings.append(message)
        self._result.not_pulled[part] = str(error)
        if not self.env.dry_run:
            with self.env.store.engine.begin() as conn:
                stock_store.add_outbox(
                    conn, "wecom", {"kind": "pull", "text": f"orderhub: {message}"}
                )

    def now(self) -> datetime:
        return self.env.clock()

    def cursor_name(self, part: str) -> str:
        return f"{self.env.workflow.id}/{self.node_id}/{part}"

    def cursor(self, part: str) -> datetime | None:
        with self.env.store.engine.connect() as conn:
            return order_store.get_cursor(conn, self.cursor_name(part))


@dataclass(frozen=True)
class IndexContext:
    """What a node's `index` hook may read while orders are ingested."""

    catalogue: frozenset[str]


def sync_catalogue(env: RunEnv, rows: list[dict[str, Any]], conn: Any = None) -> int:
    """Write the ERP's catalogue `rows` and mark it synced (in `conn`'s transaction when
    given, else in one of its own). The first sync of a store also records the lookup keys
    of the orders pulled before it again (`reindex`): an order checked against no catalogue
    could not count as an earlier valid order for dedup. Returns the rows written."""
    if conn is None:
        with env.store.engine.begin() as own:
            return sync_catalogue(env, rows, own)
    first = not erp_sync.catalogue_known(conn)
    written = stock_store.sync_catalogue(conn, rows)
    erp_sync.mark_synced(conn, erp_sync.CATALOGUE)
    env.forget_catalogue()
    if first and erp_sync.REKEY_ON_FIRST_SYNC:
        reindex(env, conn)
    return written


def reindex(env: RunEnv, conn: Any) -> int:
    """Record again, with the catalogue as it is now, the lookup keys of the orders whose
    keys were recorded as not eligible; returns how many orders."""
    indexers = [n for n in env.nodes.values() if hasattr(n, "index")]
    if not indexers:
        return 0
    index_ctx = IndexContext(stock_store.catalogue_skus(conn))
    keys = OrderKey.__table__
    query = select(OrderRow.id, OrderRow.canonical).where(
        OrderRow.id.in_(select(keys.c.order_pk).where(keys.c.eligible.is_(False)))
    )
    rows = []
    found = conn.execute(query).all()
    for pk, canonical in found:
        order = Order.model_validate(canonical)
        rows += [
            {
                "order_pk": pk,
                "scope": scope,
                "key": key,
                "eligible": eligible,
                "created_at": utc(order.created_at),
            }
            for node in indexers
            for scope, key, eligible in node.index(order, index_ctx)
        ]
    order_store.save_keys(conn, rows)
    return len(found)


OnPage = Callable[[str, int], None]  # (the page's cursor, e.g. "order_intake/pull/h5"; orders)


async def ingest(
    env: RunEnv,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    on_page: OnPage | None = None,
) -> IngestResult:
    """Run the workflow's source node and start a run for every new or changed order.

    `on_page` hears of every page once it is stored (a door shows progress with it).
    """
    result = IngestResult()
    if not env.dry_run:  # any process that resumes one of its runs can build this version
        wf = env.workflow
        with env.store.engine.begin() as conn:
            documents.remember(conn, wf.id, env.version, wf.file, wf.text)
    for node in env.nodes.values():
        if hasattr(node, "prepare"):
            await node.prepare(PrepareContext(env, result))
    source = env.nodes[env.workflow.source]
    ctx = SourceContext(env, env.workflow.source, since, until, result)
    indexers = [n for n in env.nodes.values() if hasattr(n, "index")]
    index_ctx = IndexContext(env.catalogue())
    env.writer.commit()  # nothing of ours may hold the database while a page is stored
    async for batch in source.pull(ctx):
        with env.store.engine.begin() as conn:
            _store_batch(env, conn, batch, indexers, index_ctx, result)
        if on_page is not None:
            on_page(batch.cursor, len(batch.items))
    if getattr(source, "adopts_made_orders", False):
        with env.store.engine.begin() as conn:
            adopt_made_orders(env, conn, result, indexers, index_ctx)
    return result


def adopt_made_orders(
    env: RunEnv,
    conn: Any,
    result: IngestResult,
    indexers: list[Any],
    index_ctx: IndexContext,
) -> None:
    """Start a run of this workflow version for each order orderhub made itself that has
    none yet (an exchange's replacement, `nodes.as_replacement`): no channel will pull it, so
    the workflow whose source takes such orders (``pull``'s `adopts_made_orders`) starts it
    here, on the version this trigger runs, with its lookup keys, as a pulled order's."""
    found = order_store.made_here_unstarted(conn)
    if not found:
        return
    orders = [(pk, digest, read_order(canonical, {})[0]) for pk, digest, canonical in found]
    order_store.save_keys(conn, _lookup_keys([(pk, o) for pk, _, o in orders], indexers, index_ctx))
    wf = env.workflow
    started = start_runs(
        conn, wf.id, env.version, env.draft, wf.start, [(pk, digest) for pk, digest, _ in orders]
    )
    result.runs += started
    result.adopted += len(started)


def _store_batch(
    env: RunEnv,
    conn: Any,
    batch: Batch,
    indexers: list[Any],
    index_ctx: IndexContext,
    result: IngestResult,
) -> None:
    store_orders(env, conn, batch.items, result, indexers, index_ctx)
    order_store.set_cursor(conn, batch.cursor, batch.position)


def store_orders(
    env: RunEnv,
    conn: Any,
    items: list[tuple[dict[str, Any], dict[str, Any]]],
    result: IngestResult,
    indexers: list[Any] | None = None,
    index_ctx: IndexContext | None = None,
) -> None:
    """Upsert orders, record their lookup keys and start a run for each new or changed one.

    The part of ingest after the pull; a replay feeds recorded orders through it too.
    """
    if indexers is None:
        indexers = [n for n in env.nodes.values() if hasattr(n, "index")]
    index_ctx = index_ctx or IndexContext(env.catalogue())
    orders, unreadable = [], {}
    for canonical, raw in items:
        order, why = read_order(canonical, raw)
        orders.append((order, raw))
        if why is not None:
            unreadable[(order.channel, order.order_id)] = why
    result.pulled += len(orders)
    changed = []
    for s in order_store.upsert_orders(conn, orders):
        why = unreadable.get((s.order.channel, s.order.order_id))
        if why is None:
            changed += [s] if s.changed else []
        elif s.changed:  # kept and queued with its reason; no run can read it
            order_store.set_standing(conn, s.id, unreadable_mod.STATUS, why)
            stock_store.enqueue(conn, unreadable_mod.QUEUE, s.id, None, why, {})
            supersede(conn, [s.id])
            result.warnings.append(f"{s.order.ref}: {why}")
    keys = _lookup_keys([(s.id, s.order) for s in changed], indexers, index_ctx)
    order_store.save_keys(conn, keys)
    stock_store.close_unreadable(conn, [s.id for s in changed])
    wf = env.workflow
    result.runs += start_runs(
        conn, wf.id, env.version, env.draft, wf.start, [(s.id, s.content_hash) for s in changed]
    )
    result.changed += len(changed)


def _lookup_keys(
    orders: list[tuple[int, Any]], indexers: list[Any], index_ctx: IndexContext
) -> list[dict[str, Any]]:
    """The lookup keys (dedup…) the workflow's nodes record for stored orders (pk, Order)."""
    return [
        {
            "order_pk": pk,
            "scope": scope,
            "key": key,
            "eligible": eligible,
            "created_at": utc(order.created_at),
        }
        for pk, order in orders
        for node in indexers
        for scope, key, eligible in node.index(order, index_ctx)
    ]
