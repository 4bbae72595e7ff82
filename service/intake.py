"""Use case: run a workflow over every order the channels hold (pull, then run each order)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors import build_connectors
from engine.dispatch import EmbeddedDispatcher, unfinished_runs
from engine.ingest import OnPage, ingest
from engine.outbox import drain_outbox
from engine.runner import RunEnv, Runner
from engine.store import Store
from engine.workflow import Workflow

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class IntakeSummary:
    pulled: int = 0
    changed: int = 0
    runs: int = 0
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
) -> IntakeSummary:
    """Pull new and changed orders, then finish every unfinished run of the workflow.

    Unfinished runs include those a passing fault stopped on an earlier call: each call tries
    them once more, up to `max_attempts` tries in all.
    """
    started = time.perf_counter()
    summary = IntakeSummary()
    connectors = build_connectors(systems)
    env = None
    try:
        env = RunEnv(workflow, store, connectors, draft=draft, max_attempts=max_attempts)
        pulled = await ingest(env, since=since, until=until, on_page=on_page)
        summary.pulled, summary.changed = pulled.pulled, pulled.changed
        summary.warnings, summary.not_pulled = pulled.warnings, pulled.not_pulled
        run_ids = unfinished_runs(store, workflow.id, env.version)
        summary.runs = len(run_ids)

        def done(_run_id: int, outcome: str | None) -> None:
            summary.outcomes[outcome or "unfinished"] += 1
            if progress is not None:
                progress("run", sum(summary.outcomes.values()), len(run_ids))

        await EmbeddedDispatcher(Runner(env), concurrency).run_all(run_ids, on_done=done)
        env.writer.commit()
        summary.messages_sent = await drain_outbox(store, connectors)
    finally:
        if env is not None:
            env.close()
        await connectors.aclose()
    summary.seconds = time.perf_counter() - started
    return summary
