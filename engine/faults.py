"""What a failed step leads to: a backup route, a wait for the system, or a stop.

`decide(spec, exc, ctx)` is the runner's one rule for a step that raised a connector error
or a conflict:

- a refusal (`Rejected`) or a conflict takes the node's `on_error` route, else stops the
  run for a person (``fail``);
- a passing fault — a timeout, a 5xx, a 429, an open breaker — is never a final outcome,
  whatever `on_error` says. The order takes the node's `on_unavailable` route (a backup
  path) when one is given AND nothing of this step can have reached the outside world: the
  failure is an open breaker met before the step's first call, and the step began no
  effect an earlier try had started, and finished none. Otherwise it waits for the system
  (``wait``): a timed-out waybill is reconciled by its key when the run goes on, before
  anything else happens, so no carrier is left holding a waybill nobody recorded.

While the system's breaker is open, a wait parks the run at the node with a ``system`` wait
(`engine.runner`), however many tries it had; `engine.system_waits` wakes it once the
breaker lets a probe through or closes, and the node runs again. A passing fault while the
breaker stays closed stops the run as ``retry`` instead: the next run tries it again, up to
its tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import BreakerOpen, ConnectorError, Rejected
from engine.workflow import NodeSpec

#: test-only switch: False reroutes on any passing fault, even when a call may have landed
#: (the twin test shows that this makes orphan and double waybills)
REROUTE_ONLY_UNTOUCHED = True
#: a run waiting for a system carries this in front of its error (see `waiting_for`)
WAITING = "waiting for {system}: "


@dataclass(frozen=True)
class Decision:
    kind: str  # route (on_error), reroute (on_unavailable), wait, fail
    target: str | None = None
    system: str | None = None


def decide(spec: NodeSpec, exc: Exception, ctx: Any) -> Decision:
    """What the run does after `exc` at node `spec` (see the module docstring)."""
    if not passing(exc):
        return Decision("route", spec.on_error) if spec.on_error else Decision("fail")
    system = exc.system  # type: ignore[attr-defined]
    if spec.on_unavailable and untouched(exc, ctx):
        return Decision("reroute", spec.on_unavailable, system)
    return Decision("wait", None, system)


def passing(exc: Exception) -> bool:
    """A fault that passes: the system may do it next time (timeout, 5xx, 429, breaker)."""
    return isinstance(exc, ConnectorError) and not isinstance(exc, Rejected)


def untouched(exc: Exception, ctx: Any) -> bool:
    """True when nothing of the step can have reached the system: see the module docstring."""
    if not REROUTE_ONLY_UNTOUCHED:
        return True
    if not (isinstance(exc, BreakerOpen) and exc.untouched):
        return False
    if getattr(ctx, "ended", None):
        return False
    return all(prior is None for prior in getattr(ctx, "begun", {}).values())


def system_down(exc: Exception, connectors: Any) -> bool:
    """True when `exc` is an open breaker, or the failing system's breaker is open now (a
    probe that failed): an outage, during which a run waits however many tries it had."""
    if isinstance(exc, BreakerOpen):
        return True
    try:
        return connectors.breaker(exc.system).is_open()  # type: ignore[attr-defined]
    except (AttributeError, KeyError):  # no breaker known for it (a test's own connectors)
        return False


def waiting_note(exc: ConnectorError) -> str:
    """The run's error while it waits for `exc.system`."""
    return WAITING.format(system=exc.system) + str(exc)
