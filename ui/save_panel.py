"""The Save tab: validate, show the semantic diff and the 7-day replay, confirm, save.

A preview (`service.editing.preview_save`) belongs to one draft text; any edit drops it, so
what is saved is always what was shown. When someone else saved meanwhile, their change is
shown and the draft can be started again on top of their version.
"""

from __future__ import annotations

import streamlit as st

from engine.store import Store
from service import editing, versioning
from service.access import Actor, allowed
from ui import session, workflow_page
from ui.session import tr
from versions.store import Version


def show(store: Store, actor: Actor, base: Version) -> None:
    text = st.session_state["draft_text"]
    message = st.text_input(tr("save.message"), key="save_message")
    if st.button(tr("save.preview"), key="preview_button"):
        preview = session.call(editing.preview_save, store, actor, text, base=base.number)
        if preview is not None:
            st.session_state["preview"] = (text, preview)
    held = st.session_state.get("preview")
    if held is None or held[0] != text:
        return
    preview: editing.Preview = held[1]
    if preview.someone_saved:
        st.warning(tr("save.meanwhile", number=preview.latest))
        st.code("\n".join(preview.meanwhile) or "-", language=None)
        if st.button(tr("save.rebase"), key="rebase"):
            workflow_page.start_draft(store, actor, base.workflow_id, preview.latest)
            st.rerun()
        return
    _diff(preview)
    _replay(preview)
    confirm = True
    if preview.needs_confirm:
        confirm = st.checkbox(tr("save.confirm"), key="save_confirm")
    activate = False
    if not _needs_approval(text):
        activate = st.checkbox(tr("save.activate"), value=True, key="save_activate")
    if st.button(tr("save.button"), key="save", disabled=not confirm):
        if not message.strip():
            st.error(tr("save.need.message"))
            return
        saved = session.call(
            versioning.save_version,
            store,
            actor,
            text,
            base=base.number,
            message=message.strip(),
            confirm=preview.needs_confirm,
            replay_days=editing.REPLAY_DAYS,
        )
        if saved is None:
            return
        note = tr("save.done", number=saved.number)
        if saved.awaiting_approval:
            note += " · " + tr("save.await", number=saved.number)
        elif activate and not saved.active and allowed(actor, "versions.activate"):
            session.call(versioning.activate_version, store, actor, saved.workflow_id, saved.number)
        st.session_state["saved_note"] = note
        workflow_page.start_draft(store, actor, saved.workflow_id, saved.number)
        st.rerun()


def notes() -> None:
    note = st.session_state.pop("saved_note", None)
    if note:
        st.success(note)


def _needs_approval(text: str) -> bool:
    loaded = workflow_page.loaded(text)
    return bool(loaded and loaded.require_approval)


def _diff(preview: editing.Preview) -> None:
    st.subheader(tr("save.diff"))
    if not preview.changes:
        st.info(tr("wf.draft.same"))
    lines = []
    for line in preview.changes:
        lines.append(f"- :red[{line}]" if "(critical!)" in line else f"- `{line}`")
    st.markdown("\n".join(lines))
    if preview.text:
        with st.expander(tr("hist.text")):
            st.code(preview.text, language="diff")


def _replay(preview: editing.Preview) -> None:
    st.subheader(tr("save.replay"))
    report = preview.report
    if report is None:
        st.info(tr("save.replay.none"))
        return
    st.markdown(tr("save.replay.summary", orders=report.orders, changed=len(report.changed)))
    for cause, refs in sorted(report.groups.items()):
        with st.expander(f"{cause} — {len(refs)}"):
            rows = []
            for ref in sorted(refs)[:200]:
                before, after = report.changed[ref]
                rows.append(
                    {
                        "ref": ref,
                        "before": f"{before.outcome} {before.warehouse or ''} {before.queue or ''}",
                        "after": f"{after.outcome} {after.warehouse or ''} {after.queue or ''}",
                    }
                )
            st.dataframe(rows, hide_index=True)
    if report.oversold:
        st.markdown(f":red[**{tr('save.replay.oversold', n=len(report.oversold))}**]")
        st.markdown(":red[" + ", ".join(sorted(report.oversold)[:50]) + "]")
