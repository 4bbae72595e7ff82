"""Who calls the runner: a dispatcher, and the environments it runs each run in.

A `Dispatcher` delivers "finish run X" (at least once); effects happen once because of the
effect and ledger tables, not because of the dispatcher. `EmbeddedDispatcher` is an asyncio
pool in this process; the distributed one a later issue adds implements the same protocol.

Any process may have to finish a run of any version — a run woken by a person's decision,
an ERP sync or a breaker closing finishes on the version it is pinned to — so runs go
through `Environments`: the run environments of this process keyed by (workflow id,
version), built on first use — from a loader the service layer may pass in (the engine does
not read versions), else from the document its runs were started on (`workflow_documents`,
drafts too) — all sharing one writer and one set of connectors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sqlalchemy import select

from engine.errors import WorkflowError
from engine.loader import load_workflow
from engine.runner import RunEnv, Runner
from engine.store import Store, documents
from engine.store.models import OrderRow, RunRow
from engine.store.runs import load_run
from engine.store.writer import Writer
from engine.workflow import Workflow

OnDone = Callable[[int, str | None], None]
#: (workflow id, version content hash) -> that version's workflow, or None when unknown
Load = Callable[[str, str], Workflow | None]

log = logging.getLogger("orderhub.dispatch")


class Dispatcher(Protocol):
    """Finishes runs; `on_done(run_id, outcome)` hears of each (outcome None: not run here)."""

    async def run_all(self, run_ids: Iterable[int], on_done: OnDone | None = None) -> None: ...


class Environments:
    """The run environments of this process, keyed by (workflow id, version)."""

    def __init__(
        self,
        store: Store,
        connectors: Any,
        *,
        load: Load | None = None,
        writer: Writer | None = None,
        **options: Any,
    ) -> None:
        self.store = store
        self.connectors = connectors
        self.writer = writer or Writer(store)
        self._load = load
        self._options = options  # RunEnv options every built env gets (max_attempts, clock…)
        self._envs: dict[tuple[str, str], RunEnv | None] = {}
        self._runners: dict[tuple[str, str], Runner] = {}

    @classmethod
    def of(cls, env: RunEnv, load: Load | None = None) -> Environments:
        """The environments around one env (its writer and connectors shared)."""
        envs = cls(
            env.store,
            env.connectors,
            load=load,
            writer=env.writer,
            max_attempts=env.max_attempts,
            clock=env.clock,
            dry_run=env.dry_run,
        )
        envs.add(env)
        return envs

    def add(self, env: RunEnv) -> RunEnv:
        self._envs[(env.workflow.id, env.version)] = env
        return env

    def get(self, workflow_id: str, version: str) -> RunEnv | None:
        """The env of a version, built on first use; None when it cannot be (a draft that
        was never saved, or a version a newer rule refuses to run)."""
        key = (workflow_id, version)
        if key not in self._envs:
            self._envs[key] = self._build(workflow_id, version)
        return self._envs[key]

    def runner(self, workflow_id: str, version: str) -> Runner | None:
        key = (workflow_id, version)
        runner = self._runners.get(key)
        if runner is None:
            env = self.get(workflow_id, version)
            if env is None:
                return None
            runner = self._runners[key] = Runner(env)
        return runner

    async def finish(self, run_id: int) -> str | None:
        """Finish a run on its own version; None when this process cannot build it."""
        run, row = load_run(self.writer, run_id)
        runner = self.runner(run.workflow_id, run.version)
        if runner is None:
            return None
        return await runner.finish(run_id, (run, row))

    def close(self) -> None:
        self.writer.close()

    def _build(self, workflow_id: str, version: str) -> RunEnv | None:
        try:
            workflow = self._load(workflow_id, version) if self._load is not None else None
            workflow = workflow or self._recall(workflow_id, version)
            if workflow is None:
                return None
            return RunEnv(
                workflow,
                self.store,
                self.connectors,
                version=version,
                writer=self.writer,
                **self._options,
            )
        except WorkflowError as exc:
            log.warning("%s %s cannot run here: %s", workflow_id, version[:12], exc)
            return None

    def _recall(self, workflow_id: str, version: str) -> Workflow | None:
        """The version's document as its runs were started on (a draft too)."""
        with self.store.engine.connect() as conn:
            found = documents.recall(conn, workflow_id, version)
        if found is None:
            return None
        file, text = found
        workflow = load_workflow(file, text=text, saved=True)
        return workflow if workflow.content_hash == version else None


class EmbeddedDispatcher:
    """Finishes runs with at most `concurrency` in flight (external calls dominate)."""

    def __init__(self, runs: Runner | Environments, concurrency: int = 32) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.envs = Environments.of(runs.env) if isinstance(runs, Runner) else runs
        self.concurrency = concurrency

    async def run_all(self, run_ids: Iterable[int], on_done: OnDone | None = None) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for run_id in run_ids:
            queue.put_nowait(run_id)

        async def worker() -> None:
            while not queue.empty():
                run_id = queue.get_nowait()
                outcome = await self.envs.finish(run_id)
                if on_done is not None:
                    on_done(run_id, outcome)

        workers = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()


def unfinished_runs(store: Store, workflow_id: str, version: str) -> list[int]:
    """Runs of a workflow version that have not ended (new, stopped half way, waiting for
    another try after a passing fault, or woken by a decision or an event).

    Oldest order first. Runs pinned to another version are left for a runner of that version
    (`woken_runs` lists the woken ones of every version).
    """
    query = (
        select(RunRow.id)
        .join(OrderRow, OrderRow.id == RunRow.order_pk)
        .where(
            RunRow.workflow_id == workflow_id,
            RunRow.version == version,
            RunRow.status.in_(("pending", "running", "retry", "woken")),
        )
        .order_by(OrderRow.created_at, OrderRow.channel, OrderRow.order_id)
    )
    with store.session() as session:
        return list(session.scalars(query))


def woken_runs(store: Store, workflow_id: str) -> list[int]:
    """Woken runs of a workflow, whatever version each is pinned to, oldest order first."""
    query = (
        select(RunRow.id)
        .join(OrderRow, OrderRow.id == RunRow.order_pk)
        .where(RunRow.workflow_id == workflow_id, RunRow.status == "woken")
        .order_by(OrderRow.created_at, OrderRow.channel, OrderRow.order_id)
    )
    with store.session() as session:
        return list(session.scalars(query))
