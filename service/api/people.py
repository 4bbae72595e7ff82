"""Users and roles, API tokens, and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from service import people, roles, tokens
from service.api.auth import ActorDep, StoreDep, needs
from service.api.common import Limit, Offset, TokenId
from service.paging import DEFAULT_LIMIT, Page
from service.people import AuditCheck, AuditRecord, Grant
from service.tokens import TokenInfo

router = APIRouter(tags=["people"])
Reason = Annotated[str, Query(description="why (recorded in the audit log)")]


class GrantBody(BaseModel):
    role: str = Field(description="admin, ops_manager, reviewer, warehouse, finance or auditor")
    reason: str = Field(description="why (recorded in the audit log)")


class TokenBody(BaseModel):
    user: str = Field(description="the user the token acts as")
    role: str = Field(description="the role it acts in (the user must hold it)")
    days: int = Field(tokens.DEFAULT_DAYS, ge=1, le=tokens.MAX_DAYS, description="valid for")
    reason: str = Field("", description="why (recorded in the audit log)")


class NewTokenOut(BaseModel):
    token: str = Field(description="the secret: shown only now, store it")
    info: TokenInfo


class Changed(BaseModel):
    changed: bool


@router.get("/users", tags=["people"], openapi_extra=needs("roles.list"))
def list_users(
    store: StoreDep, actor: ActorDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[Grant]:
    """Who holds which role."""
    return people.list_grants(store, actor, limit=limit, offset=offset)


@router.post("/users/{user}/roles", openapi_extra=needs("roles.grant"))
def grant(user: str, body: GrantBody, store: StoreDep, actor: ActorDep) -> Changed:
    """Give a user a role (false when they held it already)."""
    return Changed(changed=roles.grant(store, actor, user, body.role, body.reason))


@router.delete("/users/{user}/roles/{role}", openapi_extra=needs("roles.revoke"))
def revoke(user: str, role: str, reason: Reason, store: StoreDep, actor: ActorDep) -> Changed:
    """Take a role from a user (false when they did not hold it)."""
    return Changed(changed=roles.revoke(store, actor, user, role, reason))


@router.get("/tokens", openapi_extra=needs("tokens.list"))
def list_tokens(
    store: StoreDep, actor: ActorDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[TokenInfo]:
    """Every API token (never its secret)."""
    return people.list_token_page(store, actor, limit=limit, offset=offset)


@router.post("/tokens", status_code=status.HTTP_201_CREATED, openapi_extra=needs("tokens.create"))
def create_token(body: TokenBody, store: StoreDep, actor: ActorDep) -> NewTokenOut:
    """Make a token for a user in a role; its secret is in this answer only."""
    made = tokens.create_token(
        store, actor, body.user, body.role, days=body.days, reason=body.reason
    )
    return NewTokenOut(token=made.secret, info=made.info)


@router.delete("/tokens/{token_id}", openapi_extra=needs("tokens.revoke"))
def revoke_token(
    token_id: TokenId, store: StoreDep, actor: ActorDep, reason: str = ""
) -> TokenInfo:
    """Revoke a token at once."""
    return tokens.revoke_token(store, actor, token_id, reason=reason)


@router.get("/audit", tags=["audit"], openapi_extra=needs("audit.list"))
def list_audit(
    store: StoreDep,
    actor: ActorDep,
    subject: str | None = None,
    action: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[AuditRecord]:
    """Audit records, newest first."""
    return people.audit_page(
        store, actor, subject=subject, action=action, limit=limit, offset=offset
    )


@router.get("/audit/verify", tags=["audit"], openapi_extra=needs("audit.verify"))
def verify_audit(store: StoreDep, actor: ActorDep) -> AuditCheck:
    """Recompute the audit log's hash chain: every edited, deleted or reordered record."""
    return people.check_audit(store, actor)
