"""The app factory: `create_app(store, systems=…, routers=…)`, and the one place where
orderhub's typed errors become HTTP statuses.

    Unauthenticated 401 · PermissionDenied 403 · NotFound 404 · Conflict 409 ·
    InvalidInput (and a workflow's ValidationError) 422 · ConnectorError 502 · StoreError 503 ·
    Tampered (a saved version edited in the database) 500, with its one line

An error's body is ``{"detail": …}`` (plus ``field`` or ``problems`` when known), with any
phone in it masked; an unexpected error is a 500 saying only that, its masked trace in the
log file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from engine.errors import (
    ConflictError,
    ConnectorError,
    InvalidInput,
    NotFound,
    OrderhubError,
    PermissionDenied,
    SettingsError,
    StoreError,
    Tampered,
    Unauthenticated,
    ValidationError,
    WorkflowError,
)
from engine.store import Store
from service.api import health, operations, orders, people, queues, reports, runs, workflows
from service.masking import mask_phones

STATUS: list[tuple[type[OrderhubError], int]] = [
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (ConflictError, 409),
    (InvalidInput, 422),
    (WorkflowError, 422),
    (ConnectorError, 502),
    (StoreError, 503),
    (SettingsError, 500),
    (Tampered, 500),
]
AREAS = (workflows, runs, orders, queues, operations, reports, people, health)
log = logging.getLogger("orderhub.api")


def create_app(
    store: Store,
    *,
    systems: dict[str, dict[str, Any]] | None = None,
    routers: Iterable[APIRouter] = (),
) -> FastAPI:
    """The API over `store`; `systems` are the settings' external systems (for /systems),
    `routers` extra routers to include (push intake's, say)."""
    app = FastAPI(
        title="orderhub",
        summary="Every channel's orders through one versioned workflow.",
        version="0.1.0",
    )
    app.state.store = store
    app.state.systems = systems or {}
    for area in AREAS:
        app.include_router(area.router)
    for router in routers:
        app.include_router(router)
    app.add_exception_handler(OrderhubError, _orderhub_error)
    app.add_exception_handler(Exception, _unexpected)
    return app


def status_of(exc: OrderhubError) -> int:
    """The HTTP status an orderhub error maps to."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


async def _orderhub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OrderhubError)
    status = status_of(exc)
    body: dict[str, Any] = {"detail": mask_phones(str(exc).splitlines()[0] if str(exc) else "")}
    if isinstance(exc, InvalidInput) and exc.field:
        body["field"] = exc.field
    if isinstance(exc, ValidationError):
        body["problems"] = [mask_phones(str(p)) for p in exc.problems]
    if status == 500:
        log.error("%s %s: %s", request.method, request.url.path, mask_phones(str(exc)))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "%s %s failed unexpectedly",
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return JSONResponse({"detail": "internal error; the server's log has the details"}, 500)
