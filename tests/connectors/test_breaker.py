"""The breaker's transitions: open after five, one probe, a cool-down that grows, by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from connectors.breaker import BreakerState, CircuitBreaker, Event, MemoryBook, Policy
from engine.errors import BreakerOpen

T0 = datetime(2026, 1, 10, 21, 4, 0)
POLICY = Policy(threshold=5, cooldown_s=2, max_cooldown_s=300, probe_s=60)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def breaker(clock: Clock, events: list[Event]) -> CircuitBreaker:
    return CircuitBreaker(
        "sf",
        threshold=5,
        cooldown_s=2,
        max_cooldown_s=300,
        clock=clock,
        book=MemoryBook(events.append),
    )


async def test_five_failures_open_it_once_and_calls_stop_at_once() -> None:
    clock, events = Clock(), []
    sf = breaker(clock, events)
    for _ in range(5):
        await sf.before_call()
        await sf.record_failure("HTTP 503")
    assert sf.state == "open"
    with pytest.raises(BreakerOpen, match="circuit open since 21:04:00 UTC after 5 failed"):
        await sf.before_call()
    await sf.record_failure("a call that left before it opened")  # no second opening
    assert [e.kind for e in events] == ["opened"]


async def test_the_cool_down_grows_while_the_outage_lasts_seconds_then_minutes() -> None:
    clock, events = Clock(), []
    sf = breaker(clock, events)
    for _ in range(5):
        await sf.record_failure("down")
    waits = []
    for _ in range(10):
        state = sf.book.read("sf")
        waits.append((state.retry_at - clock.now).total_seconds())
        clock.now = state.retry_at
        await sf.before_call()  # the probe
        assert sf.state == "half_open"
        await sf.record_failure("still down")
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert [e.kind for e in events] == ["opened"]  # failed probes are not news
    clock.now = sf.book.read("sf").retry_at
    await sf.before_call()
    await sf.record_success()
    assert sf.state == "closed"
    assert [e.kind for e in events] == ["opened", "recovered"]
    assert events[-1].state.since == T0


async def test_one_probe_at_a_time_and_a_lost_probe_is_given_up() -> None:
    clock, events = Clock(), []
    sf = breaker(clock, events)
    for _ in range(5):
        await sf.record_failure("down")
    clock.advance(2)
    await sf.before_call()  # this caller probes ...
    with pytest.raises(BreakerOpen):  # ... and nobody else calls meanwhile
        await sf.before_call()
    clock.advance(POLICY.probe_s)  # the prober never answered (its process died)
    await sf.before_call()  # the next caller probes
    assert sf.state == "half_open"


async def test_a_probe_that_fails_does_not_reset_the_outage() -> None:
    state = BreakerState("sf")
    for _ in range(5):
        state.failed(T0, "down", POLICY)
    assert state.claim_probe(T0 + timedelta(seconds=2), POLICY)
    assert not state.claim_probe(T0 + timedelta(seconds=2), POLICY)
    assert state.failed(T0 + timedelta(seconds=3), "down", POLICY) is None
    assert state.since == T0 and state.outages == 1


def test_opened_by_hand_it_stays_open_without_probes_until_closed_by_hand() -> None:
    state = BreakerState("sf")
    opened = state.open_by_hand(T0, "li.wei", "SF maintenance tonight")
    assert opened is not None and opened.kind == "opened" and opened.by == "li.wei"
    assert state.verdict(T0 + timedelta(days=1)) == "refuse"
    assert state.succeeded(T0) is None and state.state == "open"
    assert state.open_by_hand(T0, "li.wei", "again") is None  # one message per outage
    closed = state.close_by_hand(T0 + timedelta(hours=2), "li.wei", "maintenance over")
    assert closed is not None and closed.kind == "recovered"
    assert state.state == "closed" and state.close_by_hand(T0, "li.wei", "x") is None
