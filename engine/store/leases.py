"""Leases: one holder at a time for a named piece of work, kept in the database.

A lease is a row (name, holder, since, expires_at). Whoever inserts it, or finds it expired
and takes it over, holds it until it releases it or stops renewing it; a holder that dies
loses it when it expires, and the next one goes on. Because the row is in the database every
process that opens the store sees it, on one machine or many (unlike a file lock).

    with hold(store, "run:order_intake", "li.wei:ops_manager (pid 41 on box)") as lease:
        ...                          # a thread renews it every ttl/3 while the block runs

    lease = await wait_for(store, name, holder, wait_s=600, on_wait=say_who_holds_it)

Users: `orderhub run` (one runner per workflow: `run:<workflow id>`), the scheduler (one per
database), queue decisions and the returns desk continuing runs, the notification sender.

A holder named like ``… (pid 41 on box)`` (`holder_name`) that is a process of this machine
which no longer exists — killed with SIGKILL, say — has its lease taken over at once rather
than when it expires: a restarted runner does not wait out the ttl. A pid the system reused
looks alive, so such a lease is simply waited out. Times are the holder's
clock in naive UTC; keep machines' clocks in step (NTP) and the ttl well above their skew.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from engine.errors import LeaseHeld
from engine.store.db import Store, insert_for
from engine.store.models import Base, utcnow

Clock = Callable[[], datetime]
DEFAULT_TTL_S = 60.0
#: test-only switch: False waits out the ttl of a holder that died (the twin test)
TAKE_OVER_DEAD = True
_PID = re.compile(r"\(pid (\d+) on ([^)]+)\)$")

log = logging.getLogger("orderhub.leases")


class LeaseRow(Base):
    """Who holds the lease `name`, since when, and until when unless they renew it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))  # who, as people read it
    token: Mapped[str] = mapped_column(String(32))  # this holding, as the code tells it apart
    since: Mapped[datetime]
    expires_at: Mapped[datetime]


@dataclass
class Lease:
    """A lease this process holds (until `release`, or until it stops renewing it)."""

    name: str
    holder: str
    since: datetime
    expires_at: datetime
    ttl_s: float = DEFAULT_TTL_S
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    lost: bool = False  # a renewal found it taken over (we had let it expire)


@dataclass(frozen=True)
class Holding:
    """Who holds a lease now, as another process sees it."""

    name: str
    holder: str
    since: datetime
    expires_at: datetime


def acquire(
    store: Store, name: str, holder: str, *, ttl_s: float = DEFAULT_TTL_S, clock: Clock = utcnow
) -> Lease:
    """Take the lease `name` if it is free or expired; else raise `LeaseHeld` naming who has it."""
    now = clock()
    lease = Lease(name, holder, now, now + timedelta(seconds=ttl_s), ttl_s)
    table = LeaseRow.__table__
    values = {
        "name": name,
        "holder": holder,
        "token": lease.token,
        "since": now,
        "expires_at": lease.expires_at,
    }
    with store.engine.begin() as conn:
        statement = insert_for(conn, table).values(**values)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.name],
                set_={k: statement.excluded[k] for k in values if k != "name"},
                where=table.c.expires_at < now,
            )
        )
        row = conn.execute(select(table).where(table.c.name == name)).one()
    if row.token != lease.token and _dead(row.holder) and _take_over(store, row, values):
        log.warning("lease %s: its holder %s is gone; taken over", name, row.holder)
        return lease
    if row.token != lease.token:
        raise LeaseHeld(
            f"{name} is held by {row.holder} since {when(row.since)}",
            holder=row.holder,
            since=row.since,
        )
    return lease


def holder_name(who: str) -> str:
    """`who` as a lease holder that names this process (``who (pid 41 on box)``), so that
    another process of this machine can take the lease over once this one is gone."""
    return f"{who} (pid {os.getpid()} on {socket.gethostname()})"


