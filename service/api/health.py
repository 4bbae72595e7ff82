"""Probes and metrics: `/healthz` (the process answers), `/readyz` (and its database does),
`/metrics` (Prometheus text, from the database at scrape time; needs a token)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service import figures, operations
from service.api.auth import PUBLIC, ActorDep, StoreDep, needs
from service.api.metrics import registry_for

router = APIRouter(tags=["health"])


@router.get("/healthz", openapi_extra=PUBLIC)
def healthz() -> dict[str, str]:
    """The process answers (no token needed)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    openapi_extra=PUBLIC,
    responses={503: {"description": "the database does not answer"}},
)
def readyz(store: StoreDep) -> dict[str, str]:
    """The database answers too (no token needed)."""
    return {"status": "ok", **operations.check_ready(store)}


@router.get(
    "/metrics",
    openapi_extra=needs("metrics.read"),
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics(store: StoreDep, actor: ActorDep) -> Response:
    """Runs and outcomes by workflow and version, node latency, queue depth, outbox backlog."""
    data = generate_latest(registry_for(figures.read_figures(store, actor)))
    return Response(data, media_type=CONTENT_TYPE_LATEST)
