"""The writer: one connection for every run this process advances, with grouped commits.

Runs share one event loop, so their statements never interleave: each runs at once on the
writer's connection inside one open transaction. A run that needs its work to be durable
(before an external call, or at its end) awaits `durable()`; every run that reaches that
point in the same turn of the loop shares one commit. That keeps commits far below one per
step — the difference between hundreds and thousands of orders a second on SQLite.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Connection, Executable, Result, bindparam, insert

from engine.store import Store
from engine.store.models import StepRow
from engine.store.prepared import Prepared

_steps = StepRow.__table__
_INSERT_STEP = Prepared(
    insert(_steps).values({c.name: bindparam(c.name) for c in _steps.columns if c.name != "id"})
)


#: turns of the event loop a commit waits for more runs to join it (measured: bench.intake)
GROUP_TURNS = 6


class Writer:
    """Executes statements at once and commits them in groups."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn: Connection = store.engine.connect()
        self._steps: list[dict[str, Any]] = []
        self._flush: asyncio.Task[None] | None = None
        self._open = False
        self._cursor: Any = None
        self.commits = 0
        self.statements = 0  # executed through this writer (batched step inserts count once)

    @property
    def dialect(self) -> Any:
        return self.conn.dialect

    def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        """Run a statement in the open transaction (opening one if needed)."""
        self._open = True
        self.statements += 1
        return self.conn.execute(statement, params)

    def run(self, prepared: Prepared, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run a prepared statement straight on the driver, in the same transaction."""
        self.statements += 1
        return prepared.run(self._raw_cursor(), self.dialect, params)

    def _raw_cursor(self) -> Any:
        if not self.conn.in_transaction():
            self.conn.begin()
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()
        self._open = True
        return self._cursor

    def add_steps(self, rows: list[dict[str, Any]]) -> None:
        """Queue step records; they are inserted together just before the next commit."""
        self._steps.extend(rows)
        self._open = True

    def commit(self) -> None:
        """Insert the queued steps and commit everything written so far."""
        if self._steps:
            steps, self._steps = self._steps, []
            _INSERT_STEP.run_many(self._raw_cursor(), self.dialect, steps)
            self.statements += 1
        if self._open:
            self.conn.commit()
            self._open = False
            self.commits += 1

    def rollback(self) -> None:
        self._steps.clear()
        self.conn.rollback()
        self._open = False

    async def durable(self) -> None:
        """Return once everything written so far is committed, sharing the commit."""
        if not self._open:
            return
        if self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._commit_soon())
        await asyncio.shield(self._flush)

    def close(self) -> None:
        self.commit()
        if self._cursor is not None:
            self._cursor.close()
        self.conn.close()

    async def _commit_soon(self) -> None:
        for _ in range(GROUP_TURNS):  # let every run that is ready reach its durable point
            await asyncio.sleep(0)
        try:
            self.commit()
        finally:
            self._flush = None
