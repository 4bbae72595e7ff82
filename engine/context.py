"""What a step may touch: `StepContext` (per run and node) and its store façade `NodeStore`.

Nodes never see a connection or a table: they call the façade, whose writes go through the
process's `Writer` and become durable with the run's next commit. Before an external call a
node awaits `begin_effect`, which makes the run's work so far and the effect's STARTED mark
durable, so a crash during the call is reconciled on resume instead of repeated.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update

from engine import erp_sync
from engine.order import Order
from engine.store import orders as order_store
from engine.store import outbound as outbound_store
from engine.store import stock as stock_store
from engine.store.after_sales import AfterSalesView
from engine.store.models import Effect, Waybill, utcnow
from engine.store.prepared import Prepared
from engine.store.runs import OrderStanding, RunState, save_order, save_run
from engine.store.waits import park
from engine.store.writer import Writer

if TYPE_CHECKING:
    from engine.runner import RunEnv

#: SF Express limits its idempotency key (orderId) to 64 characters
MAX_EFFECT_KEY = 64
#: test-only switch: False gives every attempt of an effect a fresh key, so nothing of an
#: earlier attempt is found (no reconciling, no carrier-side dedup); the chaos twin
#: (`bench.chaos`, tests/e2e/test_chaos.py) shows a crash then makes a second waybill
EFFECT_KEYS = True
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_effects = Effect.__table__
_waybills = Waybill.__table__
_EFFECT = Prepared(select(_effects).where(_effects.c.key == bindparam("key")))
_SUCCEEDED = Prepared(
    update(_effects)
    .where(_effects.c.key == bindparam("key"))
    .values(status="succeeded", result=bindparam("result"), finished_at=bindparam("now"))
)
_WAYBILL_OF = Prepared(
    select(_waybills.c.waybill_no)
    .where(_waybills.c.order_pk == bindparam("order_pk"))
    .order_by(_waybills.c.id)
)
_UPLOADED = Prepared(
    update(_waybills)
    .where(_waybills.c.effect_key == bindparam("key"), _waybills.c.uploaded_at.is_(None))
    .values(uploaded_at=bindparam("now"))
)


@dataclass
class LiveRun:
    """A run being advanced: its state, its order's standing, and what is not saved yet
    (step records, and the waits it parked on)."""

    run: RunState
    row: OrderStanding
    order: Order
    steps: list[dict[str, Any]] = field(default_factory=list)
    waits: list[dict[str, Any]] = field(default_factory=list)
    #: who or what woke the run, told in the detail of the step it takes next
    woken: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return self.run.id

    @property
    def done(self) -> bool:
        return self.run.status in ("completed", "failed", "retry", "waiting")

    saved_run: tuple[Any, ...] = ()
    saved_order: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        self.saved_order = (self.row.status, self.row.reason, self.row.warehouse)

    def save(self, writer: Writer) -> None:
        """Write the run's progress, the order's standing, the new step records and waits —
        each only when it changed since the last save."""
        run = (self.run.status, self.run.position, len(self.run.state))
        if run != self.saved_run or self.steps:
            save_run(writer, self.run)
            self.saved_run = run
        order = (self.row.status, self.row.reason, self.row.warehouse)
        if order != self.saved_order:
            save_order(writer, self.row)
            self.saved_order = order
        if self.steps:
            writer.add_steps(self.steps)
            self.steps = []
        if self.waits:
            park(writer, self.waits)
            self.waits = []


@dataclass
class EffectRecord:
    key: str
    status: str  # started or succeeded
    result: dict[str, Any]


class NodeStore:
    """The store as one run of one order sees it."""

    def __init__(self, env: RunEnv, live: LiveRun) -> None:
        self._env = env
        self._w = env.writer
        self._live = live
        self.wrote = False

    # -- reads
    def catalogue(self) -> frozenset[str]:
        return self._env.catalogue()

    def catalogue_known(self) -> bool:
        """True once the ERP catalogue was synced (see `engine.erp_sync`)."""
        return erp_sync.catalogue_known(self._w)

    def stock_known(self, warehouse: str) -> bool:
        """True once the ERP's stock was synced (or `warehouse` has stock rows)."""
        return erp_sync.stock_known(self._w, warehouse)

    def find_earlier(self, scope: str, key: str, window: timedelta) -> str | None:
        """Ref of the latest eligible order with `key` created within `window` before this one."""
        found = order_store.find_earlier(self._w, scope, key, vars(self._live.row), window)
        return f"{found[0]}:{found[1]}" if found else None

    def warehouse(self) -> str | None:
        return self._live.row.warehouse

    def effect(self, key: str) -> EffectRecord | None:
        rows = self._w.run(_EFFECT, {"key": key})
        return EffectRecord(key, rows[0]["status"], rows[0]["result"]) if rows else None

    # -- writes (durable with the run's next commit)
    def assign_warehouse(self, code: str) -> None:
        self._live.row.warehouse = code

    def reserve(self, warehouse: str, lines: dict[str, int]) -> dict[str, int] | None:
        self.wrote = True
        return stock_store.reserve(self._w, self._live.row.id, warehouse, lines, self._live.id)

    def sync_catalogue(self, rows: list[dict[str, Any]]) -> int:
        """Write the ERP's catalogue read by this step (see `engine.ingest.sync_catalogue`)."""
        from engine.ingest import sync_catalogue  # the ingest imports the runner, which us

        self.wrote = True
        return sync_catalogue(self._env, rows, self._w)

    def sync_stock(self, rows: list[dict[str, Any]]) -> int:
        """Set on-hand stock from the ERP rows this step read; reservations are kept."""
        self.wrote = True
        written = stock_store.sync_inventory(self._w, rows)
        erp_sync.mark_synced(self._w, erp_sync.STOCK)
        return written

    def raise_alert(self, kind: str, subject: str, message: str) -> bool:
        """Raise an alert once per (kind, subject) and queue its notification; True if new."""
        self.wrote = True
        new = stock_store.raise_alert(self._w, kind, subject, message, self._live.id)
        if new:
            stock_store.add_outbox(self._w, "wecom", {"kind": kind, "text": message})
        return new

    def waybill_no(self) -> str | None:
        """The number of a waybill already made for this order, if any."""
        rows = self._w.run(_WAYBILL_OF, {"order_pk": self._live.row.id})
        return rows[0]["waybill_no"] if rows else None

    def release_stock(self) -> dict[str, int]:
        """Give back this order's reservations not yet shipped or given back."""
        self.wrote = True
        return outbound_store.release(self._w, self._live.row.id, self._live.id)

    def close_queue_items(self, status: str) -> int:
        """Close the order's open queue items (held, review …) with `status`."""
        self.wrote = True
        return stock_store.close_items(self._w, self._live.row.id, status)

    def enqueue(self, queue: str, reason: str, detail: dict[str, Any] | None = None) -> None:
        self.wrote = True
        stock_store.enqueue(self._w, queue, self._live.row.id, self._live.id, reason, detail or {})

    def notify(self, text: str, target: str = "wecom") -> None:
        """Queue a message; it is sent after the step commits (outbox)."""
        self.wrote = True
        stock_store.add_outbox(self._w, target, {"kind": "message", "text": text})

    def record_waybill(self, key: str, carrier: str, waybill_no: str) -> None:
        self.wrote = True
        stock_store.insert_ignore(
            self._w,
            Waybill,
            {
                "effect_key": key,
                "order_pk": self._live.row.id,
                "carrier": carrier,
                "waybill_no": waybill_no,
                "created_at": utcnow(),
            },
        )

    def after_sales(self) -> AfterSalesView:
        """The after-sales tables as this run's request sees them (writes ride the run)."""
        self.wrote = True
        return AfterSalesView(self._w, vars(self._live.row))

    def mark_uploaded(self, key: str) -> None:
        self.wrote = True
        self._w.run(_UPLOADED, {"key": key, "now": utcnow()})


