"""The runner: advances one run (one order through one workflow version) node by node.

`advance` executes the node at the run's position and records its step; `finish` calls it
until the run ends or waits. Step records and the run's position are written through the process's
`Writer`: pure steps ride in the next commit, a step with an external effect makes the run
durable before its call (`begin_effect`), and a run is durable when it ends. A run stopped
half way resumes from its last durable position without repeating an effect.

A node may end its step by waiting (`Outcome.waits`): the run parks at the node with status
``waiting`` and its waits (`engine.store.waits`); whatever wakes it (`engine.waits.wake`)
makes it ``woken``, and the runner that opens it next applies the wake — follows the route
the waker chose, recorded as the node's step with who woke it, or runs the node again.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine import faults, registry
from engine.context import LiveRun, RunStepContext
from engine.errors import ConflictError, ConnectorError, WorkflowError
from engine.node import Outcome, Wait
from engine.order import Order
from engine.store import Store
from engine.store import breakers as breaker_store
from engine.store import stock as stock_store
from engine.store.models import utc, utcnow
from engine.store.runs import OrderStanding, RunState, load_run
from engine.store.waits import claim_for_running, take_woken
from engine.store.writer import Writer
from engine.workflow import NodeSpec, Workflow


def build_nodes(workflow: Workflow) -> dict[str, Any]:
    """One instance of each node's type, built from its validated params."""
    workflow.check_runnable()  # a saved version that breaks a newer rule never runs
    instances = {}
    for spec in workflow.nodes.values():
        cls = registry.get(spec.type)
        instances[spec.id] = cls(cls.Params(**spec.config), spec.id)
    return instances


@dataclass
class RunEnv:
    """What every run of one workflow version in this process shares."""

    workflow: Workflow
    store: Store
    connectors: Any
    version: str = ""
    draft: bool = False
    dry_run: bool = False
    max_attempts: int = 3  # tries of a run that fails on a passing fault (timeout, 5xx, 429)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    nodes: dict[str, Any] = field(default_factory=dict)
    writer: Writer | None = None
    _catalogue: frozenset[str] | None = None

    def __post_init__(self) -> None:
        self.version = self.version or self.workflow.content_hash
        self.nodes = self.nodes or build_nodes(self.workflow)
        self.writer = self.writer or Writer(self.store)

    def catalogue(self) -> frozenset[str]:
        """The ERP catalogue's SKUs, read once (ingest refreshes it with `forget_catalogue`)."""
        if self._catalogue is None:
            self._catalogue = stock_store.catalogue_skus(self.writer)
        return self._catalogue

    def forget_catalogue(self) -> None:
        self._catalogue = None

    def close(self) -> None:
        self.writer.close()


