"""The runner: advances one run (one order through one workflow version) node by node.

`advance` executes the node at the run's position and records the step; `finish` calls it
until the run ends. Pure steps ride in the transaction of the next step that writes; a step
with an external effect commits before its call (`begin_effect`) and after it, so a run
stopped half way resumes from its last committed position without repeating an effect.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import registry
from engine.context import RunStepContext
from engine.errors import ConnectorError
from engine.node import Outcome
from engine.order import Order
from engine.store import Store
from engine.store.models import OrderRow, RunRow, StepRow, utcnow
from engine.workflow import NodeSpec, Workflow


def build_nodes(workflow: Workflow) -> dict[str, Any]:
    """One instance of each node's type, built from its validated params."""
    instances = {}
    for spec in workflow.nodes.values():
        cls = registry.get(spec.type)
        instances[spec.id] = cls(cls.Params(**spec.config), spec.id)
    return instances


@dataclass
class RunEnv:
    """What every run of one workflow version shares."""

    workflow: Workflow
    store: Store
    connectors: Any
    version: str = ""
    draft: bool = False
    dry_run: bool = False
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    nodes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.version = self.version or self.workflow.content_hash
        self.nodes = self.nodes or build_nodes(self.workflow)


@dataclass
class LiveRun:
    """A run being advanced: its rows, its order and the session of its unit of work."""

    session: Session
    run: RunRow
    row: OrderRow
    order: Order
    seq: int = 0

    @property
    def done(self) -> bool:
        return self.run.status in ("completed", "failed")


class Runner:
    """Advances runs of one workflow version."""

    def __init__(self, env: RunEnv) -> None:
        self.env = env

    async def finish(self, run_id: int) -> str | None:
        """Advance a run until it ends; returns the order's outcome."""
        live = self.open(run_id)
        try:
            while await self.advance(live):
                pass
            return live.run.outcome
        finally:
            live.session.close()

    def open(self, run_id: int) -> LiveRun:
        session = self.env.store.session()
        run = session.get(RunRow, run_id)
        row = session.get(OrderRow, run.order_pk)
        order = Order.model_validate(row.canonical)
        seq = len(run.state)
        if run.status == "pending":
            run.status, run.started_at = "running", utcnow()
        return LiveRun(session, run, row, order, seq)

    async def advance(self, live: LiveRun) -> bool:
        """Execute the node at the run's position and record its step; False once it ended."""
        if live.done or live.run.position is None:
            return False
        spec = self.env.workflow.nodes[live.run.position]
        ctx = RunStepContext(self.env, live.session, live.run, live.row, spec.id)
        started, t0 = utcnow(), time.perf_counter()
        try:
            outcome = await self.env.nodes[spec.id].run(live.order, ctx)
            target = spec.target(outcome.name)
        except ConnectorError as exc:
            if spec.on_error is None:
                return self._fail(live, spec, started, t0, exc)
            outcome, target = Outcome("error", {"error": str(exc)}, reason=str(exc)), spec.on_error
        except Exception as exc:  # a bug in a node: the run stops, resumable, with the trace
            return self._fail(live, spec, started, t0, exc)
        self._record(live, spec, outcome, target, started, t0)
        if target is None or ctx.store.wrote or self.env.nodes[spec.id].side_effects:
            live.session.commit()
        return target is not None

    def _record(
        self,
        live: LiveRun,
        spec: NodeSpec,
        outcome: Outcome,
        target: str | None,
        started: datetime,
        t0: float,
    ) -> None:
        live.seq += 1
        live.session.add(
            StepRow(
                run_id=live.run.id,
                node_id=spec.id,
                node_type=spec.type,
                seq=live.seq,
                status="succeeded",
                outcome=outcome.name,
                detail=outcome.detail,
                started_at=started,
                duration_ms=(time.perf_counter() - t0) * 1000,
            )
        )
        run, row = live.run, live.row
        detail = {**outcome.detail, "outcome": outcome.name}
        if outcome.reason is not None:
            row.reason = detail["reason"] = outcome.reason
        run.state = {**run.state, spec.id: detail}
        if outcome.status is not None:
            row.status = outcome.status
        run.position = target
        if target is None:
            run.status, run.outcome, run.finished_at = "completed", row.status, utcnow()

    def _fail(
        self, live: LiveRun, spec: NodeSpec, started: datetime, t0: float, exc: Exception
    ) -> bool:
        live.session.rollback()
        error = "".join(traceback.format_exception_only(exc)).strip()
        if not isinstance(exc, ConnectorError):
            error += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
        run, row = live.run, live.row
        run.status, run.error, run.finished_at, run.outcome = "failed", error, utcnow(), "failed"
        row.status, row.reason = "failed", error.splitlines()[0][:255]
        live.session.add(
            StepRow(
                run_id=run.id,
                node_id=spec.id,
                node_type=spec.type,
                seq=live.seq + 1,
                status="failed",
                error=error,
                started_at=started,
                duration_ms=(time.perf_counter() - t0) * 1000,
            )
        )
        live.session.commit()
        return False
