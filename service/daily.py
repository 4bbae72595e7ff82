"""The daily figures brands judge their hub by, per channel and per day (issue 9, item 7):

- processing time: paid → tracking number uploaded to the channel, median and p90 (seconds),
- wrong or missed shipments: orders that needed a second waybill, were cancelled after a
  waybill was made, or were paid and never shipped (no uploaded tracking number yet),
- the share of orders that needed a person (an entry in any queue),
- queue depth: those orders still waiting in a queue.

A day is a calendar day in `tz` (Asia/Shanghai by default: the brands' day), by payment time.
The API serves them (`/reports/daily`); the morning summary message can use the same call.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select

from engine.errors import InvalidInput
from engine.store import Store
from engine.store.models import OrderRow, QueueItem, Waybill
from service.access import Actor, require

DEFAULT_TZ = "Asia/Shanghai"
MAX_DAYS = 92


@dataclass(frozen=True)
class DayFigures:
    """One channel's figures for one day."""

    day: date
    channel: str
    paid: int
    shipped: int
    processing_median_s: float | None
    processing_p90_s: float | None
    second_waybill: int
    cancelled_after_waybill: int
    not_shipped: int
    wrong_or_missed_rate: float
    needed_person: int
    needed_person_share: float
    queue_depth: int


def daily_figures(
    store: Store, actor: Actor, since: date, until: date, *, tz: str = DEFAULT_TZ
) -> list[DayFigures]:
    """Figures for each channel and day from `since` to `until` (both included)."""
    require(actor, "reports.read")
    zone = _zone(tz)
    if until < since:
        raise InvalidInput("the last day comes before the first", field="until")
    if (until - since).days + 1 > MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days at once", field="until")
    start = datetime.combine(since, time(), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(until + timedelta(days=1), time(), zone)
    end = end.astimezone(UTC).replace(tzinfo=None)
    waybills = (
        select(
            Waybill.order_pk,
            func.count().label("made"),
            func.min(Waybill.created_at).label("first_made"),
            func.min(Waybill.uploaded_at).label("uploaded"),
        )
        .group_by(Waybill.order_pk)
        .subquery()
    )
    queued = (
        select(
            QueueItem.order_pk,
            func.count().label("entries"),
            func.sum(case((QueueItem.status == "open", 1), else_=0)).label("open"),
        )
        .group_by(QueueItem.order_pk)
        .subquery()
    )
    query = (
        select(
            OrderRow.channel,
            OrderRow.paid_at,
            OrderRow.platform_status,
            waybills.c.made,
            waybills.c.uploaded,
            queued.c.entries,
            queued.c.open,
        )
        .outerjoin(waybills, waybills.c.order_pk == OrderRow.id)
        .outerjoin(queued, queued.c.order_pk == OrderRow.id)
        .where(OrderRow.paid_at >= start, OrderRow.paid_at < end)
    )
    groups: dict[tuple[date, str], list] = defaultdict(list)
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            local = row.paid_at.replace(tzinfo=UTC).astimezone(zone).date()
            groups[(local, row.channel)].append(row)
    return [_figures(day, channel, rows) for (day, channel), rows in sorted(groups.items())]


def _figures(day: date, channel: str, rows: list) -> DayFigures:
    waits = [(r.uploaded - r.paid_at).total_seconds() for r in rows if r.uploaded is not None]
    second = sum(1 for r in rows if (r.made or 0) > 1)
    cancelled = sum(1 for r in rows if r.made and r.platform_status == "cancelled")
    missed = sum(1 for r in rows if r.uploaded is None and r.platform_status != "cancelled")
    wrong = sum(
        1
        for r in rows
        if (r.made or 0) > 1
        or (r.made and r.platform_status == "cancelled")
        or (r.uploaded is None and r.platform_status != "cancelled")
    )
    person = sum(1 for r in rows if r.entries)
    return DayFigures(
        day=day,
        channel=channel,
        paid=len(rows),
        shipped=len(waits),
        processing_median_s=statistics.median(waits) if waits else None,
        processing_p90_s=_p90(waits),
        second_waybill=second,
        cancelled_after_waybill=cancelled,
        not_shipped=missed,
        wrong_or_missed_rate=wrong / len(rows),
        needed_person=person,
        needed_person_share=person / len(rows),
        queue_depth=sum(1 for r in rows if r.open),
    )


def _p90(values: list[float]) -> float | None:
    """The 90th percentile by nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r} (e.g. Asia/Shanghai)", field="tz") from None
