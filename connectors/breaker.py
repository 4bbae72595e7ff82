"""The circuit breaker every connector's calls go through: stop calling a failing system."""

from __future__ import annotations

import time
from collections.abc import Callable

from engine.errors import Unavailable


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; lets one probe through after `cooldown_s`.

    States: ``closed`` (calls pass), ``open`` (calls raise `Unavailable` at once),
    ``half_open`` (the cool-down is over: the next call is a probe; success closes the
    breaker, failure opens it again). `clock` is injectable for tests.
    """

    def __init__(
        self,
        system: str,
        *,
        threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.system = system
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        """Raise `Unavailable` while the breaker is open."""
        if self.state == "open":
            raise Unavailable(
                self.system,
                f"circuit open after {self.failures} consecutive failures; "
                f"retry after the {self.cooldown_s:g} s cool-down",
            )

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = self.clock()
