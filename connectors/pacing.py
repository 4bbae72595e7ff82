"""Keeping to a system's request rate: a pacer before each call, patience after a 429.

SF's test environment takes 30 calls a second (A1005 beyond that), WeCom's bot 20 a minute.
`Pacer` spaces calls at a configured rate (setting `rate_per_s`); whatever still comes back
rate-limited is retried, for calls safe to repeat, for up to `rate_limit_wait_s` — a rate
limit says "slow down", not "down", so it neither opens the breaker nor uses up the retries
meant for failures. A 429 that says how long to wait (``Retry-After``) is honoured: the call
tries again no sooner, and no caller of the same client sends before then (`Hold`); when
the wait asked for runs past `rate_limit_wait_s`, the call gives up at once instead of
sleeping into a certain failure.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable


class Pacer:
    """At most `rate_per_s` calls a second, spaced evenly, across every caller of a client."""

    def __init__(
        self,
        rate_per_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.interval = 1.0 / rate_per_s
        self.clock, self.sleep = clock, sleep
        self._next = 0.0

    async def wait(self) -> None:
        """Return when this call's turn has come (at once when the pace allows)."""
        now = self.clock()
        turn = max(now, self._next)
        self._next = turn + self.interval
        if turn > now:
            await self.sleep(turn - now)


class Patience:
    """How long one call has waited on rate limits, and how long to wait before trying again."""

    def __init__(
        self,
        budget_s: float,
        base_s: float,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.budget_s, self.base_s, self.clock, self.sleep = budget_s, base_s, clock, sleep
        self.started: float | None = None
        self.tries = 0

    async def wait_or_give_up(self, retry_after_s: float | None = None) -> bool:
        """Sleep a growing, jittered while — at least `retry_after_s` when the system said
        how long — and return True; False once the budget is spent, or at once when the wait
        asked for would end past it."""
        now = self.clock()
        self.started = now if self.started is None else self.started
        waited = now - self.started
        if waited >= self.budget_s:
            return False
        delay = min(1.0, self.base_s * 2 ** min(self.tries, 10)) * (0.5 + random.random())
        if retry_after_s is not None:
            if waited + retry_after_s > self.budget_s:
                return False
            delay = max(delay, retry_after_s)
        self.tries += 1
        await self.sleep(delay)
        return True


class Hold:
    """A "not before" time shared by every caller of one client, set by a Retry-After."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self.until = 0.0

    def extend(self, seconds: float) -> None:
        """No call before `seconds` from now (a later hold already set stays)."""
        self.until = max(self.until, self.clock() + seconds)

    async def wait(self, limit_s: float) -> None:
        """Return when the hold is over, waiting at most `limit_s`."""
        delay = min(self.until - self.clock(), limit_s)
        if delay > 0:
            await self.sleep(delay)
