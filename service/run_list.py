"""Runs and their steps, as the API lists them: filter by order, workflow, version, status
and time; one run with its steps. Phones are masked for roles without `orders.contact`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.errors import InvalidInput, NotFound
from engine.store import Store
from engine.store.models import OrderRow, RunRow, utc
from service.access import Actor, allowed, require
from service.masking import ContactMask
from service.orders import _RUN_COLUMNS, Run, _aware, _parse_ref, _run, _steps_of, _version_numbers
from service.paging import Page, check_bounds, count_of
from versions import store as vstore


@dataclass(frozen=True)
class RunSummary:
    """One run without its steps; `error` is its first line."""

    id: int
    ref: str
    workflow_id: str
    version: str  # the workflow content hash
    status: str
    outcome: str | None
    error: str | None
    attempt: int
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class RunDetail:
    """One run of one order, with every step."""

    ref: str
    run: Run
    label: str


def list_runs(
    store: Store,
    actor: Actor,
    *,
    order: str | None = None,
    workflow: str | None = None,
    version: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[RunSummary]:
    """Runs newest first. `version` is a saved version's number (with `workflow`) or a
    content hash; `since`/`until` bound when the run was created."""
    require(actor, "runs.list")
    check_bounds(limit, offset)
    query = select(
        RunRow.id,
        OrderRow.channel,
        OrderRow.order_id,
        RunRow.workflow_id,
        RunRow.version,
        RunRow.status,
        RunRow.outcome,
        RunRow.error,
        RunRow.attempt,
        RunRow.created_at,
        RunRow.finished_at,
    ).join(OrderRow, OrderRow.id == RunRow.order_pk)
    if order is not None:
        channel, order_id = _parse_ref(order)
        query = query.where(OrderRow.channel == channel, OrderRow.order_id == order_id)
    if workflow is not None:
        query = query.where(RunRow.workflow_id == workflow)
    if version is not None:
        query = query.where(RunRow.version == _content_hash(store, workflow, version))
    if status is not None:
        query = query.where(RunRow.status == status)
    if since is not None:
        query = query.where(RunRow.created_at >= utc(since))
    if until is not None:
        query = query.where(RunRow.created_at < utc(until))
    mask = ContactMask(allowed(actor, "orders.contact"))
    with store.engine.connect() as conn:
        total = count_of(conn, query)
        rows = conn.execute(query.order_by(RunRow.id.desc()).limit(limit).offset(offset)).all()
    items = [
        RunSummary(
            r.id,
            f"{r.channel}:{r.order_id}",
            r.workflow_id,
            r.version,
            r.status,
            r.outcome,
            mask(r.error.splitlines()[0]) if r.error else None,
            r.attempt,
            _aware(r.created_at),
            _aware(r.finished_at),
        )
        for r in rows
    ]
    return Page(items, total, limit, offset)


def get_run(store: Store, actor: Actor, run_id: int) -> RunDetail:
    """One run with its steps."""
    require(actor, "runs.list")
    with store.engine.connect() as conn:
        run = conn.execute(select(*_RUN_COLUMNS).where(RunRow.id == run_id)).first()
        if run is None:
            raise NotFound(f"no run {run_id}; the list of runs shows them")
        order = conn.execute(
            select(OrderRow.channel, OrderRow.order_id, OrderRow.canonical).where(
                OrderRow.id == run.order_pk
            )
        ).one()
        phone = str((order.canonical.get("receiver") or {}).get("phone") or "")
        mask = ContactMask(allowed(actor, "orders.contact"), phone)
        steps = _steps_of(conn, [run.id], mask)[run.id]
    numbers, active = _version_numbers(store, [run])
    shown = _run(run, numbers[run.id], steps, mask, active.get(run.workflow_id))
    return RunDetail(f"{order.channel}:{order.order_id}", shown, shown.label)


def _content_hash(store: Store, workflow: str | None, version: str) -> str:
    text = version.strip().removeprefix("v")
    if not text.isdigit():
        return version.strip()
    if workflow is None:
        raise InvalidInput("a version number needs the workflow it belongs to", field="workflow")
    return vstore.get_version(store, workflow, int(text)).content_hash
