"""Runs that wait, and what wakes them.

A node ends its step by waiting when its `Outcome` carries `Wait`s (see `engine.node`): a
decision in a named queue (``queue``, key the queue), stock (``stock``, key
``SKU@warehouse``), an external system's breaker closing (``system``, key the system) or a
time (``time``, `until`). The run parks at the node, pinned to its version, until `wake`
(or `sweep`, for times and wait limits) ends one of its waits:

    woken = wake(store, "queue", "review", "release", "sun.li:reviewer", run_ids=[run_id])
    woken = wake(store, "system", "sf", None, "breaker sf")     # every run waiting for SF

`wake` claims each run once — whoever wakes it first wins, in any process — and records who
woke it, why, and the route: for a queue the person's decision (one the waiting node routes;
`OpenWait.offers` lists them), for the other kinds the waker's route, else the one the node named
(None: the node runs again). The woken runs are then finished by a dispatcher (see
`engine.dispatch`); the runner records the wake as the waiting node's step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import InvalidInput
from engine.store import Store
from engine.store import stock as stock_store
from engine.store import waits as wait_store
from engine.store.models import utc, utcnow
from engine.store.waits import OpenWait, open_waits

KINDS = ("queue", "stock", "system", "time", "event")


@dataclass(frozen=True)
class Woken:
    """A run that a wake claimed: it is ``woken`` until a runner finishes it."""

    run_id: int
    ref: str
    workflow_id: str
    version: str
    node_id: str
    route: str | None


def wake(
    store: Store,
    kind: str,
    key: str | None,
    route: str | None,
    by: str,
    *,
    note: str | None = None,
    run_ids: list[int] | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    conn: Any = None,
) -> list[Woken]:
    """Wake runs waiting for `kind` `key` (any key when None; only `run_ids` when given),
    oldest paid first, at most `limit`. Returns the runs this call woke.

    `route` must be offered by every matching wait of a queue (a person's decision); for the
    other kinds None means each wait's own route. `by` says who or what woke them, `note` why
    (both go in the step the runner records). With `conn` the claims join the caller's
    transaction (a service use case that also audits); else each run commits on its own.
    Raises `InvalidInput` (field ``decision``) when a waiting node does not route `route`.
    """
    if kind not in KINDS:
        raise ValueError(f"wait kind {kind!r}: one of {', '.join(KINDS)}")
    with _connection(store, conn) as read:
        found = open_waits(read, kind, key, run_ids=run_ids)
    found = found[:limit] if limit is not None else found
    for wait in found:
        _check_route(wait, route)
    return claim_all(store, found, route, by, note=note, now=now, conn=conn)


def wake_due(store: Store, now: datetime, by: str = "clock") -> list[Woken]:
    """Wake the runs whose time waits have come (`until` at or before `now`)."""
    with store.engine.connect() as conn:
        due = open_waits(conn, "time", due_by=utc(now))
    return claim_all(store, due, None, by, note=f"time came ({utc(now):%Y-%m-%d %H:%M})", now=now)


@dataclass
class Swept:
    """What `sweep` did: time waits ended, reminders queued, runs moved on by `timeout`."""

    due: list[Woken] = field(default_factory=list)
    reminded: int = 0  # orders past their wait limit (one message per queue node)
    timed_out: list[Woken] = field(default_factory=list)


def sweep(store: Store, now: datetime) -> Swept:
    """What the clock ends: time waits that came, and waits past their limit — the team gets
    one reminder per queue node through the outbox (never again for the same wait), and the
    runs of nodes that route ``timeout`` move on by it."""
    swept = Swept(due=wake_due(store, now))
    moment = utc(now)
    with store.engine.begin() as conn:
        overdue = open_waits(conn, overdue_at=moment)
        groups: dict[tuple[str, str, str], list[OpenWait]] = {}
        for wait in overdue:
            groups.setdefault((wait.workflow_id, wait.node_id, wait.key), []).append(wait)
        for (workflow_id, node_id, key), waits in groups.items():
            stock_store.add_outbox(conn, "wecom", _reminder(workflow_id, node_id, key, waits))
        wait_store.mark_reminded(conn, [w.id for w in overdue], moment)
    swept.reminded = len({w.run_id for w in overdue})
    timing_out = [w for w in overdue if "timeout" in w.offers]
    swept.timed_out = claim_all(
        store, timing_out, "timeout", "clock", note="waited past its wait limit", now=now
    )
    return swept


def _reminder(workflow_id: str, node_id: str, key: str, waits: list[OpenWait]) -> dict[str, Any]:
    refs = ", ".join(w.ref for w in waits[:10]) + (" …" if len(waits) > 10 else "")
    oldest = min(w.since for w in waits)
    text = (
        f"orderhub [{key}] {len(waits)} orders waiting at {workflow_id}/{node_id} past their "
        f"wait limit (the oldest since {oldest:%Y-%m-%d %H:%M} UTC): {refs}"
    )
    return {"kind": "reminder", "text": text}


def claim_all(
    store: Store,
    found: list[OpenWait],
    route: str | None,
    by: str,
    *,
    note: str | None = None,
    now: datetime | None = None,
    conn: Any = None,
) -> list[Woken]:
    """Claim each wait's run (see `engine.store.waits.claim`); the ones this call woke."""
    moment = utc(now) if now is not None else utcnow()
    woken = []
    for wait in found:
        chosen = route if route is not None or wait.kind == "queue" else wait.route
        with _connection(store, conn, begin=True) as tx:
            if wait_store.claim(tx, wait, chosen, by, note, moment):
                woken.append(
                    Woken(
                        wait.run_id, wait.ref, wait.workflow_id, wait.version, wait.node_id, chosen
                    )
                )
    return woken


def _check_route(wait: OpenWait, route: str | None) -> None:
    if wait.kind == "queue" and route not in wait.offers:
        choices = ", ".join(wait.offers)
        raise InvalidInput(
            f"{wait.ref} waits at {wait.node_id} ({wait.key}), whose decisions are {choices}; "
            f"{route!r} is not one of them",
            field="decision",
        )
    if wait.kind != "queue" and route is not None and route not in wait.offers:
        raise InvalidInput(
            f"{wait.ref} waits at {wait.node_id} for {wait.kind} {wait.key}, which routes "
            f"{', '.join(wait.offers) or 'nothing'} when woken, not {route!r}",
            field="route",
        )


@contextmanager
def _connection(store: Store, conn: Any, *, begin: bool = False) -> Iterator[Any]:
    """The caller's connection (its transaction), else one of ours (a transaction if
    `begin`)."""
    if conn is not None:
        yield conn
        return
    with store.engine.begin() if begin else store.engine.connect() as own:
        yield own
