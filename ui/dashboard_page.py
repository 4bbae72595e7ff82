"""The dashboard: the daily figures (processing time, wrong or missed shipments, the share
that needed a person, per channel and day), the after-sales figures (cycle time, return
rates, inspection failures), the external systems' breakers with the orders
waiting for each, queue depths, and orders per day, channel and status, as charts with the
numbers behind them.

An ops manager or an admin may open a breaker by hand (before a planned outage) or close it
(the system is back) with a reason: `service.systems.set_breaker` checks the role, audits
it and wakes the orders waiting for a closed system.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import streamlit as st

from engine.store import Store
from service import daily, editing, review, systems
from service.access import Actor, allowed
from service.after_sales_figures import after_sales_figures
from ui import session
from ui.session import tr


def show(store: Store, actor: Actor) -> None:
    if allowed(actor, "reports.read"):
        _daily(store, actor)
        _after_sales(store, actor)
    if allowed(actor, "systems.list"):
        _breakers(store, actor)
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


def _after_sales(store: Store, actor: Actor) -> None:
    """After-sales: cycle time per channel and day, return rates, inspection failures."""
    found = session.call(after_sales_figures, store, actor)
    if not found or not (found["cycle_hours"] or found["return_rate_channel"]):
        return
    st.subheader(tr("d.after_sales"))
    cycles = [
        {"day": key.split("@")[1], "channel": key.split("@")[0], "hours": hours}
        for key, hours in found["cycle_hours"].items()
    ]
    if cycles:
        st.caption(tr("d.as.cycle"))
        st.bar_chart(cycles, x="day", y="hours", color="channel")
        st.dataframe(cycles, hide_index=True)
    rates = [{"channel": c, "rate": r} for c, r in found["return_rate_channel"].items()]
    skus = sorted(found["return_rate_sku"].items(), key=lambda kv: -kv[1])[:10]
    left, right = st.columns(2)
    left.caption(tr("d.as.channels"))
    left.dataframe(rates, hide_index=True)
    right.caption(tr("d.as.skus"))
    right.dataframe([{"sku": k, "rate": r} for k, r in skus], hide_index=True)
    st.metric(tr("d.as.failures", n=found["inspected"]), f"{found['inspection_failure_rate']:.1%}")


def _breakers(store: Store, actor: Actor) -> None:
    """Each external system's breaker and the orders waiting for it; open or close by hand
    for the roles that may."""
    views = session.call(systems.list_systems, store, actor)
    note = st.session_state.pop("brk_note", None)
    if note:
        st.success(note)
    if not views:
        return
    st.subheader(tr("d.systems"))
    rows = [
        {
            "system": v.system,
            "state": tr(f"d.state.{v.state}"),
            "reason": v.reason,
            "since": _when(v.since),
            "next probe": _when(v.retry_at),
            "by hand": v.by_hand,
            "changed by": v.changed_by,
            "waiting": v.waiting,
        }
        for v in views
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    if any(v.waiting for v in views):
        st.bar_chart(rows, x="system", y="waiting")
    for v in views:
        if v.waiting_refs:
            more = (
                f" … (+{v.waiting - len(v.waiting_refs)})"
                if v.waiting > len(v.waiting_refs)
                else ""
            )
            st.caption(tr("d.waiting", system=v.system, refs=", ".join(v.waiting_refs)) + more)
    if not allowed(actor, "systems.change"):
        return
    with st.expander(tr("d.breaker.change")):
        left, middle = st.columns(2)
        system = left.selectbox(tr("d.breaker.system"), [v.system for v in views], key="brk_system")
        action = middle.radio(
            tr("d.breaker.action"),
            ["open", "close"],
            key="brk_action",
            horizontal=True,
            format_func=lambda a: tr(f"d.breaker.{a}"),
        )
        reason = st.text_input(tr("d.breaker.reason"), key="brk_reason")
        if st.button(tr("d.breaker.apply"), key="brk_apply"):
            if not reason.strip():
                st.error(tr("d.breaker.need.reason"))
                return
            view = session.call(systems.set_breaker, store, actor, system, action, reason)
            if view is not None:
                st.session_state["brk_note"] = tr(
                    "d.breaker.done", system=view.system, state=tr(f"d.state.{view.state}")
                )
                st.rerun()


def _when(moment: datetime | None) -> str:
    """A UTC moment in China time (the users' clock), or nothing."""
    return (moment + timedelta(hours=8)).strftime("%m-%d %H:%M") if moment else ""
