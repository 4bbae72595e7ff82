"""What the clickable workflow graph draws (`ui.flow.elements`), without a browser: every
node once with its counts, every route, `next` and `on_error` as an edge between nodes that
exist (an edge to a missing node would stack the whole drawing at one spot)."""

from __future__ import annotations

import pytest

from engine.loader import load_workflow
from service.editing import NodeCount
from tests.ui.conftest import WORKFLOW
from tests.ui.test_app import signed_in, texts
from ui import flow


def test_the_graph_draws_every_node_and_every_route_once() -> None:
    workflow = load_workflow(WORKFLOW)
    boxes, arrows = flow.elements(workflow, {"waybill": NodeCount(waiting=3, passed_today=41)})
    assert flow.AVAILABLE  # the ui extra brings streamlit-flow-component
    assert [b.id for b in boxes] == list(workflow.nodes)
    assert "⏳3  ✓41" in next(b.content for b in boxes if b.id == "waybill")
    assert {b.id for b in boxes if b.critical} == {
        n for n, spec in workflow.nodes.items() if spec.critical
    }
    wanted = {(n, t) for n, spec in workflow.nodes.items() for t in spec.routes.values()} | {
        (n, spec.next) for n, spec in workflow.nodes.items() if spec.next
    }
    assert {(a.source, a.target) for a in arrows if not a.on_error} == wanted
    assert len({a.id for a in arrows}) == len(arrows)
    assert all(a.source in workflow.nodes and a.target in workflow.nodes for a in arrows)
    review = {a.label: a.target for a in arrows if a.source == "review"}
    assert review == {"release": "split", "merge": "merged", "cancel": "cancelled"}


@pytest.mark.parametrize("available", [False, True])
def test_without_streamlit_flow_the_page_draws_the_graphviz_graph(
    ui_db: str, monkeypatch: pytest.MonkeyPatch, available: bool
) -> None:
    """Without the package the static drawing stands in and the node list still opens a
    node's form; the twin shows the Graphviz drawing is not drawn when the clickable graph
    is."""
    monkeypatch.setattr(flow, "AVAILABLE", available)
    at = signed_in("li.wei")
    assert bool(at.get("graphviz_chart")) is not available
    at.selectbox(key="node_pick").select("waybill_zto").run()
    assert not at.exception, at.exception
    assert "**waybill_zto** · 类型：waybill" in texts(at)
