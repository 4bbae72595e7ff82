"""The orders page: find an order by reference or receiver phone, see its runs step by step.

Everything comes from `service.order_search` and `service.orders`, which mask the
receiver's phone (and hide the address) for the roles that may not see them.
"""

from __future__ import annotations

import streamlit as st

from engine.store import Store
from service import order_search, orders
from service.access import Actor
from ui import session
from ui.session import tr


def show(store: Store, actor: Actor) -> None:
    text = st.text_input(tr("o.search"), key="o_search").strip()
    by = {"ref": text} if ":" in text else {"phone": text} if text else {}
    page = session.call(order_search.search_orders, store, actor, limit=50, **by)
    found = page.items if page else []
    if text:
        st.caption(tr("o.found", n=len(found)))
    if not found:
        st.info(tr("nothing"))
        return
    st.dataframe([o.as_dict() for o in found], hide_index=True, width="stretch")
    ref = st.selectbox("ref", [o.ref for o in found], key="o_ref")
    history = session.call(orders.order_history, store, actor, ref) if ref else None
    if history is None:
        return
    order = history.order
    receiver = order.receiver
    st.markdown(
        f"**{order.ref}** · {order.status} · {order.warehouse or ''} · {order.amount}  \n"
        f"{tr('o.receiver')}: {receiver.name} · {receiver.phone} · "
        f"{receiver.province}{receiver.city}{receiver.district}{receiver.address}"
    )
    st.dataframe(order.items, hide_index=True)
    st.subheader(tr("o.runs"))
    for run in reversed(history.runs):
        with st.expander(
            tr("o.run", id=run.id, version=run.label, status=run.status), expanded=True
        ):
            st.dataframe(
                [
                    {
                        "#": step.seq,
                        "node": step.node_id,
                        "type": step.node_type,
                        "outcome": step.outcome or step.status,
                        "ms": round(step.duration_ms or 0, 1),
                        "error": step.error or "",
                    }
                    for step in run.steps
                ],
                hide_index=True,
                width="stretch",
            )
    for entry in history.queue:
        st.caption(f"{entry.queue} · {entry.status} · {entry.reason}")
    for bill in history.waybills:
        st.caption(f"{bill.carrier} {bill.waybill_no} · {bill.created_at:%Y-%m-%d %H:%M}")
