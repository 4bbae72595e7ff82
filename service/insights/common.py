"""What the insight use cases share: the period they look at and the facts being current."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func

from engine.store import Store
from service.insights.facts import LOCAL_OFFSET, RefreshSummary, refresh


def today_local(now: datetime | None = None) -> date:
    """The brand's today (China Standard Time) at `now` (default: the clock)."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (now.astimezone(UTC).replace(tzinfo=None) + LOCAL_OFFSET).date()


def last_complete_day(today: date | None) -> date:
    """The last whole day before `today` (default: the brand's today)."""
    return (today or today_local()) - timedelta(days=1)


def current(store: Store, key: bytes) -> RefreshSummary:
    """Bring the order facts up to date before reading them."""
    return refresh(store, key)


def count_if(condition) -> object:  # type: ignore[no-untyped-def]
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a count both backends sum alike."""
    return func.sum(case((condition, 1), else_=0))
