"""Use cases: the external systems' breakers — list them with their waiting orders, and open
or close one by hand (audited).

`list_systems(store, actor, systems)` is what `orderhub systems` shows (and what the API
and the editor will show): each system's breaker state, why and since when, when the next
probe may go, and the orders waiting for it. An ops manager or an admin may open a breaker
by hand before a planned outage (calls stop at once, in every process; no probes until it
is closed by hand) or close one when the system is known to be back; each is audited and,
like any opening or recovery, sends one WeCom message through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from connectors.breaker import BreakerState
from engine.errors import InvalidInput
from engine.store import Store
from engine.store import breakers as breaker_store
from engine.store.models import utcnow
from engine.store.waits import open_waits
from engine.waits import wake
from service.access import Actor, require
from versions import audit

#: every external system orderhub talks to, in the order `orderhub systems` lists them
SYSTEMS = ("youzan", "douyin", "h5", "erp", "sf", "zto", "wecom")
#: how many waiting orders a listing names per system
SHOWN = 20


@dataclass(frozen=True)
class SystemView:
    system: str
    state: str  # closed, open, half_open
    reason: str
    since: datetime | None  # the outage's start
    retry_at: datetime | None  # open: the earliest probe
    cooldown_s: float
    failures: int
    by_hand: bool
    changed_by: str
    waiting: int  # orders waiting for it now
    waiting_refs: list[str] = field(default_factory=list)  # the oldest `SHOWN` of them

    def as_json(self) -> dict:
        data = dict(self.__dict__)
        for key in ("since", "retry_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def list_systems(
    store: Store, actor: Actor, systems: tuple[str, ...] | list[str] = SYSTEMS
) -> list[SystemView]:
    """Every system's breaker (closed when it never failed) and the orders waiting for it."""
    require(actor, "systems.list")
    states = breaker_store.list_states(store, BreakerState, list(systems))
    return [_view(store, state) for state in states]


def set_breaker(store: Store, actor: Actor, system: str, action: str, reason: str) -> SystemView:
    """Open or close `system`'s breaker by hand (`action` ``open`` or ``close``), audited."""
    require(actor, "systems.change")
    if system not in SYSTEMS:
        raise InvalidInput(f"no system {system!r}; systems: {', '.join(SYSTEMS)}", field="system")
    if action not in ("open", "close"):
        raise InvalidInput("action must be open or close", field="action")
    if not reason.strip():
        raise InvalidInput("opening or closing a breaker needs a reason", field="reason")
    by, now = str(actor), utcnow()

    def transition(state: BreakerState):  # noqa: ANN202 - an Event or None
        if action == "open":
            return state.open_by_hand(now, by, reason)
        return state.close_by_hand(now, by, reason)

    state, event = breaker_store.change(store, system, transition, BreakerState)
    with store.session() as session, session.begin():
        detail = {"state": state.state, "changed": event is not None}
        audit.record(session, actor, f"breaker.{action}", f"system:{system}", detail, reason)
    if state.state == "closed":  # the runs waiting for it go on at the next run of theirs
        wake(store, "system", system, None, by, note=reason)
    return _view(store, state)


def _view(store: Store, state: BreakerState) -> SystemView:
    with store.engine.connect() as conn:
        waiting = breaker_store.waiting_runs(conn, state.system)
        refs = [w.ref for w in open_waits(conn, "system", state.system)[:SHOWN]]
    return SystemView(
        system=state.system,
        state=state.state,
        reason=state.reason if state.state != "closed" else "",
        since=state.since,
        retry_at=state.retry_at if state.state == "open" and not state.manual else None,
        cooldown_s=state.cooldown_s,
        failures=state.failures,
        by_hand=state.manual,
        changed_by=state.changed_by,
        waiting=waiting,
        waiting_refs=refs,
    )