class RunStepContext:
    """The `StepContext` the runner hands a node."""

    def __init__(self, env: RunEnv, live: LiveRun, node_id: str) -> None:
        self._env = env
        self._live = live
        self.run_id = live.id
        self.node_id = node_id
        self.workflow_id = env.workflow.id
        self.version = env.version
        self.params = env.workflow.values
        self.state = live.run.state
        self.dry_run = env.dry_run
        self.connectors = env.connectors
        self.store = NodeStore(env, live)
        #: effects this step began: key -> what an earlier try left (None: nothing), and
        #: the keys it finished; the runner reads them to know whether anything may have
        #: landed before a failure (`engine.faults`)
        self.begun: dict[str, str | None] = {}
        self.ended: set[str] = set()

    def now(self) -> datetime:
        return self._env.clock()

    def fact(self, key: str, default: Any = None) -> Any:
        """The latest value an earlier step of this run recorded under `key`."""
        for detail in reversed(list(self.state.values())):
            if isinstance(detail, dict) and key in detail:
                return detail[key]
        return default

    def effect_key(self, *parts: str) -> str:
        """A key for an external effect, from workflow, order and node (never the attempt)."""
        ref = self._live.row.ref
        if not EFFECT_KEYS:  # the twin: every attempt looks like the first
            parts = (*parts, uuid.uuid4().hex)
        key = _UNSAFE.sub("-", "-".join([self.workflow_id, ref, self.node_id, *parts]))
        if len(key) <= MAX_EFFECT_KEY:
            return key
        return "OH" + hashlib.sha256(key.encode()).hexdigest()[:40]

    async def begin_effect(self, key: str, kind: str) -> EffectRecord | None:
        """Mark the effect STARTED and make the run's work so far durable, before the call.

        Returns what an earlier attempt left (STARTED: reconcile before calling again;
        SUCCEEDED: its result), or None when this is the first attempt.
        """
        writer = self._env.writer
        new = stock_store.insert_ignore(
            writer,
            Effect,
            {
                "key": key,
                "kind": kind,
                "status": "started",
                "result": {},
                "run_id": self.run_id,
                "started_at": utcnow(),
            },
        )
        prior = None if new else self.store.effect(key)
        self.begun[key] = prior.status if prior is not None else None
        if prior is not None and prior.status == "succeeded":
            return prior
        self._live.save(writer)
        await writer.durable()
        return prior

    def end_effect(self, key: str, result: dict[str, Any]) -> None:
        """Mark the effect SUCCEEDED with its result (durable with the run's next commit)."""
        self.store.wrote = True
        self.ended.add(key)
        self._env.writer.run(_SUCCEEDED, {"key": key, "result": result, "now": utcnow()})

    async def durable(self) -> None:
        """Commit the run's work so far now: an effect's result that must not wait for the
        run's next commit (a crash before it would repeat an effect nobody can check), or
        before a call that changes nothing outside but may fail (its breaker writes on a
        connection of its own, which must not wait behind the runs' open transaction)."""
        self._live.save(self._env.writer)
        await self._env.writer.durable()
