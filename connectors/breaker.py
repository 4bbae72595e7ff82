"""The circuit breaker every connector's calls go through: stop calling a failing system.

One breaker per external system. Its state is a `BreakerState` kept in a `BreakerBook`:
`MemoryBook` (this process only; tests, tools) or the database's book
(`engine.store.breakers.StoreBook`), which every process of one store shares and which
survives a restart. The transitions are written once, here, as methods of `BreakerState`;
a book only applies them atomically and keeps the result.

    closed ──5 failed calls──► open ──cool-down over──► half_open (one probe call)
       ▲                        ▲                           │
       └──── probe succeeded ───┼─────── probe failed ──────┘ (cool-down grows)

While open, calls raise `BreakerOpen` at once, without leaving the process. The cool-down
starts at `cooldown_s` and doubles after each failed probe up to `max_cooldown_s` (seconds
at first, minutes later). When it is over, exactly one caller — in any process sharing the
book — claims the probe: its call goes through, every other caller is refused until the
probe's answer. A probe that never answers (its process died) is given up after `probe_s`
and the next caller probes. Opening (closed → open) and recovering (→ closed) are the two
`Event`s a book reports; reopening after a failed probe is not news.
A breaker opened by hand stays open, without probes, until it is closed by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from engine.errors import BreakerOpen

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATES = (CLOSED, OPEN, HALF_OPEN)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Naive UTC, as the store keeps times."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Policy:
    """When a breaker opens and how long it stays open."""

    threshold: int = 5  # consecutive failed calls that open it
    cooldown_s: float = 2.0  # the first cool-down of an outage
    max_cooldown_s: float = 300.0  # the cool-down doubles after each failed probe, up to this
    probe_s: float = 60.0  # a probe not answered within this is given up (its caller died)


@dataclass(frozen=True)
class Event:
    """News of a breaker: ``opened`` (an outage starts) or ``recovered`` (it ended)."""

    kind: str
    state: BreakerState
    by: str = ""  # who, when a person opened or closed it by hand


@dataclass
class BreakerState:
    """One system's breaker: where it stands, why, since when, and what comes next."""

    system: str
    state: str = CLOSED
    failures: int = 0  # consecutive failed calls (closed), or calls failed in this outage
    reason: str = ""  # the last failure, as people read it
    since: datetime | None = None  # when this outage started (None while closed)
    retry_at: datetime | None = None  # open: the earliest probe; half_open: the probe's end
    cooldown_s: float = 0.0  # the cool-down now in force
    manual: bool = False  # opened by hand: no probes, closed by hand only
    changed_by: str = ""  # who opened or closed it by hand
    outages: int = 0  # outages so far (opening starts one)
    parked: int = 0  # orders that waited for the system or took a backup route this outage
    changed_at: datetime | None = None

    # -- reading
    def verdict(self, now: datetime) -> str:
        """``pass`` (call), ``probe`` (call if this caller claims the probe) or ``refuse``."""
        if self.state == CLOSED:
            return "pass"
        if self.manual or (self.retry_at is not None and now < self.retry_at):
            return "refuse"
        return "probe"

    def refusal(self) -> BreakerOpen:
        since = f" since {self.since:%H:%M:%S} UTC" if self.since else ""
        why = f" ({self.reason})" if self.reason else ""
        if self.manual:
            text = f"closed to calls by hand{since}{why}; calls resume when it is closed by hand"
        else:
            at = f" at {self.retry_at:%H:%M:%S} UTC" if self.retry_at else ""
            text = f"circuit open{since} after {self.failures} failed calls{why}; next try{at}"
        return BreakerOpen(self.system, text)

    # -- transitions (a book applies them atomically)
    def claim_probe(self, now: datetime, policy: Policy) -> bool:
        """Become half-open with this caller as the one probe; False if someone else was first."""
        if self.verdict(now) != "probe":
            return False
        self.state, self.retry_at, self.changed_at = HALF_OPEN, _after(now, policy.probe_s), now
        return True

    def failed(self, now: datetime, reason: str, policy: Policy) -> Event | None:
        self.failures += 1
        self.reason = reason[:250]
        if self.state == CLOSED and self.failures >= policy.threshold:
            self.state, self.since, self.cooldown_s = OPEN, now, policy.cooldown_s
            self.retry_at, self.outages, self.parked, self.changed_at = (
                _after(now, self.cooldown_s),
                self.outages + 1,
                0,
                now,
            )
            self.changed_by = ""
            return Event("opened", replace(self))
        if self.state == HALF_OPEN:  # the probe failed: wait longer this time
            grown = max(self.cooldown_s, policy.cooldown_s) * 2
            self.cooldown_s = min(grown, policy.max_cooldown_s)
            self.state, self.retry_at, self.changed_at = OPEN, _after(now, self.cooldown_s), now
        return None

    def succeeded(self, now: datetime) -> Event | None:
        if self.state == CLOSED:
            self.failures = 0
            return None
        if self.state == HALF_OPEN and not self.manual:  # the probe answered: it is back
            return self._close(now, "")
        return None  # a call that left before it opened: the probe decides

    def open_by_hand(self, now: datetime, by: str, reason: str) -> Event | None:
        was_open = self.state != CLOSED
        self.manual, self.changed_by, self.reason = True, by, reason[:250]
        self.state, self.retry_at, self.changed_at = OPEN, None, now
        if was_open:
            return None  # the outage goes on; nobody needs telling twice
        self.since, self.outages, self.parked, self.failures = now, self.outages + 1, 0, 0
        return Event("opened", replace(self), by)

    def close_by_hand(self, now: datetime, by: str, reason: str) -> Event | None:
        if self.state == CLOSED:
            return None
        self.reason = reason[:250]
        return self._close(now, by)

    def _close(self, now: datetime, by: str) -> Event:
        ended = replace(self, changed_at=now)  # as it stood when it ended
        self.state, self.failures, self.retry_at, self.cooldown_s = CLOSED, 0, None, 0.0
        self.since, self.manual, self.changed_by, self.changed_at = None, False, by, now
        self.parked = 0
        return Event("recovered", ended, by)


