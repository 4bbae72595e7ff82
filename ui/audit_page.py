"""The audit page: the audit log filtered by who, what and since when, and the chain check."""

from __future__ import annotations

import streamlit as st

from engine.store import Store
from service import versioning
from service.access import Actor, allowed
from service.masking import ContactMask
from ui import session
from ui.session import tr


def show(store: Store, actor: Actor) -> None:
    checked = session.call(versioning.verify_audit, store, actor)
    entries = session.call(versioning.audit_entries, store, actor) or []
    if checked is not None:
        problems, _head = checked
        if problems:
            st.error(tr("a.chain.bad") + "\n\n" + "\n\n".join(problems))
        else:
            st.success(tr("a.chain.ok", n=len(entries)))
    left, middle, right = st.columns(3)
    who = left.selectbox(tr("a.who"), ["", *sorted({e.actor for e in entries})], key="a_who")
    what = middle.selectbox(tr("a.what"), ["", *sorted({e.action for e in entries})], key="a_what")
    since = right.date_input(tr("a.since"), value=None, key="a_since")
    mask = ContactMask(allowed(actor, "orders.contact"))
    rows = [
        {
            "#": e.id,
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
            "who": f"{e.actor} ({e.role})",
            "what": e.action,
            "subject": e.subject,
            "detail": mask(e.detail),
            "reason": mask(e.reason or ""),
        }
        for e in reversed(entries)
        if (not who or e.actor == who)
        and (not what or e.action == what)
        and (since is None or e.at.date() >= since)
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
