"""What a step may touch: `StepContext` (per run and node) and its store façade `NodeStore`.

Nodes never see a session or a table: they call the façade, whose writes ride in the run's
current unit of work and are committed by the runner with the step that made them. Before
an external call a node calls `begin_effect`, which commits, so no transaction is ever held
across an await.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from engine.store import orders as order_store
from engine.store import stock as stock_store
from engine.store.models import Effect, OrderRow, RunRow, Waybill, utcnow

if TYPE_CHECKING:
    from engine.runner import RunEnv

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
#: SF Express limits its idempotency key (orderId) to 64 characters
MAX_EFFECT_KEY = 64


@dataclass
class EffectRecord:
    key: str
    status: str  # started or succeeded
    result: dict[str, Any]


class NodeStore:
    """The store as one run of one order sees it."""

    def __init__(self, session: Session, run: RunRow, order: OrderRow) -> None:
        self._session = session
        self._run = run
        self._order = order
        self.wrote = False

    # -- reads
    def catalogue(self) -> frozenset[str]:
        return stock_store.catalogue_skus(self._session)

    def find_earlier(self, scope: str, key: str, window: timedelta) -> str | None:
        """Ref of the latest eligible order with `key` created within `window` before this one."""
        row = order_store.find_earlier(self._session, scope, key, self._order, window)
        return f"{row.channel}:{row.order_id}" if row else None

    def warehouse(self) -> str | None:
        return self._order.warehouse

    def effect(self, key: str) -> EffectRecord | None:
        row = self._session.get(Effect, key)
        return EffectRecord(row.key, row.status, row.result) if row else None

    # -- writes (committed with the step)
    def assign_warehouse(self, code: str) -> None:
        self._order.warehouse = code
        self.wrote = True

    def reserve(self, warehouse: str, lines: dict[str, int]) -> dict[str, int] | None:
        self.wrote = True
        return stock_store.reserve(self._session, self._order.id, warehouse, lines, self._run.id)

    def raise_alert(self, kind: str, subject: str, message: str) -> bool:
        """Raise an alert once per (kind, subject) and queue its notification; True if new."""
        self.wrote = True
        new = stock_store.raise_alert(self._session, kind, subject, message, self._run.id)
        if new:
            stock_store.add_outbox(self._session, "wecom", {"kind": kind, "text": message})
        return new

    def enqueue(self, queue: str, reason: str, detail: dict[str, Any] | None = None) -> None:
        self.wrote = True
        stock_store.enqueue(
            self._session, queue, self._order.id, self._run.id, reason, detail or {}
        )

    def notify(self, text: str, target: str = "wecom") -> None:
        """Queue a message; it is sent after the step commits (outbox)."""
        self.wrote = True
        stock_store.add_outbox(self._session, target, {"kind": "message", "text": text})

    def record_waybill(self, key: str, carrier: str, waybill_no: str) -> None:
        if self._session.query(Waybill).filter_by(effect_key=key).first() is None:
            self._session.add(
                Waybill(
                    effect_key=key, order_pk=self._order.id, carrier=carrier, waybill_no=waybill_no
                )
            )

    def mark_uploaded(self, key: str) -> None:
        row = self._session.query(Waybill).filter_by(effect_key=key).first()
        if row is not None and row.uploaded_at is None:
            row.uploaded_at = utcnow()


class RunStepContext:
    """The `StepContext` the runner hands a node."""

    def __init__(
        self, env: RunEnv, session: Session, run: RunRow, order: OrderRow, node_id: str
    ) -> None:
        self._env = env
        self._session = session
        self.run_id = run.id
        self.node_id = node_id
        self.workflow_id = env.workflow.id
        self.version = env.version
        self.params = env.workflow.values
        self.state = run.state
        self.dry_run = env.dry_run
        self.connectors = env.connectors
        self.store = NodeStore(session, run, order)
        self._order_ref = f"{order.channel}:{order.order_id}"

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
        key = _UNSAFE.sub("-", "-".join([self.workflow_id, self._order_ref, self.node_id, *parts]))
        if len(key) <= MAX_EFFECT_KEY:
            return key
        return "OH" + hashlib.sha256(key.encode()).hexdigest()[:40]

    def begin_effect(self, key: str, kind: str) -> None:
        """Commit the run's work so far and the effect as STARTED, before the external call."""
        row = self._session.get(Effect, key)
        if row is None:
            self._session.add(Effect(key=key, kind=kind, status="started", run_id=self.run_id))
        self._session.commit()

    def end_effect(self, key: str, result: dict[str, Any]) -> None:
        """Commit the effect as SUCCEEDED with its result (with whatever the node wrote)."""
        row = self._session.get(Effect, key)
        if row is None:
            row = Effect(key=key, kind="", status="started", run_id=self.run_id)
            self._session.add(row)
        row.status, row.result, row.finished_at = "succeeded", result, utcnow()
        self._session.commit()


Clock = Callable[[], datetime]
