"""Use case: run a workflow — pull every channel, run each new or changed order, report.

`run_workflow(store, actor, ref, …)` is what `orderhub run` calls, and what the scheduler and
the API will call: the actor needs `runs.start` (admin, ops_manager, or the scheduler), and
each call leaves one audit record (``run.start``) of who ran which version — the scheduler's
runs as the scheduler's.

One runner per workflow at a time, whatever process or machine it is in: `run_workflow`
holds the lease ``run:<workflow id>`` (see `engine.store.leases`) while it pulls and runs.
A second caller waits for it — telling `Watch.waiting` once who holds it and since when —
and goes on when it is free; after `wait_s` it gives up with `LeaseHeld`. Orders are upserted
race-safely too, so two workflows pulling the same channels never trip over each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import LeaseHeld
from engine.store import Store, leases
from engine.store.waits import waiting_counts, waiting_runs
from engine.workflow import Workflow
from service.access import Actor, require
from service.after_sales_report import build_after_sales_report, is_after_sales
from service.intake import IntakeSummary, check_systems, run_intake
from service.report import build_report, unexpected_outcomes
from service.targets import resolve
from versions import audit

#: how long a second runner of a workflow waits for the first by default
DEFAULT_WAIT_S = 600.0


@dataclass
class Watch:
    """What a door hears of a run as it goes; every callback is optional."""

    waiting: Callable[[str], None] | None = None  # once, if another runner holds it: who
    page: Callable[[str, int], None] | None = None  # (channel, orders) per page stored
    runs: Callable[[int, int], None] | None = None  # (runs done, runs to do)


@dataclass
class RunOutcome:
    """What a run did: the version it ran, the numbers, and the report read from the store."""

    workflow_id: str
    version: str  # "order_intake v3", or "order_intake (draft from FILE, …)"
    draft: bool
    started_by: str  # USER:ROLE, e.g. "scheduler:scheduler"
    summary: IntakeSummary
    report: dict[str, Any]
    troubled: dict[str, str] = field(default_factory=dict)  # ref -> why it ended badly
    #: what the workflow's waiting runs wait for ("queue review", "stock SKU@east", "system
    #: sf") -> how many
    waiting: dict[str, int] = field(default_factory=dict)
    waiting_orders: int = 0  # runs of the workflow that wait (one may wait for two things)


def lease_name(workflow_id: str) -> str:
    """The lease one runner of the workflow holds while it pulls and runs."""
    return f"run:{workflow_id}"


async def run_workflow(
    store: Store,
    actor: Actor,
    ref: str,
    *,
    systems: dict[str, dict[str, Any]],
    workflow: Workflow | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    refs: set[str] | None = None,
    concurrency: int = 32,
    tries: int = 3,
    wait_s: float = DEFAULT_WAIT_S,
    watch: Watch | None = None,
) -> RunOutcome:
    """Pull new and changed orders from `systems` and finish every unfinished run of `ref`.

    `ref` is a workflow file (`workflow`, when the door has loaded it already), ``ID`` (its
    active version) or ``ID@vN``. `refs` limits the report to those orders. Raises
    `PermissionDenied`, `NotFound` (no such workflow or version), `SettingsError` and
    `LeaseHeld` (another runner kept the workflow past `wait_s`).
    """
    require(actor, "runs.start")
    watch = watch or Watch()
    check_systems(systems)
    target = resolve(store, ref, workflow)
    wf = target.workflow
    holder = leases.holder_name(str(actor))
    told = watch.waiting

    def on_wait(held: LeaseHeld) -> None:
        if told is not None:
            told(f"{_busy(wf.id, held)}; this run goes on when it ends")

    try:
        lease = await leases.wait_for(
            store, lease_name(wf.id), holder, wait_s=wait_s, on_wait=on_wait
        )
    except LeaseHeld as held:
        raise LeaseHeld(
            f"{_busy(wf.id, held)}; gave up after waiting {wait_s:.0f} s: try again when it "
            "has ended (a runner that died lets go within a minute)",
            holder=held.holder,
            since=held.since,
        ) from None
    with leases.kept(store, lease):
        with store.session() as session, session.begin():
            detail = {
                "version": target.label,
                "content_hash": wf.content_hash,
                "draft": target.draft,
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
            }
            audit.record(session, actor, "run.start", f"workflow:{wf.id}", detail)
        summary = await run_intake(
            wf,
            store,
            systems,
            since=since,
            until=until,
            concurrency=concurrency,
            draft=target.draft,
            max_attempts=tries,
            progress=(lambda _phase, done, total: watch.runs(done, total)) if watch.runs else None,
            on_page=(lambda cursor, n: watch.page(cursor.rsplit("/", 1)[-1], n))
            if watch.page
            else None,
        )
    report = build_after_sales_report(store) if is_after_sales(wf) else build_report(store, refs)
    report["workflow"] = {"id": wf.id, "version": target.label, "draft": target.draft}
    report["not_pulled"] = summary.not_pulled
    with store.engine.connect() as conn:
        counts = waiting_counts(conn, wf.id)
        waiting_orders = waiting_runs(conn, wf.id)
    waiting: dict[str, int] = {}
    for (kind, key), n in counts.items():
        thing = f"{kind} {_kind_of(kind, key)}".strip()
        waiting[thing] = waiting.get(thing, 0) + n
    return RunOutcome(
        wf.id,
        target.label,
        target.draft,
        str(actor),
        summary,
        report,
        unexpected_outcomes(store),
        waiting,
        waiting_orders,
    )


def _kind_of(kind: str, key: str) -> str:
    """What the summary counts a wait under: an event's or a wait limit's kind (``event
    return``, ``time limit``: one per request, so counted together), else its key."""
    if kind in ("event", "time") and ":" in key:
        return key.split(":", 1)[0]
    return key


def _busy(workflow_id: str, held: LeaseHeld) -> str:
    since = leases.when(held.since) if held.since is not None else "a moment ago"
    return f"{workflow_id} is being run by {held.holder} since {since}"
