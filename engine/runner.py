"""The runner: advances one run (one order through one workflow version) node by node.

`advance` executes the node at the run's position and records its step; `finish` calls it
until the run ends. Step records and the run's position are written through the process's
`Writer`: pure steps ride in the next commit, a step with an external effect makes the run
durable before its call (`begin_effect`), and a run is durable when it ends. A run stopped
half way resumes from its last durable position without repeating an effect.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine import registry
from engine.context import LiveRun, RunStepContext
from engine.errors import ConflictError, ConnectorError, Rejected, WorkflowError
from engine.node import Outcome
from engine.order import Order
from engine.store import Store
from engine.store import stock as stock_store
from engine.store.models import utcnow
from engine.store.runs import load_run
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

    async def finish(self, run_id: int) -> str | None:
        """Advance a run until it ends; returns the order's outcome (`retry` when it stopped
        on a passing fault and a later run tries it again)."""
        live = self.open(run_id)
        while await self.advance(live):
            pass
        live.save(self.env.writer)
        await self.env.writer.durable()
        return "retry" if live.run["status"] == "retry" else live.run["outcome"]

    def open(self, run_id: int) -> LiveRun:
        run, row = load_run(self.env.writer, run_id)
        if run["status"] == "retry":  # failed on a passing fault: try again from that node
            run["attempt"] += 1
            run["status"], run["outcome"], run["error"], run["finished_at"] = (
                "running",
                None,
                None,
                None,
            )
        if run["status"] in ("pending", "running"):
            run["status"], run["started_at"] = "running", run["started_at"] or utcnow()
        return LiveRun(run, row, Order.model_validate(row["canonical"]))

    async def advance(self, live: LiveRun) -> bool:
        """Execute the node at the run's position and record its step; False once it ended."""
        if live.done or live.run["position"] is None:
            return False
        spec = self.env.workflow.nodes[live.run["position"]]
        ctx = RunStepContext(self.env, live, spec.id)
        started, t0 = utcnow(), time.perf_counter()
        try:
            node = self.env.nodes[spec.id]
            outcome = await node.run(live.order, ctx)
            target = spec.target(outcome.name)
            if target is None and outcome.name not in node.terminal:
                raise WorkflowError(  # never end a run silently with the order half done
                    f"node {spec.id!r} took outcome {outcome.name!r}, which the workflow "
                    "routes nowhere and which does not end a run; route it and retry the run"
                )
        except (ConnectorError, ConflictError) as exc:  # a system failed, or the world moved
            if spec.on_error is None:
                return self._fail(live, spec, started, t0, exc)
            outcome, target = Outcome("error", {"error": str(exc)}, reason=str(exc)), spec.on_error
        except Exception as exc:  # a bug in a node: the run stops, resumable, with the trace
            return self._fail(live, spec, started, t0, exc)
        self._record(live, spec, outcome, target, started, t0)
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
        detail = {**outcome.detail, "outcome": outcome.name}
        run, row = live.run, live.row
        if outcome.reason is not None:
            row["reason"] = detail["reason"] = outcome.reason
        if outcome.status is not None:
            row["status"] = outcome.status
        live.steps.append(
            _step(live, spec, "succeeded", outcome.name, outcome.detail, None, started, t0)
        )
        run["state"] = {**run["state"], spec.id: detail}
        run["position"] = target
        if target is None:
            run["status"], run["outcome"], run["finished_at"] = "completed", row["status"], utcnow()

    def _fail(
        self, live: LiveRun, spec: NodeSpec, started: datetime, t0: float, exc: Exception
    ) -> bool:
        """Stop the run at this node: `retry` after a passing fault while tries remain, else
        `failed`. Either way the run stays at the node, so a later try resumes there."""
        error = "".join(traceback.format_exception_only(exc)).strip()
        if not isinstance(exc, ConnectorError):
            error += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
        run, row = live.run, live.row
        passing = isinstance(exc, ConnectorError) and not isinstance(exc, Rejected)
        again = passing and run["attempt"] < self.env.max_attempts
        run["status"] = "retry" if again else "failed"
        run["error"], run["finished_at"], run["outcome"] = error, utcnow(), "failed"
        tried = f"try {run['attempt']} of {self.env.max_attempts}"
        note = f"{tried}; the next run tries again" if again else f"gave up after {tried}"
        row["status"] = "failed"
        row["reason"] = f"{error.splitlines()[0]} ({note if passing else 'not retried'})"
        live.steps.append(_step(live, spec, "failed", None, {}, error, started, t0))
        return False


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
        "seq": len(live.run["state"]) + 1,
        "attempt": live.run["attempt"],
        "status": status,
        "outcome": outcome,
        "detail": detail,
        "error": error,
        "started_at": started,
        "duration_ms": (time.perf_counter() - t0) * 1000,
    }