Transition = Callable[[BreakerState], Event | None]


class BreakerBook(Protocol):
    """Where breaker states are kept; `change` applies a transition atomically."""

    def read(self, system: str) -> BreakerState:
        """The state as last known (a shared book may answer from a short-lived cache)."""
        ...

    async def change(self, system: str, transition: Transition) -> BreakerState:
        """Apply `transition` to the current state, keep the result, report its event."""
        ...


class MemoryBook:
    """Breaker states in this process's memory; `on_event` hears openings and recoveries."""

    def __init__(self, on_event: Callable[[Event], None] | None = None) -> None:
        self.states: dict[str, BreakerState] = {}
        self.on_event = on_event

    def read(self, system: str) -> BreakerState:
        return self.states.setdefault(system, BreakerState(system))

    async def change(self, system: str, transition: Transition) -> BreakerState:
        state = self.read(system)
        event = transition(state)
        if event is not None and self.on_event is not None:
            self.on_event(event)
        return state


class CircuitBreaker:
    """The breaker of one system as its HTTP client uses it (see the module docstring)."""

    def __init__(
        self,
        system: str,
        *,
        threshold: int = 5,
        cooldown_s: float = 2.0,
        max_cooldown_s: float = 300.0,
        probe_s: float = 60.0,
        clock: Clock = utcnow,
        book: BreakerBook | None = None,
    ) -> None:
        self.system = system
        self.policy = Policy(threshold, cooldown_s, max(cooldown_s, max_cooldown_s), probe_s)
        self.clock = clock
        self.book: BreakerBook = book or MemoryBook()

    @property
    def state(self) -> str:
        return self.book.read(self.system).state

    def is_open(self) -> bool:
        """True while calls are refused (open or half-open), as far as this process knows."""
        return self.book.read(self.system).state != CLOSED

    async def before_call(self) -> None:
        """Return if the call may go (closed, or this caller is the probe); else raise
        `BreakerOpen`."""
        now = self.clock()
        current = self.book.read(self.system)
        verdict = current.verdict(now)
        if verdict == "pass":
            return
        if verdict == "probe":
            claimed: list[bool] = []
            after = await self.book.change(
                self.system, lambda s: claimed.append(s.claim_probe(now, self.policy))
            )
            if claimed and claimed[0]:
                return
            if after.verdict(now) == "pass":  # another process closed it meanwhile
                return
            raise after.refusal()
        raise current.refusal()

    async def record_success(self) -> None:
        known = self.book.read(self.system)
        if known.state == CLOSED and known.failures == 0:
            return  # the common case: nothing to write
        now = self.clock()
        await self.book.change(self.system, lambda s: s.succeeded(now))

    async def record_failure(self, reason: str = "") -> None:
        now = self.clock()
        await self.book.change(self.system, lambda s: s.failed(now, reason, self.policy))


def _after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "BreakerBook",
    "BreakerState",
    "CircuitBreaker",
    "Event",
    "MemoryBook",
    "Policy",
]
