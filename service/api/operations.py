"""How the hub stands: alerts and the external systems it talks to."""

from __future__ import annotations

from fastapi import APIRouter, Request

from service import operations
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
    request: Request, actor: ActorDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[SystemInfo]:
    """The external systems configured: address, limits, breaker settings (no secrets)."""
    return operations.list_systems(actor, request.app.state.systems, limit=limit, offset=offset)
