"""The dashboard: orders per day, channel and status, and queue depths, as charts with the
numbers behind them."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from engine.store import Store
from service import editing, review
from service.access import Actor, allowed
from ui import session
from ui.session import tr


def show(store: Store, actor: Actor) -> None:
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
