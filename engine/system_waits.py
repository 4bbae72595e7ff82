"""Runs waiting for a system go on by themselves once it is back, within the same `run`.

`resume_waiting` is the seam until runs can park as `waiting` and be woken (issue 8 item
1): while runs of one workflow version wait for external systems (see `engine.faults`), it
watches each system's breaker. When a cool-down is over it resumes the system's oldest
waiting run — its call is the single probe that half-opens the breaker, in any process —
and once the breaker is closed it resumes every run waiting for that system. It returns
when nothing waits any more, or after `patience_s` in which no waiting run went on.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from engine.faults import WAITING
from engine.store import Store
from engine.store.models import OrderRow, RunRow, utcnow

#: longest nap between two looks at the breakers
MAX_NAP_S = 2.0


def waiting_by_system(store: Store, workflow_id: str, version: str) -> dict[str, list[int]]:
    """Run ids of the version waiting for each system, oldest order first."""
    prefix = WAITING.split("{", 1)[0]
    query = (
        select(RunRow.id, RunRow.error)
        .join(OrderRow, OrderRow.id == RunRow.order_pk)
        .where(
            RunRow.workflow_id == workflow_id,
            RunRow.version == version,
            RunRow.status == "retry",
            RunRow.error.startswith(prefix),
        )
        .order_by(OrderRow.created_at, OrderRow.channel, OrderRow.order_id)
    )
    found: dict[str, list[int]] = defaultdict(list)
    with store.engine.connect() as conn:
        for run_id, error in conn.execute(query):
            found[error[len(prefix) :].split(":", 1)[0]].append(run_id)
    return dict(found)


async def resume_waiting(
    store: Store,
    workflow_id: str,
    version: str,
    book: Any,
    run_all: Callable[[list[int]], Any],
    *,
    patience_s: float,
    recovered: set[str] | None = None,
) -> int:
    """Resume runs waiting for systems as their breakers allow; returns how many went on.

    `book` is the process's breaker book (its `read` and, when it has one, `forget`);
    `run_all(run_ids)` is awaited to finish runs (the dispatcher's). Only runs waiting for
    a system in an outage are resumed: its breaker is open now, was seen open here, or is
    in `recovered` (systems that recovered during this run: the book's `on_recovered`).
    A run that met a plain failure of a system whose breaker stayed closed is left for the
    next run, as its tries allow."""
    outage = recovered if recovered is not None else set()
    resumed, fewest = 0, None
    deadline = time.monotonic() + patience_s
    while True:
        waiting = waiting_by_system(store, workflow_id, version)
        if hasattr(book, "forget"):
            book.forget()
        waiting = {s: ids for s, ids in waiting.items() if s in outage or _down(book, s)}
        if not waiting:
            return resumed
        count = sum(len(ids) for ids in waiting.values())
        if fewest is None or count < fewest:  # progress: be patient again
            fewest, deadline = count, time.monotonic() + patience_s
        if time.monotonic() >= deadline:
            return resumed
        now, ready, naps = utcnow(), [], [MAX_NAP_S]
        for system, run_ids in waiting.items():
            state = book.read(system)
            verdict = state.verdict(now)
            if verdict != "pass":
                outage.add(system)
            if verdict == "pass":
                if system in outage:  # it is back: everyone waiting for it goes on, once
                    ready += run_ids
                    outage.discard(system)
            elif verdict == "probe":
                ready.append(run_ids[0])  # one run's call is the probe
            elif state.retry_at is not None:
                naps.append((state.retry_at - now).total_seconds())
        if ready:
            await run_all(ready)
            resumed += len(ready)
            continue
        await asyncio.sleep(max(0.05, min(*naps, deadline - time.monotonic())))


def _down(book: Any, system: str) -> bool:
    return book.read(system).state != "closed"
