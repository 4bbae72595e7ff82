"""The workflow drawn as a Graphviz graph (rendered in the browser by Streamlit's own bundle,
no `dot` binary and no network): each node with its type and counts, routes labelled,
critical nodes in red."""

from __future__ import annotations

from engine.workflow import Workflow
from service.editing import NodeCount


def dot(workflow: Workflow, counts: dict[str, NodeCount]) -> str:
    """The DOT source of `workflow`, each node showing waiting-now and passed-today counts."""
    lines = [
        "digraph workflow {",
        '  rankdir=LR; bgcolor="transparent";',
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", fontsize=11];',
        "  edge [fontsize=9];",
    ]
    for node_id, spec in workflow.nodes.items():
        count = counts.get(node_id, NodeCount())
        label = f"{node_id}\\n[{spec.type}]\\n⏳{count.waiting}  ✓{count.passed_today}"
        style = ', color="#d32f2f", penwidth=2.5, fillcolor="#fdecea"' if spec.critical else ""
        tip = _quote(spec.description or spec.type)
        lines.append(f'  "{_quote(node_id)}" [label="{_quote(label)}", tooltip="{tip}"{style}];')
    for node_id, spec in workflow.nodes.items():
        for outcome, target in spec.routes.items():
            name = str(outcome).lower() if isinstance(outcome, bool) else outcome
            lines.append(f'  "{_quote(node_id)}" -> "{_quote(target)}" [label="{_quote(name)}"];')
        if spec.next:
            lines.append(f'  "{_quote(node_id)}" -> "{_quote(spec.next)}";')
        if spec.on_error:
            lines.append(
                f'  "{_quote(node_id)}" -> "{_quote(spec.on_error)}" '
                '[label="on_error", style=dashed, color="#d32f2f"];'
            )
    lines.append("}")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return str(text).replace('"', '\\"')
