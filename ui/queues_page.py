"""The queues page: orders waiting for a person, decided one by one or in bulk over a filter.

Each order shows the decisions its waiting node offers (`service.queues.list_queue` says
which): release, merge or cancel a suspected duplicate — shown side by side with the order
it duplicates, the fields that differ marked; retry, reroute or cancel an exception — shown
with its reason and the platform's raw record; release, restocked or cancel a held order.
A bulk decision covers every order of one queue whose reason contains the filter: the page
shows the count first and decides only after it is confirmed, on that count
(`service.queues.matching` / `decide_matching`, as `orderhub queue decide --all`). Phones are
masked per role and each decision is checked and audited by the service layer.
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
MAX_SHOWN = 500  # the page lists at most this many orders
PREVIEW = 20  # how many of a bulk decision's orders it names before asking
#: test-only switch: False keys the bulk confirmation without the count, so a tick given for
#: one count still holds when the queue has moved (the twin test shows orders then get
#: decided that nobody saw counted)
CONFIRM_COUNT = True


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
    if wanted:
        low = wanted.lower()
        items = [i for i in items if low in i.reason.lower() or low in i.ref.lower()]
    note = st.session_state.pop("q_note", None)
    if note:
        st.success(note)
    if not items:
        st.info(tr("nothing"))
        return
    may_decide = allowed(actor, "queue.decide")
    reason = st.text_input(tr("q.reason"), key="q_reason") if may_decide else ""
    if may_decide and queue:
        _bulk(store, actor, queue, wanted, reason)
    elif may_decide:
        st.caption(tr("q.bulk.pick"))
    for item in items:
        with st.expander(f"{item.queue} · {item.ref} · {item.reason}"):
            _item(store, actor, item)
            if may_decide and item.offers:
                cells = st.columns(len(item.offers) + 1)
                for cell, decision in zip(cells, item.offers, strict=False):
                    if cell.button(tr(f"q.{decision}"), key=f"{decision}_{item.ref}"):
                        _decide(store, actor, item, decision, reason)


def _item(store: Store, actor: Actor, item: queues.Waiting) -> None:
    """What a person needs to decide: the duplicate beside its original, an exception's reason
    and raw record, else the queue item's detail."""
    if item.queue == "review" and item.detail.get("duplicate_of"):
        _side_by_side(store, actor, item.ref, str(item.detail["duplicate_of"]))
        return
    if item.queue == "exceptions":
        st.markdown(f"**{tr('q.why')}**: {item.reason}")
        if item.detail:
            st.json(item.detail, expanded=False)
        raw = session.call(queues.platform_record, store, actor, item.ref)
        if raw is not None:
            st.caption(tr("q.raw"))
            st.json(raw, expanded=False)
        return
    st.json(item.detail)


def _decide(store: Store, actor: Actor, item: queues.Waiting, decision: str, reason: str) -> None:
    if not reason.strip():
        st.error(tr("q.need.reason"))
        return
    systems = session.systems()  # complete settings: the run goes on now (it may ship)
    results = session.call(
        queues.decide_many, store, actor, [item.ref], decision, reason, item.queue, systems
    )
    if results:
        st.session_state["q_note"] = "; ".join(
            tr("q.done", ref=r.ref, status=r.status if r.ok else r.error) for r in results
        )
        st.rerun()


def _bulk(store: Store, actor: Actor, queue: str, wanted: str, reason: str) -> None:
    """One decision on every order of `queue` whose reason contains `wanted`: the count and
    the orders first, then a confirmation that names the count; a different count at the
    click (the queue moved) unticks it, and the service refuses a count that moved since."""
    shown = session.call(queues.matching, store, actor, queue, wanted)
    if shown is None or not shown.items:
        return
    n = len(shown.items)
    with st.container(border=True):
        st.markdown(f"**{tr('q.bulk', n=n, queue=queue)}**")
        listed = [{"ref": i.ref, "reason": i.reason} for i in shown.items[:PREVIEW]]
        st.dataframe(listed, hide_index=True, width="stretch")
        if n > PREVIEW:
            st.caption(tr("q.bulk.more", n=n - PREVIEW))
        if not shown.offers:
            st.caption(tr("q.bulk.none"))
            return
        decision = st.selectbox(
            tr("q.bulk.decision"),
            shown.offers,
            key="bulk_decision",
            format_func=lambda d: tr(f"q.{d}"),
        )
        label = tr(f"q.{decision}")
        sure = st.checkbox(
            tr("q.bulk.confirm", n=n, decision=label),
            key=f"bulk_confirm_{queue}_{wanted}_{n if CONFIRM_COUNT else ''}_{decision}",
        )
        if st.button(
            tr("q.bulk.button", n=n, decision=label), key="bulk_decide", disabled=not sure
        ):
            if not reason.strip():
                st.error(tr("q.need.reason"))
                return
            systems = session.systems()
            done = session.call(
                queues.decide_matching, store, actor, shown, decision, reason, systems
            )
            if done is not None:
                st.session_state["q_note"] = tr(
                    "q.bulk.done",
                    n=len(done.done),
                    decision=label,
                    now=", ".join(f"{s} {k}" for s, k in done.statuses),
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
