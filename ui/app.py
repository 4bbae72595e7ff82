"""The orderhub editor (Streamlit): `orderhub ui` runs ``streamlit run ui/app.py``.

Sign-in first; then the pages the signed-in role may see, each in its own module, each
calling the service layer (which checks the role again and masks what the role may not see).
"""

from __future__ import annotations

import streamlit as st

from service.access import Actor, allowed
from service.passwords import sign_in
from ui import (
    audit_page,
    dashboard_page,
    history_page,
    orders_page,
    queues_page,
    session,
    workflow_page,
)
from ui.labels import LANGS
from ui.session import tr

#: page key → (the action a role needs to see it, the module that draws it)
PAGES = {
    "workflow": ("versions.show", workflow_page),
    "history": ("versions.list", history_page),
    "queues": ("queue.list", queues_page),
    "orders": ("orders.list", orders_page),
    "dashboard": ("orders.list", dashboard_page),
    "audit": ("audit.list", audit_page),
}


def pages_for(actor: Actor) -> list[str]:
    return [name for name, (action, _) in PAGES.items() if allowed(actor, action)]


def main() -> None:
    st.set_page_config(page_title="orderhub", layout="wide")
    st.sidebar.selectbox(
        "语言 / Language",
        LANGS,
        key="lang",
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
    )
    who = session.actor()
    if who is None:
        _sign_in_form()
        return
    signed = st.session_state["signed"]
    st.sidebar.selectbox(
        tr("signin.as", user=signed.user),
        signed.roles,
        key="role",
        format_func=lambda role: tr(f"role.{role}"),
    )
    if st.sidebar.button(tr("signout"), key="signout"):
        session.sign_out()
        st.rerun()
    names = pages_for(who)
    page = st.sidebar.radio(
        tr("page"), names, key="page", format_func=lambda name: tr(f"page.{name}")
    )
    st.title(tr(f"page.{page}"))
    PAGES[page][1].show(session.store(), who)


def _sign_in_form() -> None:
    st.title(tr("app.title"))
    if st.session_state.pop("expired", False):
        st.info(tr("signin.expired"))
    with st.form("signin"):
        user = st.text_input(tr("signin.user"), key="signin_user")
        password = st.text_input(tr("signin.password"), type="password", key="signin_password")
        pressed = st.form_submit_button(tr("signin.button"))
    if pressed:
        signed = session.call(sign_in, session.store(), user.strip(), password)
        if signed is not None:
            session.sign_in(signed)
            st.rerun()


main()