class Runner:
    """Advances runs of one workflow version."""

    def __init__(self, env: RunEnv) -> None:
        self.env = env

    async def finish(
        self, run_id: int, loaded: tuple[RunState, OrderStanding] | None = None
    ) -> str | None:
        """Advance a run until it ends or waits; returns the order's outcome (`retry` when it
        stopped on a passing fault and a later run tries it again; the order's status when the
        run parked; None when another runner took the woken run first)."""
        live = self.open(run_id, loaded)
        if live is None:
            return None
        while await self.advance(live):
            pass
        live.save(self.env.writer)
        await self.env.writer.durable()
        if live.run.status == "retry":
            return "retry"
        return live.row.status if live.run.status == "waiting" else live.run.outcome

    def open(
        self, run_id: int, loaded: tuple[RunState, OrderStanding] | None = None
    ) -> LiveRun | None:
        run, row = loaded or load_run(self.env.writer, run_id)
        if run.status == "woken" and not claim_for_running(self.env.writer, run.id):
            return None  # another runner claimed it first
        if run.status == "retry":  # failed on a passing fault: try again from that node
            run.attempt += 1
            run.status, run.outcome, run.error, run.finished_at = "running", None, None, None
        live = LiveRun(run, row, Order.model_validate(row.canonical))
        if run.status == "woken":
            self._apply_wake(live)
        if run.status in ("pending", "running", "woken"):
            run.status, run.started_at = "running", run.started_at or utcnow()
        return live

    async def advance(self, live: LiveRun) -> bool:
        """Execute the node at the run's position and record its step (or park the run on
        what the node waits for); False once the run ended or waits."""
        if live.done or live.run.position is None:
            return False
        spec = self.env.workflow.nodes[live.run.position]
        ctx = RunStepContext(self.env, live, spec.id)
        started, t0 = utcnow(), time.perf_counter()
        try:
            outcome = await self.env.nodes[spec.id].run(live.order, ctx)
            target = spec.target(outcome.name)
            waits = self._waits(spec, outcome)
            if not waits:
                self._check_routed(spec, outcome, target)
        except (ConnectorError, ConflictError) as exc:  # a system failed, or the world moved
            decision = faults.decide(spec, exc, ctx)  # backup route, on_error, wait or stop
            if decision.kind == "wait" and faults.system_down(exc, self.env.connectors):
                return self._wait_for_system(live, spec, started, t0, exc)
            if decision.target is None:
                return self._fail(live, spec, started, t0, exc)
            outcome, target, waits = _failed_outcome(decision, exc), decision.target, []
            if decision.kind == "reroute":
                breaker_store.parked(self.env.writer, decision.system)
        except Exception as exc:  # a bug in a node: the run stops, resumable, with the trace
            return self._fail(live, spec, started, t0, exc)
        if waits:
            self._park(live, spec, outcome, waits)
            return False
        self._record(live, spec, outcome, target, started, t0)
        return target is not None

    def _check_routed(self, spec: NodeSpec, outcome: Outcome, target: str | None) -> None:
        if target is None and outcome.name not in self.env.nodes[spec.id].terminal:
            raise WorkflowError(  # never end a run silently with the order half done
                f"node {spec.id!r} took outcome {outcome.name!r}, which the workflow "
                "routes nowhere and which does not end a run; route it and retry the run"
            )

    def _waits(self, spec: NodeSpec, outcome: Outcome) -> list[tuple[Wait, tuple[str, ...]]]:
        """The outcome's waits that something can end, each with the routes a waker may
        take: a queue's routed decisions, or the route the node named (if routed)."""
        decisions = tuple(d for d in self.env.nodes[spec.id].decisions if d in spec.routes)
        usable = []
        for wait in outcome.waits:
            if wait.kind == "queue":
                if decisions:
                    usable.append((wait, decisions))
            elif wait.route is None:
                usable.append((wait, ()))
            elif wait.route in spec.routes:
                usable.append((wait, (wait.route,)))
        return usable

    def _park(
        self,
        live: LiveRun,
        spec: NodeSpec,
        outcome: Outcome,
        waits: list[tuple[Wait, tuple[str, ...]]],
    ) -> None:
        """The run waits at this node: its waits are written with it (no step yet — the
        step is recorded when something wakes it, with who or what did)."""
        run, row = live.run, live.row
        if outcome.reason is not None:
            row.reason = outcome.reason
        if outcome.status is not None:
            row.status = outcome.status
        run.state = {**run.state, spec.id: {**outcome.detail, "outcome": outcome.name}}
        run.status = "waiting"
        now = utc(self.env.clock())
        live.waits = [
            {
                "run_id": run.id,
                "order_pk": row.id,
                "workflow_id": run.workflow_id,
                "version": run.version,
                "node_id": spec.id,
                "kind": wait.kind,
                "key": wait.key,
                "route": wait.route,
                "offers": list(offers),
                "reason": wait.reason,
                "detail": wait.detail,
                "since": now,
                "until": utc(wait.until),
                "deadline": utc(wait.deadline),
                "status": "open",
            }
            for wait, offers in waits
        ]

    def _apply_wake(self, live: LiveRun) -> None:
        """What woke the run: a route (a decision, restocked…) is recorded as the waiting
        node's step and followed; without one the node runs again and its step says who
        woke it. A route back to a node this run already passed starts a new try."""
        wake = take_woken(self.env.writer, live.id)
        if wake is None:
            return
        waited = {
            "woken_by": wake["woken_by"],
            "waited_for": f"{wake['kind']} {wake['key']}".strip(),
            "waited_since": wake["since"].isoformat(sep=" ", timespec="seconds"),
        }
        if wake["note"]:
            waited["note"] = wake["note"]
        route = wake["woken_route"]
        if route is None:
            live.woken = waited
            if wake["kind"] == "system":  # its failed call is a step: the node's next try
                live.run.attempt += 1
            return
        spec = self.env.workflow.nodes[live.run.position]
        parked = {k: v for k, v in live.run.state.get(spec.id, {}).items() if k != "outcome"}
        outcome = Outcome(route, {**parked, **waited}, reason=wake["note"])
        target = spec.target(route)
        self._record(live, spec, outcome, target, utcnow(), time.perf_counter())
        if target is not None and target in live.run.state:
            live.run.attempt += 1  # e.g. retry: the waybill node's second try
            live.run.state = {k: v for k, v in live.run.state.items() if k != target}

    def _record(
        self,
        live: LiveRun,
        spec: NodeSpec,
        outcome: Outcome,
        target: str | None,
        started: datetime,
        t0: float,
    ) -> None:
        detail = {**outcome.detail, "outcome": outcome.name}
        step_detail = outcome.detail
        if live.woken is not None:
            step_detail, live.woken = {**outcome.detail, **live.woken}, None
        run, row = live.run, live.row
        if outcome.reason is not None:
            row.reason = detail["reason"] = outcome.reason
        if outcome.status is not None:
            row.status = outcome.status
        live.steps.append(
            _step(live, spec, "succeeded", outcome.name, step_detail, None, started, t0)
        )
        run.state = {**run.state, spec.id: detail}
        run.position = target
        if target is None:
            run.status, run.outcome, run.finished_at = "completed", row.status, utcnow()

    def _fail(
        self, live: LiveRun, spec: NodeSpec, started: datetime, t0: float, exc: Exception
    ) -> bool:
        """Stop the run at this node: `retry` after a passing fault while tries remain, else
        `failed`. Either way the run stays at the node, so a later try resumes there."""
        error = "".join(traceback.format_exception_only(exc)).strip()
        if not isinstance(exc, ConnectorError):
            error += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
        run, row = live.run, live.row
        passing = faults.passing(exc)
        again = passing and run.attempt < self.env.max_attempts
        run.status = "retry" if again else "failed"
        run.error, run.finished_at, run.outcome = error, utcnow(), "failed"
        tried = f"try {run.attempt} of {self.env.max_attempts}"
        note = f"{tried}; the next run tries again" if again else f"gave up after {tried}"
        row.status = "failed"
        row.reason = f"{error.splitlines()[0]} ({note if passing else 'not retried'})"
        step_detail = live.woken or {}
        live.woken = None
        live.steps.append(_step(live, spec, "failed", None, step_detail, error, started, t0))
        return False

    def _wait_for_system(
        self, live: LiveRun, spec: NodeSpec, started: datetime, t0: float, exc: Exception
    ) -> bool:
        """The system's breaker is open: the failed call is recorded as the node's step and
        the run parks at the node, waiting for the system (however many tries it had). Its
        breaker closing wakes it (`engine.system_waits`) and the node runs again — a call
        that may have landed is reconciled by its key first."""
        error = "".join(traceback.format_exception_only(exc)).strip()
        note = faults.waiting_note(exc)  # type: ignore[arg-type]
        step_detail = live.woken or {}
        live.woken = None
        live.steps.append(_step(live, spec, "failed", None, step_detail, error, started, t0))
        system = exc.system  # type: ignore[attr-defined]
        outcome = Outcome("unavailable", {"system": system}, status="waiting", reason=note)
        self._park(live, spec, outcome, [(Wait("system", system, reason=note), ())])
        live.run.error = note
        return False


def _failed_outcome(decision: faults.Decision, exc: Exception) -> Outcome:
    """The outcome a step records when a failure sends the order on a route."""
    if decision.kind == "reroute":
        reason = f"{exc} — sent by the backup route {decision.target!r}"
        return Outcome("unavailable", {"error": str(exc), "system": decision.system}, reason=reason)
    return Outcome("error", {"error": str(exc)}, reason=str(exc))


def _step(
    live: LiveRun,
    spec: NodeSpec,
    status: str,
    outcome: str | None,
    detail: dict[str, Any],
    error: str | None,
    started: datetime,
    t0: float,
) -> dict[str, Any]:
    """The step record of one node's execution in this try of the run."""
    return {
        "run_id": live.id,
        "node_id": spec.id,
        "node_type": spec.type,
        "seq": len(live.run.state) + 1,
        "attempt": live.run.attempt,
        "status": status,
        "outcome": outcome,
        "detail": detail,
        "error": error,
        "started_at": started,
        "duration_ms": (time.perf_counter() - t0) * 1000,
    }
