"""Injected faults: what each simulated system does wrong, when, and how often.

A fault names a `system` (and optionally one `call` kind of it, see `CALLS`) and a `mode`:

    error        HTTP 500                          down       HTTP 503
    timeout      the call lands, its answer is held back `hold_s` (past the client's timeout)
    rate_limit   the platform's own rate-limit answer (SF A1005, ZTO S221, Youzan 4204,
                 Douyin 40100, WeCom 45009); HTTP 429 with Retry-After where it has none
    http_429     HTTP 429 with ``Retry-After: retry_after_s`` (a gateway in front of it)
    latency      every answer `latency_s` late: a number, or [low, high] drawn per call
    page_twice   a channel's next page request is answered with the previous page again
    order_moves  before a channel's page is served, an order of another page of the window
                 gets a new update time (the simulator's now), so it moves while it is read

When it plays: `count` (the next N matching calls), `rate` (each matching call with that
probability, drawn from a generator seeded by the plan's `seed` and the fault's id, so a
run replays the same draws in the same call order), and a window — `start_s`/`end_s`
seconds after the simulator started (or was reset), or `start_at`/`end_at` absolute ISO
8601 times. Conditions combine; a fault without any plays on every matching call until it
is cleared. A fault whose count is spent is dropped.

A plan is ``{"seed": 7, "faults": [fault, …]}`` (a bare list, or one fault, also reads).
Faults are keyed by `id` (default ``system[:call]/mode``): arming one with a known id
replaces it. For one call, call-specific faults are tried before system-wide ones, each in
the order armed; the first failure that plays wins, and every latency that plays adds up.
The window clock is the simulator's clock plus an offset a test may advance
(`FaultBook.advance`), so an outage window can be crossed without sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from engine.errors import InputError

#: the call kinds of each system a fault may be limited to
CALLS: dict[str, tuple[str, ...]] = {
    # as_pull, as_get, as_act: the after-sales list, detail and acts (agree, refund, refuse)
    "youzan": ("pull", "get", "upload", "decrypt", "as_pull", "as_get", "as_act"),
    "douyin": ("pull", "get", "upload", "decrypt", "as_pull", "as_get", "as_act"),
    "h5": ("pull", "get", "upload", "as_pull", "as_act"),
    "erp": ("login", "inventory", "catalogue", "outbound", "returns"),
    "sf": ("create", "search", "reverse", "routes"),
    "zto": ("create", "search"),
    "wecom": ("send",),
}
FAILURE_MODES = ("error", "down", "timeout", "rate_limit", "http_429")
PAGE_MODES = ("page_twice", "order_moves")
MODES = (*FAILURE_MODES, "latency", *PAGE_MODES)
PAGED = ("youzan", "douyin", "h5")


class Fault(BaseModel):
    """One injected fault (see the module docstring for the fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: str
    mode: str
    call: str | None = None
    id: str | None = Field(None, min_length=1)
    count: int | None = Field(None, ge=1)
    rate: float | None = Field(None, gt=0, le=1)
    start_s: float | None = None
    end_s: float | None = None
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    latency_s: float | tuple[float, float] | None = None
    retry_after_s: float = Field(1.0, ge=0)
    hold_s: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Fault:
        if self.system not in CALLS:
            raise ValueError(f"system must be one of {', '.join(CALLS)}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        calls = CALLS[self.system]
        if self.call is not None and self.call not in calls:
            raise ValueError(f"call of {self.system} must be one of {', '.join(calls)}")
        pull = self.system in PAGED and self.call in (None, "pull")
        if self.mode in PAGE_MODES and not pull:
            raise ValueError(f"{self.mode} plays on a channel's pull ({', '.join(PAGED)})")
        if (self.mode == "latency") != (self.latency_s is not None):
            raise ValueError("latency_s goes with mode latency, and mode latency needs it")
        low, high = _bounds(self.latency_s)
        if low < 0 or high < low:
            raise ValueError("latency_s must be >= 0, or [low, high] with 0 <= low <= high")
        if self.start_s is not None and self.start_at is not None:
            raise ValueError("give start_s or start_at, not both")
        if self.end_s is not None and self.end_at is not None:
            raise ValueError("give end_s or end_at, not both")
        return self

    @property
    def key(self) -> str:
        """The fault's id: `id`, else ``system[:call]/mode``."""
        where = f"{self.system}:{self.call}" if self.call else self.system
        return self.id or f"{where}/{self.mode}"


class FaultPlan(BaseModel):
    """A seed and the faults to arm."""

    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    faults: list[Fault] = Field(default_factory=list)


@dataclass(frozen=True)
class Played:
    """What the faults make of one call: a failure to answer with (or None), and delays."""

    mode: str | None = None
    delay_s: float = 0.0
    retry_after_s: float = 1.0


NOTHING = Played()


def parse_plan(data: Any, source: str = "faults") -> FaultPlan:
    """A `FaultPlan` from a plan dict, a list of faults or one fault; `InputError` saying
    which fault and field is wrong otherwise."""
    if isinstance(data, list):
        data = {"faults": data}
    elif isinstance(data, dict) and "faults" not in data and "system" in data:
        data = {"faults": [data]}
    try:
        return FaultPlan.model_validate(data if data is not None else {})
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "plan"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InputError(f"{source}: {where}: {message}; fix the fault and load it again") from None


def load_plan(path: str | Path) -> FaultPlan:
    """The fault plan in a JSON or YAML file; `InputError` naming the file when it is
    missing, not JSON/YAML or not a plan."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such faults file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({type(exc).__name__})") from None
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise InputError(f"{where}: not valid JSON or YAML; fix the file") from None
    return parse_plan(data, str(path))


class FaultBook:
    """The armed faults of one simulator, their counts and random generators, and the
    window clock (`clock` plus an offset `advance` moves on)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        *,
        seed: int = 0,
        timeout_hold_s: float = 6.0,
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.timeout_hold_s = timeout_hold_s
        self.started = clock()
        self.offset_s = 0.0
        self._armed: dict[str, _Armed] = {}

    def arm(self, plan: FaultPlan) -> list[str]:
        """Add the plan's faults, each replacing an armed one with its id; return the ids.
        A plan's seed applies to the faults armed from then on."""
        if plan.seed is not None:
            self.seed = plan.seed
        for fault in plan.faults:
            self._armed.pop(fault.key, None)  # a replaced fault goes to the end of the order
            self._armed[fault.key] = _Armed(fault, self.seed)
        return [fault.key for fault in plan.faults]

    def clear(self, ids: list[str] | None = None) -> None:
        """Drop the faults with these ids, or every fault."""
        if ids is None:
            self._armed.clear()
        for key in ids or []:
            self._armed.pop(key, None)

    def restart(self) -> None:
        """Drop every fault and start the window clock again (a reset)."""
        self._armed.clear()
        self.started = self.clock()
        self.offset_s = 0.0

    def advance(self, seconds: float) -> None:
        """Move the window clock on by `seconds` (faults only: orders keep their times)."""
        self.offset_s += float(seconds)

    def now_s(self) -> float:
        """Seconds since the simulator started, on the window clock."""
        return self.clock() + self.offset_s - self.started

    def describe(self) -> dict[str, Any]:
        """The armed faults as JSON: each with its id, what is left of its count and how
        often it played."""
        return {
            "seed": self.seed,
            "now_s": round(self.now_s(), 3),
            "faults": [armed.describe(key) for key, armed in self._armed.items()],
        }

    def play(self, system: str, call: str | None) -> Played:
        """The failure (first that plays) and the latency (all that play) for one call."""
        mode, delay, retry_after = None, 0.0, 1.0
        for key, armed in self._matching(system, call):
            fault = armed.fault
            if fault.mode in PAGE_MODES or (mode is not None and fault.mode != "latency"):
                continue
            if not self._plays(key, armed):
                continue
            if fault.mode == "latency":
                delay += armed.latency()
            elif fault.mode == "timeout":
                mode, delay = "timeout", delay + (fault.hold_s or self.timeout_hold_s)
            else:
                mode, retry_after = fault.mode, fault.retry_after_s
        return NOTHING if mode is None and not delay else Played(mode, delay, retry_after)

    def play_page(self, system: str, applicable: set[str]) -> str | None:
        """The page fault (one of `applicable`) that plays on this page request, if any."""
        for key, armed in self._matching(system, "pull"):
            if armed.fault.mode in applicable and self._plays(key, armed):
                return armed.fault.mode
        return None

    def _matching(self, system: str, call: str | None) -> list[tuple[str, _Armed]]:
        specific = [
            (k, a) for k, a in self._armed.items() if a.fault.system == system and a.fault.call
        ]
        general = [
            (k, a)
            for k, a in self._armed.items()
            if a.fault.system == system and a.fault.call is None
        ]
        return [(k, a) for k, a in specific if a.fault.call == call] + general

    def _plays(self, key: str, armed: _Armed) -> bool:
        if not armed.in_window(self.clock() + self.offset_s, self.started):
            return False
        if armed.fault.rate is not None and armed.rng.random() >= armed.fault.rate:
            return False
        armed.played += 1
        if armed.left is not None:
            armed.left -= 1
            if armed.left <= 0:
                del self._armed[key]
        return True


class _Armed:
    """A fault with its count left, its play count and its own seeded generator."""

    def __init__(self, fault: Fault, seed: int) -> None:
        self.fault = fault
        self.left = fault.count
        self.played = 0
        self.rng = random.Random(f"{seed}:{fault.key}")

    def in_window(self, now: float, started: float) -> bool:
        f = self.fault
        start = f.start_at.timestamp() if f.start_at else started + (f.start_s or 0.0)
        if f.start_at is None and f.start_s is None:
            start = float("-inf")
        end = f.end_at.timestamp() if f.end_at else started + (f.end_s or 0.0)
        if f.end_at is None and f.end_s is None:
            end = float("inf")
        return start <= now < end

    def latency(self) -> float:
        low, high = _bounds(self.fault.latency_s)
        return low if low == high else self.rng.uniform(low, high)

    def describe(self, key: str) -> dict[str, Any]:
        data = self.fault.model_dump(mode="json", exclude_defaults=True)
        return {**data, "id": key, "left": self.left, "played": self.played}


def _bounds(latency: float | tuple[float, float] | None) -> tuple[float, float]:
    if latency is None:
        return 0.0, 0.0
    if isinstance(latency, tuple):
        return float(latency[0]), float(latency[1])
    return float(latency), float(latency)
