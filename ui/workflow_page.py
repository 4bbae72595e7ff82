"""The workflow page: the graph with counts, the params form, a node's form, structure, YAML.

The graph is clickable (`ui.flow`): a click on a node picks it in the node list, which opens
its form; without streamlit-flow-component it is the static Graphviz drawing (`ui.graph`)
and the list alone picks the node.

The draft is YAML text in the session (`draft`), edited from a saved version (`base`);
every form edit rewrites the text through `ui.draft` (comments and layout kept), and the
Save tab (`ui.save_panel`) previews and saves it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import streamlit as st

from engine import registry
from engine.errors import ValidationError
from engine.loader import check_workflow, load_workflow
from engine.store import Store
from engine.workflow import Workflow
from service import editing, versioning, workflows
from service.access import Actor, allowed
from ui import draft, flow, save_panel, session
from ui.forms import (
    FormField,
    is_template,
    list_text,
    list_value,
    node_fields,
    param_fields,
    table_rows,
    table_value,
    yaml_text,
    yaml_value,
)
from ui.graph import dot
from ui.session import tr
from versions.diff import semantic_diff

STRUCTURE_ENV = "ORDERHUB_UI_STRUCTURE_ROLES"  # who may add, connect and remove nodes
_WIDGETS = ("param_", "node_", "yaml_text")


def structure_roles() -> set[str]:
    return {r.strip() for r in os.environ.get(STRUCTURE_ENV, "admin").split(",") if r.strip()}


def show(store: Store, actor: Actor) -> None:
    listed = session.call(workflows.list_workflows, store, actor, 100, 0)
    ids = [w.workflow_id for w in listed.items] if listed else []
    if not ids:
        st.info(tr("no.workflow"))
        return
    wf_id = st.selectbox(tr("workflow"), ids, key="wf_id")
    state = st.session_state
    if state.get("draft_wf") != wf_id:
        start_draft(store, actor, wf_id)
    save_panel.notes()
    base = versioning.show_version(store, actor, wf_id, state["draft_base"])
    editable = allowed(actor, "versions.save")
    st.caption(
        tr(
            "wf.editing",
            number=base.number,
            active=tr("wf.active") if base.active else tr("wf.inactive"),
        )
    )
    saved = _saved(base.label, base.text)
    current = loaded(state["draft_text"]) or saved
    if editable:
        changes = semantic_diff(saved, current)
        st.caption(tr("wf.draft.changed", n=len(changes)) if changes else tr("wf.draft.same"))
    if editable:
        _params_form(current)
    else:
        st.info(tr("wf.readonly"))
    counts = session.call(editing.node_counts, store, actor, wf_id) or {}
    # lazy tabs: the clickable graph is drawn only while its tab is open, so it neither
    # draws at zero width in a hidden tab nor reruns the page (its layout sends a value)
    # while the person works in another tab
    tabs = st.tabs(
        [tr("wf.tab.graph"), tr("wf.tab.yaml"), tr("wf.tab.save")], key="wf_tabs", on_change="rerun"
    )
    with tabs[0]:
        if flow.AVAILABLE and tabs[0].open is not False:
            picked = flow.draw(current, counts, "wf_flow")
            if picked is not None:  # a click on a node opens its form
                st.session_state["node_pick"] = picked
        elif not flow.AVAILABLE:
            st.graphviz_chart(dot(current, counts), width="stretch")
        _node_panel(current, counts, editable)
        if editable:
            _structure(current, actor)
    with tabs[1]:
        _yaml_tab(editable)
    with tabs[2]:
        if editable:
            save_panel.show(store, actor, base)


def start_draft(store: Store, actor: Actor, wf_id: str, number: int | None = None) -> None:
    """Start a fresh draft of `wf_id` from version `number` (the active one by default)."""
    version = versioning.show_version(store, actor, wf_id, number)
    for key in list(st.session_state):
        if key.startswith(_WIDGETS) or key in ("preview", "save_confirm"):
            del st.session_state[key]
    st.session_state.update(draft_wf=wf_id, draft_base=version.number, draft_text=version.text)


def set_text(text: str) -> None:
    st.session_state["draft_text"] = text
    for key in ("preview", "yaml_text", "save_confirm"):
        st.session_state.pop(key, None)


# --- private helpers -------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def loaded(text: str) -> Workflow | None:
    """The draft's workflow, or None while it has problems (loaded once per text)."""
    try:
        return load_workflow("<draft>", text=text)
    except ValidationError:
        return None


