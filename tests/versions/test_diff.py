"""Semantic and text diffs of workflow documents (no database)."""

from __future__ import annotations

import pytest

from engine.loader import load_workflow
from service.access import Actor, PermissionDenied, parse_actor, require
from tests.versions.documents import (
    BASE,
    BYPASS_STOCK,
    REORDERED,
    SAFETY_20,
    STOCK_10,
    STOCK_20,
    WITHOUT_STOCK,
)
from versions.diff import critical_changes, semantic_diff, text_diff


def lines(old: str, new: str) -> list[str]:
    return [
        str(c) for c in semantic_diff(load_workflow("a", text=old), load_workflow("b", text=new))
    ]


def test_reordering_keys_and_reformatting_is_no_semantic_change() -> None:
    assert REORDERED != BASE
    assert lines(BASE, REORDERED) == []
    assert text_diff(BASE, REORDERED)  # the text diff still shows it


def test_a_threshold_change_is_exactly_one_line() -> None:
    assert lines(STOCK_10, STOCK_20) == ["stock.safety_stock: 10 → 20"]


def test_a_param_default_change() -> None:
    assert lines(BASE, SAFETY_20) == ["params.safety_stock.default: 10 → 20"]


def test_route_and_trigger_changes() -> None:
    new = BASE.replace("low: hold, out: out_of_stock", "low: out_of_stock, out: hold").replace(
        "  - {type: manual}\n", "  - {type: schedule, every: 5m}\n"
    )
    assert lines(BASE, new) == [
        "triggers added: schedule every=5m",
        "triggers removed: manual",
        "stock.routes.low: hold → out_of_stock",
        "stock.routes.out: out_of_stock → hold",
    ]


def test_removing_the_stock_check_is_flagged_critical() -> None:
    changes = semantic_diff(load_workflow("a", text=BASE), load_workflow("b", text=WITHOUT_STOCK))
    assert "nodes removed: stock (critical!)" in [str(c) for c in changes]
    assert [c.note for c in critical_changes(changes)] == ["stock (critical!)"]


def test_bypassing_the_stock_check_is_flagged_critical() -> None:
    out = lines(BASE, BYPASS_STOCK)
    assert "nodes added: vip" in out
    assert any(line.startswith("stock: bypassed: ") and "waybill" in line for line in out)


def test_unmarking_critical_is_flagged() -> None:
    new = BASE.replace("    critical: true\n", "", 1)
    changes = semantic_diff(load_workflow("a", text=BASE), load_workflow("b", text=new))
    assert [str(c) for c in critical_changes(changes)] == [
        "stock.critical: true → false (critical!)"
    ]


def test_text_diff_is_unified_with_names() -> None:
    out = text_diff(BASE, SAFETY_20, "order_intake@v1", "order_intake@v2")
    assert out.startswith("--- order_intake@v1\n+++ order_intake@v2\n")
    assert "-    default: 10\n+    default: 20\n" in out
    assert text_diff(BASE, BASE) == ""


@pytest.mark.parametrize(
    ("role", "action", "ok"),
    [
        ("admin", "versions.rollback", True),
        ("ops_manager", "versions.save", True),
        ("ops_manager", "audit.verify", True),
        ("auditor", "versions.diff", True),
        ("auditor", "audit.list", True),
        ("auditor", "versions.save", False),
        ("auditor", "versions.activate", False),
        ("reviewer", "versions.show", True),
        ("reviewer", "versions.diff", False),
        ("warehouse", "audit.list", False),
        ("finance", "versions.rollback", False),
    ],
)
def test_role_table(role: str, action: str, ok: bool) -> None:
    actor = Actor("someone", role)
    if ok:
        require(actor, action)
    else:
        with pytest.raises(PermissionDenied, match="needs the role"):
            require(actor, action)


def test_parse_actor() -> None:
    assert parse_actor("li.wei:ops_manager") == Actor("li.wei", "ops_manager")
    with pytest.raises(PermissionDenied, match="USER:ROLE"):
        parse_actor("li.wei")
    with pytest.raises(PermissionDenied, match="unknown role"):
        parse_actor("li.wei:boss")
