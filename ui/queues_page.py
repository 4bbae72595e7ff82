"""The queues page: orders waiting for a person, decided one by one or in bulk over a filter.

A suspected duplicate is shown side by side with the order it duplicates, the fields that
differ marked. Lists and decisions are `service.queues`' (phones masked per role; each
decision checked and audited by `service.review.decide`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from engine.store import Store
from service import orders, queues
from service.access import Actor, allowed
from ui import session
from ui.session import tr

QUEUES = ("review", "exceptions", "held")
MAX_SHOWN = 500  # a bulk decision covers at most the orders shown


def show(store: Store, actor: Actor) -> None:
    left, right = st.columns(2)
    queue = left.selectbox(
        tr("q.queue"),
        ["", *QUEUES],
        key="q_queue",
        format_func=lambda q: q or tr("q.all"),
    )
    wanted = right.text_input(tr("q.filter"), key="q_filter").strip()
    page = session.call(queues.list_queue, store, actor, queue=queue or None, limit=MAX_SHOWN)
    items = page.items if page else []
    items = [i for i in items if wanted in i.reason or wanted in i.ref] if wanted else items
    note = st.session_state.pop("q_note", None)
    if note:
        st.success(note)
    if not items:
        st.info(tr("nothing"))
        return
    may_decide = allowed(actor, "queue.decide")
    if may_decide:
        reason = st.text_input(tr("q.reason"), key="q_reason")
        st.caption(tr("q.bulk", n=len(items)))
        bulk_left, bulk_right, _ = st.columns([1, 1, 4])
        if bulk_left.button(f"{tr('q.release')} ({len(items)})", key="bulk_release"):
            _decide(store, actor, items, "release", reason)
        if bulk_right.button(f"{tr('q.cancel')} ({len(items)})", key="bulk_cancel"):
            _decide(store, actor, items, "cancel", reason)
    for item in items:
        with st.expander(f"{item.queue} · {item.ref} · {item.reason}"):
            if item.queue == "review" and item.detail.get("duplicate_of"):
                _side_by_side(store, actor, item.ref, str(item.detail["duplicate_of"]))
            else:
                st.json(item.detail)
            if may_decide:
                one_left, one_right, _ = st.columns([1, 1, 4])
                if one_left.button(tr("q.release"), key=f"release_{item.ref}"):
                    _decide(store, actor, [item], "release", reason)
                if one_right.button(tr("q.cancel"), key=f"cancel_{item.ref}"):
                    _decide(store, actor, [item], "cancel", reason)


def _decide(
    store: Store, actor: Actor, items: list[queues.Waiting], decision: str, reason: str
) -> None:
    if not reason.strip():
        st.error(tr("q.need.reason"))
        return
    refs = [item.ref for item in items]
    queue = items[0].queue if len({item.queue for item in items}) == 1 else None
    systems = session.systems()  # complete settings: the run goes on now (it may ship)
    results = session.call(queues.decide_many, store, actor, refs, decision, reason, queue, systems)
    if results:
        st.session_state["q_note"] = "; ".join(
            tr("q.done", ref=r.ref, status=r.status if r.ok else r.error) for r in results
        )
        st.rerun()


def _side_by_side(store: Store, actor: Actor, ref: str, other: str) -> None:
    if not allowed(actor, "orders.show"):
        return
    mine = session.call(orders.order_history, store, actor, ref)
    theirs = session.call(orders.order_history, store, actor, other)
    if mine is None or theirs is None:
        return
    a, b = _flat(mine.order), _flat(theirs.order)
    rows = [
        {
            "": key,
            ref: a.get(key, ""),
            other: b.get(key, ""),
            "≠": "≠" if a.get(key) != b.get(key) else "",
        }
        for key in dict.fromkeys([*a, *b])
    ]
    table = pd.DataFrame(rows)
    marked = table.style.apply(
        lambda row: ["background-color: #fff5b1" if row["≠"] else "" for _ in row], axis=1
    )
    st.dataframe(marked, hide_index=True, width="stretch")


def _flat(order: orders.OrderInfo) -> dict[str, Any]:
    receiver = order.receiver
    return {
        "created_at": order.created_at.strftime("%Y-%m-%d %H:%M"),
        "status": order.status,
        "amount": order.amount,
        "buyer": order.buyer_nick,
        "receiver.name": receiver.name,
        "receiver.phone": receiver.phone,
        "receiver.address": "".join(
            (receiver.province, receiver.city, receiver.district, receiver.address)
        ),
        "items": ", ".join(f"{i.get('sku')}×{i.get('qty')}" for i in order.items),
    }
