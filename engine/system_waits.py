"""Runs waiting for a system go on once it is back: within the same `run`, or the next one.

A run whose call met an open breaker parks at its node with a ``system`` wait (see
`engine.runner`). `resume_waiting` watches the breakers of the systems such runs wait for:
when a cool-down is over it wakes the system's oldest waiting run — its call is the single
probe that half-opens the breaker, in any process — and once the breaker is closed it wakes
every run waiting for that system (`engine.waits.wake`, so each run is woken once whoever
else wakes). Woken runs are finished by the caller's dispatcher, each on its own version. It
returns when nothing waits any more, or after `patience_s` in which no waiting run went on.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from engine.store import Store
from engine.store.models import utcnow
from engine.store.waits import open_waits
from engine.waits import wake

#: longest nap between two looks at the breakers
MAX_NAP_S = 2.0


def waiting_by_system(store: Store, workflow_id: str | None = None) -> dict[str, list[int]]:
    """Run ids waiting for each system (of one workflow when given), oldest paid first."""
    found: dict[str, list[int]] = defaultdict(list)
    with store.engine.connect() as conn:
        for wait in open_waits(conn, "system"):
            if workflow_id is None or wait.workflow_id == workflow_id:
                found[wait.key].append(wait.run_id)
    return dict(found)


async def resume_waiting(
    store: Store,
    workflow_id: str,
    book: Any,
    run_all: Callable[[list[int]], Any],
    *,
    patience_s: float,
) -> int:
    """Wake and finish the workflow's runs waiting for systems as their breakers allow;
    returns how many went on.

    `book` is the process's breaker book (its `read` and, when it has one, `forget`);
    `run_all(run_ids)` is awaited to finish woken runs (the dispatcher's)."""
    resumed, fewest = 0, None
    deadline = time.monotonic() + patience_s
    while True:
        waiting = waiting_by_system(store, workflow_id)
        if not waiting:
            return resumed
        if hasattr(book, "forget"):
            book.forget()
        count = sum(len(ids) for ids in waiting.values())
        if fewest is None or count < fewest:  # progress: be patient again
            fewest, deadline = count, time.monotonic() + patience_s
        if time.monotonic() >= deadline:
            return resumed
        now, ready, naps = utcnow(), [], [MAX_NAP_S]
        states = {system: book.read(system) for system in waiting}
        if all(s.state != "closed" and s.manual for s in states.values()):
            return resumed  # closed to calls by hand: only closing it by hand wakes them
        for system, run_ids in waiting.items():
            state = states[system]
            verdict = state.verdict(now)
            if verdict == "pass":  # it is back: everyone waiting for it goes on, once
                ready += _wake(store, system, run_ids, "back")
            elif verdict == "probe":  # one run's call is the probe
                ready += _wake(store, system, run_ids[:1], "probe")
            elif state.retry_at is not None:
                naps.append((state.retry_at - now).total_seconds())
        if ready:
            await run_all(ready)
            resumed += len(ready)
            continue
        await asyncio.sleep(max(0.05, min(*naps, deadline - time.monotonic())))


def _wake(store: Store, system: str, run_ids: list[int], why: str) -> list[int]:
    note = f"{system} is back" if why == "back" else f"{system}'s breaker lets a probe through"
    woken = wake(store, "system", system, None, f"breaker {system}", note=note, run_ids=run_ids)
    return [w.run_id for w in woken]
