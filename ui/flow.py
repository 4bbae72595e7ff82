"""The workflow as a clickable graph: streamlit-flow-component (its frontend ships in its
wheel, so the browser fetches nothing from the network), laid out left to right; clicking a
node picks it for the node form below. Without the package (`pip install
'orderhub[ui]'` brings it) the page draws the static Graphviz graph (`ui.graph`) and the node
is picked from the list only.

`elements` is the plain description of what is drawn — each node with its type and counts
(critical ones in red), each route, `next` and `on_error` an edge labelled with its outcome
— and `draw` hands it to the component and says which node a click just picked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import streamlit as st

from engine.workflow import Workflow
from service.editing import NodeCount

try:
    from streamlit_flow import streamlit_flow
    from streamlit_flow.elements import StreamlitFlowEdge, StreamlitFlowNode
    from streamlit_flow.layouts import LayeredLayout
    from streamlit_flow.state import StreamlitFlowState
except ImportError:  # the Graphviz drawing stands in
    streamlit_flow = None

#: whether the clickable graph can be drawn here
AVAILABLE = streamlit_flow is not None
CRITICAL = {"border": "2.5px solid #d32f2f", "background": "#fdecea"}
PLAIN = {"border": "1px solid #8a94a6", "background": "#f5f7fa"}


@dataclass(frozen=True)
class Box:
    id: str
    content: str  # markdown: the id, the type, waiting now and passed today
    critical: bool


@dataclass(frozen=True)
class Arrow:
    id: str
    source: str
    target: str
    label: str
    on_error: bool = False


def elements(workflow: Workflow, counts: dict[str, NodeCount]) -> tuple[list[Box], list[Arrow]]:
    """The nodes and edges to draw; an edge to a node the workflow lacks is left out (the
    component would otherwise stack every node at one spot)."""
    boxes = []
    for node_id, spec in workflow.nodes.items():
        count = counts.get(node_id, NodeCount())
        content = f"**{node_id}**  \n[{spec.type}]  \n⏳{count.waiting}  ✓{count.passed_today}"
        boxes.append(Box(node_id, content, bool(spec.critical)))
    arrows = []
    for node_id, spec in workflow.nodes.items():
        outs = [
            (str(k).lower() if isinstance(k, bool) else str(k), t, False)
            for k, t in spec.routes.items()
        ]
        if spec.next:
            outs.append(("", spec.next, False))
        if spec.on_error:
            outs.append(("on_error", spec.on_error, True))
        for label, target, error in outs:
            if target in workflow.nodes:
                arrow_id = f"{node_id}->{target}:{label or 'next'}"
                arrows.append(Arrow(arrow_id, node_id, target, label, error))
    return boxes, arrows


def draw(workflow: Workflow, counts: dict[str, NodeCount], key: str) -> str | None:
    """Draw the clickable graph; the node a click picked since the last run, else None."""
    boxes, arrows = elements(workflow, counts)
    drawn = json.dumps([[asdict(b) for b in boxes], [asdict(a) for a in arrows]])
    signature = hashlib.sha256(drawn.encode()).hexdigest()
    state_key, seen_key = f"{key}_state", f"{key}_seen"
    if st.session_state.get(f"{key}_signature") != signature:  # new drawing: new state
        st.session_state[f"{key}_signature"] = signature
        st.session_state[state_key] = _state(boxes, arrows)
        st.session_state[seen_key] = None
    result = streamlit_flow(
        key,
        st.session_state[state_key],
        height=520,
        fit_view=True,
        layout=LayeredLayout(direction="right", node_node_spacing=40, node_layer_spacing=70),
        get_node_on_click=True,
        min_zoom=0.05,
        hide_watermark=True,
    )
    st.session_state[state_key] = result  # moved nodes stay where the person put them
    picked = result.selected_id
    if picked == st.session_state.get(seen_key):
        return None
    st.session_state[seen_key] = picked
    return picked if picked in workflow.nodes else None


def _state(boxes: list[Box], arrows: list[Arrow]) -> Any:
    nodes = [
        StreamlitFlowNode(
            b.id,
            (0, 0),
            {"content": b.content},
            source_position="right",
            target_position="left",
            selectable=True,
            style={
                **(CRITICAL if b.critical else PLAIN),
                "borderRadius": "8px",
                "fontSize": "12px",
            },
        )
        for b in boxes
    ]
    edges = [
        StreamlitFlowEdge(
            a.id,
            a.source,
            a.target,
            edge_type="default",
            marker_end={"type": "arrowclosed"},
            label=a.label,
            label_show_bg=bool(a.label),
            style={"stroke": "#d32f2f", "strokeDasharray": "5 4"} if a.on_error else {},
        )
        for a in arrows
    ]
    return StreamlitFlowState(nodes, edges)
