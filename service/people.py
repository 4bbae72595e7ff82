"""Users, roles, tokens and the audit log, a page at a time, as the API serves them.

Grants and revocations are `service.roles`'; tokens are `service.tokens`'. The audit log's
reasons and details are free text a person wrote: a phone in them is masked for roles
without `orders.contact`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.store import Store
from service import roles, tokens, versioning
from service.access import Actor, allowed, require
from service.masking import ContactMask
from service.orders import _aware
from service.paging import Page, check_bounds, count_of, page_of
from versions.audit import _entry
from versions.models import AuditRow


@dataclass(frozen=True)
class Grant:
    user: str
    role: str
    granted_by: str


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    subject: str
    detail: dict[str, Any]
    reason: str | None
    hash: str


@dataclass(frozen=True)
class AuditCheck:
    """The chain's problems (none when intact) and its head, to keep a copy of elsewhere."""

    intact: bool
    problems: list[str]
    head_id: int | None
    head_hash: str | None


def list_grants(store: Store, actor: Actor, *, limit: int = 50, offset: int = 0) -> Page[Grant]:
    """Every grant, by user and role."""
    return page_of([Grant(*row) for row in roles.list_roles(store, actor)], limit, offset)


def list_token_page(
    store: Store, actor: Actor, *, limit: int = 50, offset: int = 0
) -> Page[tokens.TokenInfo]:
    return page_of(tokens.list_tokens(store, actor), limit, offset)


def audit_page(
    store: Store,
    actor: Actor,
    *,
    subject: str | None = None,
    action: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[AuditRecord]:
    """Audit records, newest first, optionally of one subject or action."""
    require(actor, "audit.list")
    check_bounds(limit, offset)
    query = select(AuditRow)
    if subject is not None:
        query = query.where(AuditRow.subject == subject)
    if action is not None:
        query = query.where(AuditRow.action == action)
    mask = ContactMask(allowed(actor, "orders.contact"))
    with store.session() as session:
        total = count_of(session.connection(), query)
        rows = session.scalars(query.order_by(AuditRow.id.desc()).limit(limit).offset(offset))
        entries = [_entry(row) for row in rows]
    items = [
        AuditRecord(
            e.id,
            _aware(e.at),
            e.actor,
            e.role,
            e.action,
            e.subject,
            mask(e.detail),
            mask(e.reason),
            e.hash,
        )
        for e in entries
    ]
    return Page(items, total, limit, offset)


def check_audit(store: Store, actor: Actor) -> AuditCheck:
    problems, head = versioning.verify_audit(store, actor)
    return AuditCheck(not problems, problems, *(head or (None, None)))
