"""Draft edits change one thing in the YAML text and keep comments and layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.loader import load_workflow
from ui import draft
from versions.diff import semantic_diff

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "workflows" / "order_intake.yaml").read_text(encoding="utf-8")


def changed_lines(a: str, b: str) -> list[tuple[str, str]]:
    old, new = a.splitlines(), b.splitlines()
    assert len(old) == len(new)
    return [(x, y) for x, y in zip(old, new, strict=True) if x != y]


def test_a_threshold_edit_changes_exactly_one_line_and_one_meaning() -> None:
    text = draft.set_param_default(TEXT, "safety_stock", 15)
    assert changed_lines(TEXT, text) == [("    default: 10", "    default: 15")]
    changes = semantic_diff(load_workflow("a", text=TEXT), load_workflow("b", text=text))
    assert [str(c) for c in changes] == ["params.safety_stock.default: 10 → 15"]


def test_a_node_form_edit_keeps_flow_style_and_comments() -> None:
    text = draft.set_node_params(TEXT, "pull", {"window_minutes": 120})
    assert changed_lines(TEXT, text) == [
        (
            "    with: {channels: [youzan, douyin, h5], window_minutes: 360, overlap_minutes: 5}",
            "    with: {channels: [youzan, douyin, h5], window_minutes: 120, overlap_minutes: 5}",
        )
    ]
    assert text.startswith("# Order intake of a mid-size cosmetics brand")
    assert draft.node_with(text, "stock") == {"safety_stock": "{{ params.safety_stock }}"}


def test_structural_edits_add_connect_and_remove() -> None:
    text = draft.add_node(TEXT, "gift", "finish")
    text = draft.set_node_params(text, "gift", {"status": "gift_wrapped"})
    text = draft.connect(text, "waybill", "next", "gift")
    wf = load_workflow("x", text=text)
    assert wf.nodes["gift"].type == "finish" and wf.nodes["waybill"].next == "gift"
    text = draft.connect(text, "paid", "false", "gift")
    assert "routes: {true: validate, false: gift}" in text
    text = draft.remove_node(text, "gift")  # its routes in go with it: reconnect them
    assert "gift" not in text and "routes: {true: validate}" in text
    text = draft.connect(
        draft.connect(text, "paid", "false", "closed"), "waybill", "next", "shipped"
    )
    old, new = load_workflow("a", text=TEXT), load_workflow("b", text=text)
    assert semantic_diff(old, new) == []
    with pytest.raises(ValueError, match="exists already"):
        draft.add_node(TEXT, "stock", "finish")
    with pytest.raises(ValueError, match="no node 'nope'"):
        draft.remove_node(TEXT, "nope")
