"""Breakers in the database: one row per external system, shared by every process.

`StoreBook` is the `connectors.breaker.BreakerBook` of a store (the engine imports no
connector: the composition root hands it `connectors.breaker.BreakerState`). Every
transition (a failed call, a success after failures, claiming the probe, opening or
closing by hand) runs in its own short transaction that locks the system's row (SQLite's
write lock, PostgreSQL's row lock), so two processes never both claim the probe and an
outage opens once. Opening and recovering each write ONE WeCom message to the outbox in
that same transaction: one "opened" and one "recovered" per outage, however many
processes and orders saw it.

Reads are served from a cache younger than `refresh_s` (0.5 s): a breaker another process
opened stops this process's calls within that; one this process opened stops them at once.
Writes run in a worker thread, so a SQLite write lock held by the run's own writer (which
commits on the event loop) is waited for without blocking that loop.

`parked(conn, system)` counts an order that took a backup route in the open outage; the
recovery message says how many, and how many runs were waiting for the system
(`waiting_runs`). `on_recovered` callbacks hear a
system's recovery after it is committed (the seam through which waiting runs resume).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.db import Store, insert_for
from engine.store.models import Base, OutboxMessage, RunRow, WaitRow, utcnow

#: how old a cached breaker state may be before it is read again
REFRESH_S = 0.5


CLOSED = "closed"


class BreakerRow(Base):
    """One external system's breaker (see `connectors.breaker.BreakerState`)."""

    __tablename__ = "breakers"

    system: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=CLOSED)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(255), default="")
    since: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]
    cooldown_s: Mapped[float] = mapped_column(Float, default=0.0)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(64), default="")
    outages: Mapped[int] = mapped_column(Integer, default=0)
    parked: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None]


_table = BreakerRow.__table__
_COLUMNS = [c.name for c in _table.columns]
#: a breaker state: a dataclass with BreakerRow's fields (connectors.breaker.BreakerState;
#: the engine does not import connectors, so the composition root passes it in)
State = Any
#: an event: `.kind` ("opened" or "recovered"), `.state` (as it stood), `.by` (a person or "")
Event = Any
Transition = Callable[[State], Event | None]
Recovered = Callable[[Event], None]


class StoreBook:
    """The breakers of one store, as the connectors of one process use them."""

    def __init__(
        self, store: Store, state_type: Callable[..., State], *, refresh_s: float = REFRESH_S
    ) -> None:
        self.store = store
        self.state_type = state_type
        self.refresh_s = refresh_s
        self.on_recovered: list[Recovered] = []
        self._cache: dict[str, tuple[float, State]] = {}

    def read(self, system: str) -> State:
        cached = self._cache.get(system)
        if cached is not None and time.monotonic() - cached[0] < self.refresh_s:
            return cached[1]
        state = read(self.store, system, self.state_type)
        self._cache[system] = (time.monotonic(), state)
        return state

    async def change(self, system: str, transition: Transition) -> State:
        state, event = await asyncio.to_thread(
            change, self.store, system, transition, self.state_type
        )
        self._cache[system] = (time.monotonic(), state)
        if event is not None and event.kind == "recovered":
            for hook in self.on_recovered:
                hook(event)
        return state

    def forget(self) -> None:
        """Drop the cache (the next read asks the database)."""
        self._cache.clear()


def read(store: Store, system: str, state_type: Callable[..., State]) -> State:
    """A system's breaker as the database holds it (closed when it has no row yet)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(_table).where(_table.c.system == system)).mappings().first()
    return _state(row, state_type) if row is not None else state_type(system)


def list_states(
    store: Store, state_type: Callable[..., State], systems: list[str] | None = None
) -> list[State]:
    """Every breaker the database holds, plus a closed one for each of `systems` without a
    row; by system name."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(_table)).mappings().all()
    states = {row["system"]: _state(row, state_type) for row in rows}
    for system in systems or []:
        states.setdefault(system, state_type(system))
    return [states[name] for name in sorted(states)]


def change(
    store: Store,
    system: str,
    transition: Transition,
    state_type: Callable[..., State],
    *,
    now: datetime | None = None,
) -> tuple[State, Event | None]:
    """Apply `transition` to the system's row under a lock; write the event's message."""
    with store.engine.begin() as conn:
        if store.is_sqlite:  # the write lock now, so the read below is the latest
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.execute(
            insert_for(conn, _table)
            .values(_row(state_type(system)))
            .on_conflict_do_nothing(index_elements=[_table.c.system])
        )
        query = select(_table).where(_table.c.system == system)
        if not store.is_sqlite:
            query = query.with_for_update()
        state = _state(conn.execute(query).mappings().one(), state_type)
        event = transition(state)
        values = _row(state)
        values.pop("system")
        conn.execute(update(_table).where(_table.c.system == system).values(**values))
        if event is not None:
            waiting = waiting_runs(conn, system) if event.kind == "recovered" else 0
            conn.execute(
                OutboxMessage.__table__.insert().values(
                    target="wecom",
                    payload={"kind": f"breaker.{event.kind}", "text": message(event, now, waiting)},
                    status="pending",
                    attempts=0,
                    created_at=utcnow(),
                )
            )
    return state, event


def parked(conn: Any, system: str) -> None:
    """Count one order that went round `system` (a backup route) in its open outage.

    `conn` is the run's writer (or a connection): it counts with the run's own commit."""
    conn.execute(
        update(_table)
        .where(_table.c.system == system, _table.c.state != CLOSED)
        .values(parked=_table.c.parked + 1)
    )


def waiting_runs(conn: Any, system: str) -> int:
    """Runs waiting for `system` now (parked at a node whose call its breaker refused)."""
    waits, runs = WaitRow.__table__, RunRow.__table__
    return conn.execute(
        select(func.count(func.distinct(waits.c.run_id)))
        .select_from(waits.join(runs, runs.c.id == waits.c.run_id))
        .where(
            waits.c.kind == "system",
            waits.c.key == system,
            waits.c.status == "open",
            runs.c.status == "waiting",
        )
    ).scalar_one()


def message(event: Event, now: datetime | None = None, waiting: int = 0) -> str:
    """The WeCom text of an opening or a recovery."""
    state, name = event.state, event.state.system.upper()
    since = f"{state.since:%Y-%m-%d %H:%M} UTC" if state.since else "just now"
    if event.kind == "opened":
        how = f"by hand by {event.by}" if event.by else f"after {state.failures} failed calls"
        why = f": {state.reason}" if state.reason else ""
        return (
            f"{name} unavailable since {since} (breaker opened {how}{why}). Calls to it "
            "have stopped; orders that need it take their backup route or wait, and go on "
            "by themselves when it recovers. One message per outage."
        )
    now = now or state.changed_at or utcnow()
    down = _duration((now - state.since).total_seconds()) if state.since else "a while"
    how = f", closed by hand by {event.by}" if event.by else ""
    backup = f"; {state.parked} went by a backup route" if state.parked else ""
    return (
        f"{name} recovered after {down} down (since {since}{how}): {waiting} orders were "
        f"parked waiting for it and resume now{backup}."
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _state(row: Any, state_type: Callable[..., State]) -> State:
    return state_type(**{name: row[name] for name in _COLUMNS})


def _row(state: State) -> dict[str, Any]:
    return {name: getattr(state, name) for name in _COLUMNS}