@functools.lru_cache(maxsize=64)
def _saved(label: str, text: str) -> Workflow:
    return load_workflow(label.replace(" v", "@v"), text=text, saved=True)


def _params_form(current: Workflow) -> None:
    with st.expander(tr("wf.params"), expanded=True):
        specs = {
            name: {
                "type": p.type,
                "default": p.default,
                "minimum": p.minimum,
                "maximum": p.maximum,
                "description": p.description,
                **({"enum": list(p.enum)} if p.enum else {}),
            }
            for name, p in current.params.items()
        }
        columns = st.columns(4)
        for i, field in enumerate(param_fields(specs)):
            with columns[i % 4]:
                key = f"param_{field.name}"
                _widget(field, field.default, key, on_change=_param_changed, args=(field, key))


def _param_changed(field: FormField, key: str) -> None:
    value = _read(field, st.session_state[key])
    set_text(draft.set_param_default(st.session_state["draft_text"], field.name, value))


def _node_panel(current: Workflow, counts: dict, editable: bool) -> None:
    node_id = st.selectbox(tr("wf.node.pick"), list(current.nodes), key="node_pick")
    if node_id is None:
        return
    spec = current.nodes[node_id]
    count = counts.get(node_id, editing.NodeCount())
    critical = f" · :red[**{tr('wf.node.critical')}**]" if spec.critical else ""
    st.markdown(f"**{node_id}** · {tr('wf.node.type', type=spec.type)}{critical}")
    cls = registry.get(spec.type)
    summary = (cls.__doc__ or "").strip().splitlines()[0] if cls else ""
    st.caption(" · ".join(x for x in (spec.description, summary) if x))
    st.caption(tr("wf.node.counts", waiting=count.waiting, passed=count.passed_today))
    routes = {str(k): v for k, v in spec.routes.items()}
    if spec.next:
        routes["next"] = spec.next
    if spec.on_error:
        routes["on_error"] = spec.on_error
    if routes:
        st.caption(tr("wf.node.routes") + ": " + ", ".join(f"{k} → {v}" for k, v in routes.items()))
    if cls is None or not editable:
        return
    written = draft.node_with(st.session_state["draft_text"], node_id)
    with st.form(f"node_form_{node_id}"):
        values: dict[str, Any] = {}
        for field in node_fields(cls.Params.model_json_schema()):
            current_value = written.get(field.name, field.default)
            key = f"node_{node_id}_{field.name}"
            if is_template(current_value):
                st.text_input(field.name, current_value, key=key, disabled=True)
                st.caption(tr("wf.node.template", value=current_value))
                continue
            values[field.name] = (_widget(field, current_value, key), current_value)
        applied = st.form_submit_button(tr("wf.node.apply"))
    if applied:
        changed = {}
        for name, (raw, before) in values.items():
            field = next(f for f in node_fields(cls.Params.model_json_schema()) if f.name == name)
            value = _read(field, raw)
            if value != before and not (before is None and value in ("", [], {})):
                changed[name] = value
        if changed:
            set_text(draft.set_node_params(st.session_state["draft_text"], node_id, changed))
            st.rerun()


