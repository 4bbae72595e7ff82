"""The history page: every version, any two compared, approve, activate, roll back.

The replay summary a version was saved with comes from its save's audit record (for roles
that may read the audit log). A rollback is two clicks: pick the version, give a reason,
press the button.
"""

from __future__ import annotations

import difflib

import streamlit as st

from engine.store import Store
from service import versioning, workflows
from service.access import Actor, allowed
from ui import session
from ui.session import tr


def show(store: Store, actor: Actor) -> None:
    listed = session.call(workflows.list_workflows, store, actor, 100, 0)
    ids = [w.workflow_id for w in listed.items] if listed else []
    if not ids:
        st.info(tr("no.workflow"))
        return
    wf_id = st.selectbox(tr("workflow"), ids, key="hist_wf")
    versions = session.call(versioning.list_versions, store, actor, wf_id) or []
    replays = _replays(store, actor, wf_id)
    rows = [
        {
            tr("hist.number"): f"v{v.number}",
            tr("hist.active"): "●" if v.active else "",
            tr("hist.author"): v.author,
            tr("hist.time"): v.created_at.strftime("%Y-%m-%d %H:%M"),
            tr("hist.message"): v.message,
            tr("hist.approval"): (
                f"{tr('hist.approved')}: {v.approved_by}"
                if v.approved_by
                else (tr("hist.waiting") if v.requires_approval else "")
            ),
            tr("hist.replay"): replays.get(v.number, ""),
        }
        for v in reversed(versions)
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    numbers = [v.number for v in versions]
    if len(numbers) >= 2:
        _compare(store, actor, wf_id, numbers)
    _act(store, actor, wf_id, versions)


def _compare(store: Store, actor: Actor, wf_id: str, numbers: list[int]) -> None:
    st.subheader(tr("hist.compare"))
    left, right = st.columns(2)
    old = left.selectbox(tr("hist.old"), numbers, index=len(numbers) - 2, key="hist_old")
    new = right.selectbox(tr("hist.new"), numbers, index=len(numbers) - 1, key="hist_new")
    if old == new or not allowed(actor, "versions.diff"):
        return
    diff = session.call(versioning.diff_versions, store, actor, wf_id, old, new)
    if diff is None:
        return
    lines = [f"- :red[{c}]" if c.critical else f"- `{c}`" for c in diff.changes] or [
        tr("wf.draft.same")
    ]
    st.markdown("\n".join(lines))
    a = versioning.show_version(store, actor, wf_id, old).text.splitlines()
    b = versioning.show_version(store, actor, wf_id, new).text.splitlines()
    table = difflib.HtmlDiff(wrapcolumn=52).make_table(
        a, b, f"v{old}", f"v{new}", context=True, numlines=3
    )
    with st.expander(tr("hist.text"), expanded=True):
        st.html(
            f"<style>table.diff td{{font-family:monospace;font-size:12px}}"
            f".diff_add{{background:#e6ffec}}.diff_sub{{background:#ffebe9}}"
            f".diff_chg{{background:#fff5b1}}</style>{table}"
        )


def _act(store: Store, actor: Actor, wf_id: str, versions: list) -> None:
    if not versions:
        return
    latest = versions[-1]
    if (
        latest.awaiting_approval
        and allowed(actor, "versions.approve")
        and st.button(tr("hist.approve", number=latest.number), key="approve")
        and session.call(versioning.approve_version, store, actor, wf_id, latest.number)
    ):
        st.rerun()
    if (
        not latest.active
        and not latest.awaiting_approval
        and allowed(actor, "versions.activate")
        and st.button(tr("hist.activate", number=latest.number), key="activate")
        and session.call(versioning.activate_version, store, actor, wf_id, latest.number)
    ):
        st.rerun()
    if not allowed(actor, "versions.rollback") or len(versions) < 2:
        return
    st.subheader(tr("hist.rollback"))
    choices = [v.number for v in versions[:-1]]
    target = st.selectbox(tr("hist.rollback.to"), choices, index=len(choices) - 1, key="rb_to")
    reason = st.text_input(tr("hist.reason"), key="rb_reason")
    if st.button(tr("hist.rollback.button", number=target), key="rollback"):
        done = session.call(versioning.rollback_version, store, actor, wf_id, target, reason=reason)
        if done is not None:
            st.session_state["rolled"] = tr(
                "hist.rolled", number=done.version.number, restored=done.restored
            )
            st.session_state.pop("draft_wf", None)  # the workflow page starts again from it
            st.rerun()
    note = st.session_state.pop("rolled", None)
    if note:
        st.success(note)


def _replays(store: Store, actor: Actor, wf_id: str) -> dict[int, str]:
    """The replay summary each version was saved with (from the audit log)."""
    if not allowed(actor, "audit.list"):
        return {}
    entries = versioning.audit_entries(store, actor, subject=wf_id)
    out = {}
    for entry in entries:
        replay = entry.detail.get("replay") if entry.action == "save" else None
        if replay:
            out[entry.detail.get("number")] = (
                f"{replay.get('changed', 0)}/{replay.get('orders', 0)}"
                + (f", oversold {replay['oversold']}" if replay.get("oversold") else "")
            )
    return out
