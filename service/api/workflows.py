"""Workflows and their versions: list, show, save, diff, activate, approve, roll back, replay."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from service import versioning, workflows
from service.api.auth import ActorDep, StoreDep, needs
from service.api.common import MAX_NUMBER, Limit, Number, Offset
from service.paging import DEFAULT_LIMIT, Page
from service.workflows import VersionInfo, VersionText, WorkflowInfo

router = APIRouter(prefix="/workflows", tags=["workflows"])


class SaveBody(BaseModel):
    text: str = Field(description="the workflow document (YAML)")
    message: str = Field(description="what changed and why (kept with the version)")
    base: int | None = Field(
        None, ge=1, le=MAX_NUMBER, description="the version this edit started from"
    )
    confirm: bool = Field(False, description="confirm a critical change or a replay's changes")
    replay_days: int | None = Field(
        None, ge=1, le=90, description="replay the last N days' orders against the active version"
    )


class RollbackBody(BaseModel):
    to: int = Field(ge=1, le=MAX_NUMBER, description="the version to restore")
    reason: str = Field(description="why (recorded in the audit log)")


class ReplayBody(BaseModel):
    number: int | None = Field(None, ge=1, le=MAX_NUMBER, description="a saved version to replay")
    text: str | None = Field(None, description="or a document (YAML) to replay")
    against: int | None = Field(
        None, ge=1, le=MAX_NUMBER, description="compare with this version, not the active one"
    )
    days: int = Field(7, ge=1, le=90, description="orders of the last N days")


@router.get("", openapi_extra=needs("versions.list"))
def list_workflows(
    store: StoreDep, actor: ActorDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[WorkflowInfo]:
    """Every stored workflow, with its active and latest version."""
    return workflows.list_workflows(store, actor, limit, offset)


@router.get("/{workflow_id}/versions", openapi_extra=needs("versions.list"))
def list_versions(
    workflow_id: str,
    store: StoreDep,
    actor: ActorDep,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[VersionInfo]:
    """A workflow's versions, oldest first."""
    return workflows.version_page(store, actor, workflow_id, limit, offset)


@router.get("/{workflow_id}/active", openapi_extra=needs("versions.show"))
def show_active(workflow_id: str, store: StoreDep, actor: ActorDep) -> VersionText:
    """The version that runs, with its text."""
    return workflows.version_text(store, actor, workflow_id, None)


@router.get("/{workflow_id}/versions/{number}", openapi_extra=needs("versions.show"))
def show_version(workflow_id: str, number: Number, store: StoreDep, actor: ActorDep) -> VersionText:
    """One version with its text."""
    return workflows.version_text(store, actor, workflow_id, number)


@router.post(
    "/{workflow_id}/versions",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=needs("versions.save"),
)
async def save_version(
    workflow_id: str, body: SaveBody, store: StoreDep, actor: ActorDep
) -> VersionInfo:
    """Save a document as the next version (validated; a critical change needs `confirm`)."""
    return await workflows.save_text(
        store,
        actor,
        workflow_id,
        body.text,
        base=body.base,
        message=body.message,
        confirm=body.confirm,
        replay_days=body.replay_days,
    )


@router.get("/{workflow_id}/diff", openapi_extra=needs("versions.diff"))
def diff_versions(
    workflow_id: str,
    store: StoreDep,
    actor: ActorDep,
    old: Annotated[int, Query(ge=1, le=MAX_NUMBER)],
    new: Annotated[int, Query(ge=1, le=MAX_NUMBER)],
) -> dict[str, Any]:
    """What changed in meaning from version `old` to `new`, and the text diff."""
    return versioning.diff_versions(store, actor, workflow_id, old, new).as_dict()


@router.post("/{workflow_id}/versions/{number}/activate", openapi_extra=needs("versions.activate"))
def activate(workflow_id: str, number: Number, store: StoreDep, actor: ActorDep) -> VersionInfo:
    """Make version `number` the one that runs."""
    return workflows.info(versioning.activate_version(store, actor, workflow_id, number))


@router.post("/{workflow_id}/versions/{number}/approve", openapi_extra=needs("versions.approve"))
def approve(workflow_id: str, number: Number, store: StoreDep, actor: ActorDep) -> VersionInfo:
    """Approve a version that awaits a second person's approval (not its author)."""
    return workflows.info(versioning.approve_version(store, actor, workflow_id, number))


@router.post("/{workflow_id}/rollback", openapi_extra=needs("versions.rollback"))
def rollback(
    workflow_id: str, body: RollbackBody, store: StoreDep, actor: ActorDep
) -> dict[str, Any]:
    """Restore version `to` as a new, active version."""
    done = versioning.rollback_version(store, actor, workflow_id, body.to, reason=body.reason)
    return {
        "version": workflows.info(done.version),
        "restored": done.restored,
        "seconds": round(done.seconds, 3),
    }


@router.post("/{workflow_id}/replay", openapi_extra=needs("versions.replay"))
async def replay(
    workflow_id: str, body: ReplayBody, store: StoreDep, actor: ActorDep
) -> dict[str, Any]:
    """What a version or a document would decide differently, on real orders (touches none)."""
    return await workflows.replay_text(
        store,
        actor,
        workflow_id,
        number=body.number,
        text=body.text,
        against=body.against,
        days=body.days,
    )
