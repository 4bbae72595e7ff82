"""How the hub stands: alerts and the external systems it talks to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from service import operations, systems
from service.api.auth import ActorDep, StoreDep, needs
from service.api.common import Limit, Offset
from service.operations import AlertInfo, SystemInfo
from service.paging import DEFAULT_LIMIT, Page

router = APIRouter(tags=["operations"])


@router.get("/alerts", openapi_extra=needs("alerts.list"))
def list_alerts(
    store: StoreDep,
    actor: ActorDep,
    kind: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[AlertInfo]:
    """Alerts raised, newest first (purchase alerts, hot SKUs, …)."""
    return operations.list_alerts(store, actor, kind=kind, limit=limit, offset=offset)


@router.get("/systems", openapi_extra=needs("systems.list"))
def list_systems(
    request: Request,
    store: StoreDep,
    actor: ActorDep,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[SystemInfo]:
    """The external systems configured: address, limits, breaker settings and state, the
    orders waiting for each (no secrets)."""
    return operations.list_systems(
        store, actor, request.app.state.systems, limit=limit, offset=offset
    )


class BreakerChange(BaseModel):
    reason: str = Field(min_length=1, max_length=500, description="why: it goes in the audit")


@router.post("/systems/{system}/open", openapi_extra=needs("systems.change"))
def open_breaker(
    system: str, body: BreakerChange, store: StoreDep, actor: ActorDep
) -> dict[str, Any]:
    """Open a system's breaker by hand (calls stop in every process until it is closed)."""
    return systems.set_breaker(store, actor, system, "open", body.reason).as_json()


@router.post("/systems/{system}/close", openapi_extra=needs("systems.change"))
def close_breaker(
    system: str, body: BreakerChange, store: StoreDep, actor: ActorDep
) -> dict[str, Any]:
    """Close a system's breaker by hand; the orders waiting for it go on at their next run."""
    return systems.set_breaker(store, actor, system, "close", body.reason).as_json()
