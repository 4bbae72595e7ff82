"""The dashboard: the daily figures (processing time, wrong or missed shipments, the share
that needed a person, per channel and day), queue depths, and orders per day, channel and
status, as charts with the numbers behind them."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import streamlit as st

from engine.store import Store
from service import daily, editing, review
from service.access import Actor, allowed
from ui import session
from ui.session import tr


def show(store: Store, actor: Actor) -> None:
    if allowed(actor, "reports.read"):
        _daily(store, actor)
    figures = session.call(editing.order_figures, store, actor) or []
    if allowed(actor, "queue.list"):
        items = session.call(review.list_items, store, actor) or []
        depths = Counter(item.queue for item in items)
        st.subheader(tr("d.queues"))
        rows = [{"queue": q, "orders": n} for q, n in sorted(depths.items())]
        if rows:
            st.bar_chart(rows, x="queue", y="orders")
        st.dataframe(rows, hide_index=True)
    if not figures:
        st.info(tr("nothing"))
        return
    st.subheader(tr("d.status"))
    by_status: Counter[tuple[str, str]] = Counter()
    by_channel: Counter[tuple[str, str]] = Counter()
    for day, channel, status, n in figures:
        by_status[(day, status)] += n
        by_channel[(day, channel)] += n
    status_rows = [{"day": d, "status": s, "orders": n} for (d, s), n in sorted(by_status.items())]
    st.bar_chart(status_rows, x="day", y="orders", color="status")
    st.dataframe(status_rows, hide_index=True)
    st.subheader(tr("d.channels"))
    channel_rows = [
        {"day": d, "channel": c, "orders": n} for (d, c), n in sorted(by_channel.items())
    ]
    st.bar_chart(channel_rows, x="day", y="orders", color="channel")
    st.dataframe(channel_rows, hide_index=True)


def _daily(store: Store, actor: Actor) -> None:
    """The service's daily figures per channel and day: processing time, wrong or missed
    shipments, the share that needed a person."""
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    rows = session.call(daily.daily_figures, store, actor, today - timedelta(days=6), today)
    if not rows:
        return
    st.subheader(tr("d.daily"))
    table = [{**asdict(r), "day": r.day.isoformat()} for r in rows]
    st.line_chart(table, x="day", y="needed_person_share", color="channel")
    st.dataframe(table, hide_index=True, width="stretch")
