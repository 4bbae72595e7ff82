"""Runs that stopped on an error: list them, and send them back for another try (audited).

A run that fails on a passing fault (timeout, 5xx, rate limit, breaker open) waits in status
`retry` and the next `orderhub run` of its workflow version tries it again from the node
where it stopped, up to the runner's `max_attempts`. A run that failed for good (a refusal,
a bug, or out of tries) stays `failed` until a person sends it back with `retry`; it then
gets one more try. Effects are keyed by order and node, so a try never repeats a waybill.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select, update

from engine.errors import Conflict, InvalidInput, NotFound
from engine.store import Store
from engine.store.models import OrderRow, RunRow
from service.access import Actor, require
from versions import audit

STOPPED = ("failed", "retry")


@dataclass(frozen=True)
class StoppedRun:
    run_id: int
    ref: str
    workflow_id: str
    version: str
    status: str  # failed or retry
    node: str | None  # where it stopped, and where another try starts
    attempt: int
    error: str
    finished_at: datetime | None

    def as_json(self) -> dict:
        data = asdict(self)
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data


def list_stopped(
    store: Store,
    actor: Actor,
    status: str | None = None,
    workflow_id: str | None = None,
    limit: int = 200,
) -> list[StoppedRun]:
    """Runs that stopped on an error (`failed`, `retry` or either), newest first."""
    require(actor, "runs.list")
    statuses = STOPPED if status is None else (status,)
    if not set(statuses) <= set(STOPPED):
        raise InvalidInput(f"status must be one of {', '.join(STOPPED)}", field="status")
    query = (
        select(RunRow, OrderRow.channel, OrderRow.order_id)
        .join(OrderRow, OrderRow.id == RunRow.order_pk)
        .where(RunRow.status.in_(statuses))
        .order_by(RunRow.finished_at.desc(), RunRow.id.desc())
        .limit(limit)
    )
    if workflow_id is not None:
        query = query.where(RunRow.workflow_id == workflow_id)
    with store.session() as session:
        return [_stopped(run, f"{ch}:{oid}") for run, ch, oid in session.execute(query)]


def retry(store: Store, actor: Actor, run_ids: list[int], reason: str) -> list[StoppedRun]:
    """Send failed runs back for one more try by the next run of their version (audited).

    All or nothing: a run id that does not exist or did not stop on an error is refused.
    """
    require(actor, "runs.retry")
    run_ids = list(dict.fromkeys(run_ids))
    if not reason.strip():
        raise InvalidInput("a retry needs a reason; it goes in the audit log", field="reason")
    if not run_ids:
        raise InvalidInput(
            "name at least one run id (the list of stopped runs shows them)", field="run_ids"
        )
    with store.session() as session, session.begin():
        rows = session.execute(
            select(RunRow, OrderRow.channel, OrderRow.order_id)
            .join(OrderRow, OrderRow.id == RunRow.order_pk)
            .where(RunRow.id.in_(run_ids))
            .with_for_update()
        ).all()
        found = {run.id: _stopped(run, f"{ch}:{oid}") for run, ch, oid in rows}
        missing = [str(i) for i in run_ids if i not in found]
        if missing:
            raise NotFound(f"no run {', '.join(missing)}; nothing was sent back")
        running = [str(i) for i, run in found.items() if run.status not in STOPPED]
        if running:
            raise Conflict(
                f"run {', '.join(running)} did not stop on an error; nothing was sent back"
            )
        session.execute(update(RunRow).where(RunRow.id.in_(list(found))).values(status="retry"))
        for run in found.values():
            detail = {"ref": run.ref, "node": run.node, "attempt": run.attempt}
            audit.record(session, actor, "run.retry", f"run:{run.run_id}", detail, reason)
    return [found[i] for i in run_ids]


def _stopped(run: RunRow, ref: str) -> StoppedRun:
    return StoppedRun(
        run.id,
        ref,
        run.workflow_id,
        run.version,
        run.status,
        run.position,
        run.attempt,
        (run.error or "").splitlines()[0] if run.error else "",
        run.finished_at,
    )
