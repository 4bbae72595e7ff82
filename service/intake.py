"""Use case: run a workflow over every order the channels hold (pull, then run each order)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors import build_connectors
from connectors.breaker import BreakerState
from engine.dispatch import EmbeddedDispatcher, unfinished_runs
from engine.ingest import OnPage, ingest
from engine.outbox import drain_outbox
from engine.runner import RunEnv
from engine.store import Store
from engine.store.breakers import StoreBook
from engine.system_waits import resume_waiting
from engine.waits import sweep
from engine.workflow import Workflow
from service.resume import environments_around, finish_woken

#: how long a run keeps probing systems its waiting orders need once nothing else moves
SYSTEM_WAIT_S = 5.0

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class IntakeSummary:
    pulled: int = 0
    changed: int = 0
    runs: int = 0
    resumed: int = 0  # woken runs finished after the new ones (a decision, a restock…)
    reminded: int = 0  # orders past their queue's wait limit the team was reminded of
    outcomes: Counter = field(default_factory=Counter)
    messages_sent: int = 0
    warnings: list[str] = field(default_factory=list)
    not_pulled: dict[str, str] = field(default_factory=dict)  # channel -> why
    seconds: float = 0.0

    @property
    def orders_per_second(self) -> float:
        return self.runs / self.seconds if self.seconds else 0.0


def check_systems(systems: dict[str, dict[str, Any]]) -> None:
    """Raise `SettingsError` (naming the key) unless connectors can be built from `systems`.

    Builds them only (nothing connects), so a door can check settings before it creates
    anything, such as a database.
    """
    build_connectors(systems)


async def run_intake(
    workflow: Workflow,
    store: Store,
    systems: dict[str, dict[str, Any]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    concurrency: int = 32,
    draft: bool = False,
    progress: Progress | None = None,
    max_attempts: int = 3,
    on_page: OnPage | None = None,
    system_wait_s: float = SYSTEM_WAIT_S,
) -> IntakeSummary:
    """Pull new and changed orders, then finish every unfinished run of the workflow.

    Unfinished runs include those a passing fault stopped on an earlier call: each call tries
    them once more, up to `max_attempts` tries in all. A run that meets a system whose breaker
    is open parks, waiting for it, however many tries it had; with `system_wait_s`, such
    runs (of any version) are woken in this call as soon as the breaker lets a probe through
    and then closes (`engine.system_waits`), until none waits or nothing has moved for that
    long — else a later call wakes them.
    """
    started = time.perf_counter()
    summary = IntakeSummary()
    connectors = build_connectors(systems)
    book = StoreBook(store, BreakerState)
    connectors.share_breakers(book)  # one breaker per system, shared by every process
    env = None
    try:
        env = RunEnv(workflow, store, connectors, draft=draft, max_attempts=max_attempts)
        pulled = await ingest(env, since=since, until=until, on_page=on_page)
        summary.pulled, summary.changed = pulled.pulled, pulled.changed
        summary.warnings, summary.not_pulled = pulled.warnings, pulled.not_pulled
        if not env.dry_run:  # time waits that came, reminders and timeouts past wait limits
            swept = sweep(store, env.clock())
            summary.reminded = swept.reminded
        run_ids = unfinished_runs(store, workflow.id, env.version)
        summary.runs = len(run_ids)

        ended: dict[int, str] = {}  # run id -> its latest outcome

        def done(run_id: int, outcome: str | None) -> None:
            ended[run_id] = outcome or "unfinished"
            if progress is not None:
                progress("run", len(ended), len(run_ids))

        envs = environments_around(env)
        dispatcher = EmbeddedDispatcher(envs, concurrency)
        await dispatcher.run_all(run_ids, on_done=done)
        if system_wait_s > 0:  # runs waiting for a system go on when it is back
            await resume_waiting(
                store,
                workflow.id,
                book,
                lambda ids: dispatcher.run_all(ids, on_done=done),
                patience_s=system_wait_s,
            )
        summary.outcomes = Counter(ended.values())
        env.writer.commit()
        # runs woken meanwhile (a restock, a decision taken while this run held the
        # workflow), of any version: each finishes on the version it is pinned to
        summary.resumed = await finish_woken(envs, workflow.id, concurrency=concurrency)
        summary.messages_sent = await drain_outbox(store, connectors)
    finally:
        if env is not None:
            env.close()
        await connectors.aclose()
    summary.seconds = time.perf_counter() - started
    return summary