def _widget(field: FormField, value: Any, key: str, **change: Any) -> Any:
    label = field.name
    help_text = field.description or None
    if field.kind in ("integer", "number"):
        cast = int if field.kind == "integer" else float
        bounds = {
            "min_value": cast(field.minimum) if field.minimum is not None else None,
            "max_value": cast(field.maximum) if field.maximum is not None else None,
        }
        number = cast(value) if isinstance(value, int | float) else None
        step = 1 if field.kind == "integer" else 1.0
        return st.number_input(
            label, value=number, step=step, key=key, help=help_text, **bounds, **change
        )
    if field.kind == "boolean":
        return st.checkbox(label, value=bool(value), key=key, help=help_text, **change)
    if field.kind == "enum":
        options = list(field.options)
        index = options.index(value) if value in options else None
        return st.selectbox(label, options, index=index, key=key, help=help_text, **change)
    if field.kind == "list":
        return st.text_area(label, list_text(value or []), key=key, help=help_text, **change)
    if field.kind == "table":
        st.caption(f"{label}: {help_text or ''}")
        return st.data_editor(
            table_rows(value or {}),
            key=key,
            num_rows="dynamic",
            column_config={
                "key": st.column_config.TextColumn(field.key_label),
                "value": st.column_config.TextColumn(field.value_label),
            },
        )
    if field.kind == "yaml":
        return st.text_area(label, yaml_text(value), key=key, help=help_text, **change)
    return st.text_input(label, "" if value is None else str(value), key=key, help=help_text)


def _read(field: FormField, raw: Any) -> Any:
    """A widget's value as the document holds it."""
    if field.kind == "list":
        return list_value(raw or "")
    if field.kind == "table":
        rows = raw.to_dict("records") if hasattr(raw, "to_dict") else list(raw or [])
        return table_value(rows)
    if field.kind == "yaml":
        return yaml_value(raw or "")
    if field.kind == "integer" and raw is not None:
        return int(raw)
    return raw


def _structure(current: Workflow, actor: Actor) -> None:
    with st.expander(tr("wf.struct")):
        if actor.role not in structure_roles():
            st.caption(tr("wf.struct.denied"))
            return
        ids = list(current.nodes)
        left, middle, right = st.columns(3)
        with left:
            st.markdown(f"**{tr('wf.add')}**")
            new_id = st.text_input(tr("wf.add.id"), key="struct_add_id")
            new_type = st.selectbox(
                tr("wf.add.type"), list(registry.all_types()), key="struct_type"
            )
            if st.button(tr("wf.add.button"), key="struct_add") and new_id.strip():
                _apply(draft.add_node, new_id.strip(), new_type)
        with middle:
            st.markdown(f"**{tr('wf.connect')}**")
            source = st.selectbox(tr("wf.connect.from"), ids, key="struct_from")
            cls = registry.get(current.nodes[source].type) if source else None
            outcomes = [*(str(o).lower() for o in getattr(cls, "outcomes", ())), "next", "on_error"]
            outcome = st.selectbox(tr("wf.connect.route"), outcomes, key="struct_route")
            target = st.selectbox(tr("wf.connect.to"), ids, key="struct_to")
            if st.button(tr("wf.connect.button"), key="struct_connect"):
                _apply(draft.connect, source, outcome, target)
        with right:
            st.markdown(f"**{tr('wf.remove')}**")
            gone = st.selectbox(tr("wf.remove"), ids, key="struct_remove_id")
            if st.button(tr("wf.remove.button"), key="struct_remove"):
                _apply(draft.remove_node, gone)


def _apply(edit: Any, *args: Any) -> None:
    try:
        set_text(edit(st.session_state["draft_text"], *args))
    except ValueError as exc:
        st.error(str(exc))
        return
    st.rerun()


def _yaml_tab(editable: bool) -> None:
    text = st.text_area(
        "YAML",
        st.session_state["draft_text"],
        height=500,
        key="yaml_text",
        disabled=not editable,
    )
    problems = check_workflow("<draft>", text=text)
    if problems:
        st.error("\n\n".join(f"{p.line}:{p.column}: {p.message}" for p in problems))
    else:
        st.success(tr("wf.yaml.ok"))
    changed = editable and text != st.session_state["draft_text"]
    if changed and st.button(tr("wf.yaml.apply"), key="yaml_apply"):
        set_text(text)
        st.rerun()
    if editable and st.button(tr("wf.draft.reset"), key="draft_reset"):
        start_draft_from_session()
        st.rerun()


def start_draft_from_session() -> None:
    st.session_state.pop("draft_wf", None)
