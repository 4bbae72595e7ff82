"""Keeping to a system's request rate: a pacer before each call, patience after a 429.

SF's test environment takes 30 calls a second (A1005 beyond that), WeCom's bot 20 a minute.
`Pacer` spaces calls at a configured rate (setting `rate_per_s`); whatever still comes back
rate-limited is retried, for calls safe to repeat, for up to `rate_limit_wait_s` — a rate
limit says "slow down", not "down", so it neither opens the breaker nor uses up the retries
meant for failures.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable


class Pacer:
    """At most `rate_per_s` calls a second, spaced evenly, across every caller of a client."""

    def __init__(self, rate_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.interval = 1.0 / rate_per_s
        self.clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        """Return when this call's turn has come (at once when the pace allows)."""
        now = self.clock()
        turn = max(now, self._next)
        self._next = turn + self.interval
        if turn > now:
            await asyncio.sleep(turn - now)


class Patience:
    """How long one call has waited on rate limits, and how long to wait before trying again."""

    def __init__(self, budget_s: float, base_s: float, clock: Callable[[], float]) -> None:
        self.budget_s, self.base_s, self.clock = budget_s, base_s, clock
        self.started: float | None = None
        self.tries = 0

    async def wait_or_give_up(self) -> bool:
        """Sleep a growing, jittered while and return True; False once the budget is spent."""
        now = self.clock()
        self.started = now if self.started is None else self.started
        if now - self.started >= self.budget_s:
            return False
        delay = min(1.0, self.base_s * 2 ** min(self.tries, 10)) * (0.5 + random.random())
        self.tries += 1
        await asyncio.sleep(delay)
        return True
