"""How the hub itself stands: alerts raised, the external systems configured, readiness.

Systems come from the settings the door read at start-up (secrets never leave: only whether
each credential is set), each with its breaker as the database holds it (`service.systems`:
state, why and since when, the next probe, the orders waiting for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from engine.errors import StoreError
from engine.settings import SECRET_KEYS
from engine.store import Store
from engine.store.models import Alert
from service.access import Actor, require
from service.masking import mask_phones
from service.orders import _aware
from service.paging import Page, check_bounds, count_of, page_of
from service.systems import SystemView
from service.systems import list_systems as breaker_views


@dataclass(frozen=True)
class AlertInfo:
    id: int
    kind: str
    subject: str
    message: str
    run_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class SystemInfo:
    """An external system as configured: where, limits, breaker settings; no secret."""

    name: str
    base_url: str | None
    credentials_set: list[str]
    credentials_missing: list[str]
    timeout_s: float | None
    breaker_threshold: int | None
    breaker_cooldown_s: float | None
    breaker_state: str  # closed, open, half_open (as every process sees it)
    breaker_reason: str
    breaker_since: datetime | None
    breaker_retry_at: datetime | None
    breaker_by_hand: bool
    waiting: int  # orders waiting for it now


def list_alerts(
    store: Store, actor: Actor, *, kind: str | None = None, limit: int = 50, offset: int = 0
) -> Page[AlertInfo]:
    """Alerts, newest first (a purchase alert per SKU@warehouse, hot SKUs, …)."""
    require(actor, "alerts.list")
    check_bounds(limit, offset)
    query = select(Alert)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    with store.session() as session:
        total = count_of(session.connection(), query)
        rows = session.scalars(query.order_by(Alert.id.desc()).limit(limit).offset(offset))
        items = [
            AlertInfo(
                a.id, a.kind, a.subject, mask_phones(a.message), a.run_id, _aware(a.created_at)
            )
            for a in rows
        ]
    return Page(items, total, limit, offset)


def list_systems(
    store: Store,
    actor: Actor,
    systems: dict[str, dict[str, Any]],
    *,
    limit: int = 50,
    offset: int = 0,
) -> Page[SystemInfo]:
    """The external systems the settings name, by name, each with its breaker."""
    require(actor, "systems.list")
    names = sorted(systems)
    breakers = {v.system: v for v in breaker_views(store, actor, names)}
    listed = [_system(name, systems[name], breakers[name]) for name in names]
    return page_of(listed, limit, offset)


def check_ready(store: Store) -> dict[str, str]:
    """Whether the database answers; `StoreError` when it does not (no actor: a probe)."""
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        raise StoreError(f"the database does not answer ({type(exc).__name__})") from None
    return {"database": "ok"}


def _system(name: str, values: dict[str, Any], breaker: SystemView) -> SystemInfo:
    secrets = sorted(k for k in values if k in SECRET_KEYS)
    return SystemInfo(
        name=name,
        base_url=values.get("base_url"),
        credentials_set=[k for k in secrets if values.get(k)],
        credentials_missing=[k for k in secrets if not values.get(k)],
        timeout_s=values.get("timeout_s"),
        breaker_threshold=values.get("breaker_threshold"),
        breaker_cooldown_s=values.get("breaker_cooldown_s"),
        breaker_state=breaker.state,
        breaker_reason=breaker.reason,
        breaker_since=breaker.since,
        breaker_retry_at=breaker.retry_at,
        breaker_by_hand=breaker.by_hand,
        waiting=breaker.waiting,
    )
