"""Use case: queue the morning summary for the team's WeCom group (the scheduler, 08:30).

Yesterday in the brand's timezone: orders in per channel, waybills made, orders waiting for
a person by queue, runs stopped on an error. Written to the outbox as a markdown message of
kind ``summary`` (the sender sends it after any alert), once per day: a second call the same
day queues nothing. The fuller daily figures (processing time, wrong-shipment rate) are
issue 9 item 7's and can replace `summary_text` when they land.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from engine.store import Store
from engine.store import stock as stock_store
from engine.store.models import OrderRow, OutboxMessage, QueueItem, RunRow, Waybill, utcnow
from service.access import Actor, require

KIND = "summary"


def queue_morning_summary(
    store: Store, actor: Actor, *, timezone: str = "Asia/Shanghai", now: datetime | None = None
) -> bool:
    """Queue today's summary unless it is queued already; True when it was queued now."""
    require(actor, "outbox.send")
    tz = ZoneInfo(timezone)
    local = (now or datetime.now(UTC)).astimezone(tz)
    today = local.date()
    text = summary_text(store, today - timedelta(days=1), tz)
    marker = f"summary:{today.isoformat()}"
    with store.engine.begin() as conn:
        queued = conn.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == KIND, OutboxMessage.created_at >= _utc(today, tz))
        ).scalar_one()
        if queued:
            return False
        stock_store.add_outbox(
            conn, "wecom", {"kind": KIND, "text": text, "markdown": True, "day": marker}
        )
    return True


def summary_text(store: Store, day: date, tz: ZoneInfo) -> str:
    """The summary of `day` as WeCom markdown."""
    start, end = _utc(day, tz), _utc(day + timedelta(days=1), tz)
    with store.engine.connect() as conn:
        orders = conn.execute(
            select(OrderRow.channel, func.count())
            .where(OrderRow.pulled_at >= start, OrderRow.pulled_at < end)
            .group_by(OrderRow.channel)
        ).all()
        waybills = conn.execute(
            select(func.count())
            .select_from(Waybill)
            .where(Waybill.created_at >= start, Waybill.created_at < end)
        ).scalar_one()
        queues = conn.execute(
            select(QueueItem.queue, func.count())
            .where(QueueItem.status == "open")
            .group_by(QueueItem.queue)
        ).all()
        stopped = conn.execute(
            select(func.count()).select_from(RunRow).where(RunRow.status.in_(("failed", "retry")))
        ).scalar_one()
    lines = [f"### orderhub {day.isoformat()}"]
    channels = " · ".join(f"{c} {n}" for c, n in sorted(orders)) or "none"
    lines.append(f"- orders in: **{sum(n for _, n in orders)}** ({channels})")
    lines.append(f"- waybills made: **{waybills}**")
    waiting = " · ".join(f"{q} {n}" for q, n in sorted(queues)) or "none"
    lines.append(f"- waiting for a person: {waiting}")
    lines.append(f"- runs stopped on an error: {stopped}")
    lines.append(f"> sent {utcnow():%H:%M} UTC")
    return "\n".join(lines)


def _utc(day: date, tz: ZoneInfo) -> datetime:
    """Midnight of `day` in `tz`, as the naive UTC the store keeps."""
    return datetime.combine(day, time(), tz).astimezone(UTC).replace(tzinfo=None)
