"""Breakers in the database: shared by processes, surviving a restart, one message per outage."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.breaker import BreakerState, CircuitBreaker
from engine.errors import BreakerOpen
from engine.store import Store, open_store
from engine.store import breakers as breaker_store
from engine.store.breakers import StoreBook
from engine.store.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 10, 21, 4, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def sf_breaker(store: Store, clock: Clock) -> CircuitBreaker:
    book = StoreBook(store, BreakerState, refresh_s=0)
    return CircuitBreaker("sf", threshold=5, cooldown_s=2, clock=clock, book=book)


def messages(store: Store) -> list[dict]:
    with store.session() as session:
        return [
            m.payload for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


async def test_an_outage_opens_once_and_recovers_once_with_one_message_each(store: Store) -> None:
    clock = Clock()
    one, two = sf_breaker(store, clock), sf_breaker(store, clock)  # two processes' views
    for breaker in (one, two, one, two, one, two, one):  # seven failures in all
        await breaker.record_failure("HTTP 503")
    assert one.state == two.state == "open"
    with pytest.raises(BreakerOpen):
        await two.before_call()
    clock.now += timedelta(seconds=2)
    await one.before_call()  # the probe: exactly one of them gets it
    with pytest.raises(BreakerOpen):
        await two.before_call()
    with store.engine.begin() as conn:
        breaker_store.parked(conn, "sf")
        breaker_store.parked(conn, "sf")
    clock.now += timedelta(minutes=3)
    await one.record_success()
    assert two.state == "closed"
    sent = messages(store)
    assert [m["kind"] for m in sent] == ["breaker.opened", "breaker.recovered"]
    assert sent[0]["text"].startswith("SF unavailable since 2026-01-10 21:04 UTC")
    assert sent[1]["text"].startswith("SF recovered after 3 min down")
    assert "2 went by a backup route" in sent[1]["text"]


def test_the_state_survives_a_restart(db_url: str) -> None:
    first = open_store(db_url)
    try:
        clock = Clock()
        breaker = sf_breaker(first, clock)
        for _ in range(5):
            asyncio.run(breaker.record_failure("timeout"))
    finally:
        first.dispose()
    again = open_store(db_url)
    try:
        state = breaker_store.read(again, "sf", BreakerState)
        assert (state.state, state.since, state.reason) == ("open", T0, "timeout")
        assert state.retry_at == T0 + timedelta(seconds=2)
    finally:
        again.dispose()


CHILD = """
import asyncio, sys
from datetime import datetime
from connectors.breaker import BreakerState, CircuitBreaker
from engine.errors import BreakerOpen
from engine.store import open_store
from engine.store.breakers import StoreBook

store = open_store(sys.argv[1])
breaker = CircuitBreaker("sf", cooldown_s=600, book=StoreBook(store, BreakerState))

async def main():
    if sys.argv[2] == "fail":
        for _ in range(5):
            await breaker.record_failure("HTTP 503")
    try:
        await breaker.before_call()
        print("called")
    except BreakerOpen as exc:
        print("refused:", exc)

asyncio.run(main())
store.dispose()
"""


def child(db_url: str, what: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, what],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_two_processes_share_a_breaker(db_url: str) -> None:
    store = open_store(db_url)
    try:
        assert child(db_url, "look") == "called"
        assert child(db_url, "fail").startswith("refused: sf: circuit open")  # it opened it
        assert child(db_url, "look").startswith("refused: sf: circuit open")  # another sees it
        assert breaker_store.read(store, "sf", BreakerState).state == "open"
        assert [m["kind"] for m in messages(store)] == ["breaker.opened"]
    finally:
        store.dispose()
