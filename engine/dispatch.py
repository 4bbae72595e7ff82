"""Who calls the runner: the embedded dispatcher, an asyncio pool in this process.

Both dispatchers (this one, and the distributed one a later issue adds) deliver "finish run
X" at least once; effects happen once because of the effect and ledger tables, not because
of the dispatcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from sqlalchemy import select

from engine.runner import Runner
from engine.store import Store
from engine.store.models import OrderRow, RunRow

OnDone = Callable[[int, str | None], None]


class EmbeddedDispatcher:
    """Finishes runs with at most `concurrency` in flight (external calls dominate)."""

    def __init__(self, runner: Runner, concurrency: int = 32) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.runner = runner
        self.concurrency = concurrency

    async def run_all(self, run_ids: Iterable[int], on_done: OnDone | None = None) -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for run_id in run_ids:
            queue.put_nowait(run_id)

        async def worker() -> None:
            while not queue.empty():
                run_id = queue.get_nowait()
                outcome = await self.runner.finish(run_id)
                if on_done is not None:
                    on_done(run_id, outcome)

        workers = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()


def unfinished_runs(store: Store, workflow_id: str, version: str) -> list[int]:
    """Runs of a workflow version that have not ended (new, stopped half way, or waiting for
    another try after a passing fault).

    Oldest order first. Runs pinned to another version are left for a runner of that version.
    """
    query = (
        select(RunRow.id)
        .join(OrderRow, OrderRow.id == RunRow.order_pk)
        .where(
            RunRow.workflow_id == workflow_id,
            RunRow.version == version,
            RunRow.status.in_(("pending", "running", "retry")),
        )
        .order_by(OrderRow.created_at, OrderRow.channel, OrderRow.order_id)
    )
    with store.session() as session:
        return list(session.scalars(query))
