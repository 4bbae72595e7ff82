"""Runs and their steps."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from service import run_list
from service.api.auth import ActorDep, StoreDep, needs
from service.api.common import Limit, Offset, RunId
from service.paging import DEFAULT_LIMIT, Page
from service.run_list import RunDetail, RunSummary

router = APIRouter(prefix="/runs", tags=["runs"])


@router.get("", openapi_extra=needs("runs.list"))
def list_runs(
    store: StoreDep,
    actor: ActorDep,
    order: str | None = None,
    workflow: str | None = None,
    version: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[RunSummary]:
    """Runs, newest first: of one order (CHANNEL:ORDER_ID), workflow, version (a number, with
    `workflow`, or a content hash), status; created in [since, until)."""
    return run_list.list_runs(
        store,
        actor,
        order=order,
        workflow=workflow,
        version=version,
        status=status,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


@router.get("/{run_id}", openapi_extra=needs("runs.list"))
def show_run(run_id: RunId, store: StoreDep, actor: ActorDep) -> RunDetail:
    """One run with every step."""
    return run_list.get_run(store, actor, run_id)