def _dead(holder: str) -> bool:
    """True when `holder` names a process of this machine that no longer exists."""
    found = _PID.search(holder)
    if not TAKE_OVER_DEAD or found is None or found.group(2) != socket.gethostname():
        return False
    pid = int(found.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    """A process that died but was not reaped yet (its parent has not waited for it)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _take_over(store: Store, row: Any, values: dict[str, Any]) -> bool:
    """Replace the dead holder's row, if it is still the one read (another taker may be first)."""
    table = LeaseRow.__table__
    changes = {k: v for k, v in values.items() if k != "name"}
    with store.engine.begin() as conn:
        done = conn.execute(
            update(table)
            .where(table.c.name == row.name, table.c.token == row.token)
            .values(**changes)
        ).rowcount
    return bool(done)


def renew(store: Store, lease: Lease, *, clock: Clock = utcnow) -> bool:
    """Push the lease's expiry a ttl further; False (and `lease.lost`) when it was taken over."""
    expires = clock() + timedelta(seconds=lease.ttl_s)
    table = LeaseRow.__table__
    with store.engine.begin() as conn:
        done = conn.execute(
            update(table)
            .where(table.c.name == lease.name, table.c.token == lease.token)
            .values(expires_at=expires)
        ).rowcount
    if done:
        lease.expires_at = expires
    else:
        lease.lost = True
    return bool(done)


def release(store: Store, lease: Lease) -> None:
    """Give the lease up (a no-op when someone has taken it over)."""
    table = LeaseRow.__table__
    with store.engine.begin() as conn:
        conn.execute(delete(table).where(table.c.name == lease.name, table.c.token == lease.token))


def current(store: Store, name: str) -> Holding | None:
    """Who holds `name` now (None when nobody does, or the last holder let it expire)."""
    table = LeaseRow.__table__
    with store.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.name == name)).first()
    if row is None or row.expires_at < utcnow():
        return None
    return Holding(row.name, row.holder, row.since, row.expires_at)


async def wait_for(
    store: Store,
    name: str,
    holder: str,
    *,
    wait_s: float,
    ttl_s: float = DEFAULT_TTL_S,
    poll_s: float = 1.0,
    on_wait: Callable[[LeaseHeld], None] | None = None,
    clock: Clock = utcnow,
) -> Lease:
    """Take the lease, waiting up to `wait_s` seconds for its holder to give it up.

    `on_wait` is called once, with the `LeaseHeld` that says who holds it, when waiting
    starts. After `wait_s` the last `LeaseHeld` is raised.
    """
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            return acquire(store, name, holder, ttl_s=ttl_s, clock=clock)
        except LeaseHeld as held:
            if time.monotonic() >= deadline:
                raise
            if not told and on_wait is not None:
                on_wait(held)
            told = True
        await asyncio.sleep(min(poll_s, max(0.0, deadline - time.monotonic())))


@contextmanager
def hold(
    store: Store, name: str, holder: str, *, ttl_s: float = DEFAULT_TTL_S, clock: Clock = utcnow
) -> Iterator[Lease]:
    """Acquire the lease (`LeaseHeld` if taken), keep it renewed, release it at the end.
    `clock` is the time the lease is taken at (the renewals read the real clock)."""
    lease = acquire(store, name, holder, ttl_s=ttl_s, clock=clock)
    with kept(store, lease):
        yield lease


@contextmanager
def kept(store: Store, lease: Lease) -> Iterator[Lease]:
    """Renew `lease` from a thread every ttl/3 while the block runs; release it afterwards.

    A thread, not a task: it keeps renewing while the event loop is busy with a long step.
    """
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(lease.ttl_s / 3):
            try:
                if not renew(store, lease):
                    log.warning("lease %s was taken over by another process", lease.name)
                    return
            except Exception:  # the database hiccuped: try again at the next beat
                log.warning("could not renew lease %s", lease.name, exc_info=True)

    keeper = threading.Thread(target=keep, name=f"lease {lease.name}", daemon=True)
    keeper.start()
    try:
        yield lease
    finally:
        stop.set()
        keeper.join()
        release(store, lease)


def when(moment: datetime) -> str:
    """A lease time as people read it (``2026-01-10 08:30:00 UTC``)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
