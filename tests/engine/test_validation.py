"""Each broken document gives a problem at the exact line and column, with a helpful message.

Every case breaks the valid document of `documents.py` in one way; see that file for the
line numbers (line 13 is ``  - id: pull``, line 31 the stock node's ``with:``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ValidationError
from engine.loader import check_workflow, load_workflow
from tests.engine.documents import VALID, broken

CASES = [
    # (case, old text, new text, line, column, message fragment)
    (
        "bad indentation",
        "    next: paid\n",
        "   next: paid\n",
        16,
        4,
        "check the indentation",
    ),
    (
        "duplicate key",
        "    next: shipped\n",
        "    next: shipped\n    next: review\n",
        37,
        5,
        "duplicate key 'next' (first written at line 36)",
    ),
    (
        "unknown node type",
        "type: t_stock",
        "type: t_stok",
        28,
        11,
        "unknown node type 't_stok'; did you mean 't_stock'?",
    ),
    (
        "route to a missing node",
        "low: review,",
        "low: reveiw,",
        32,
        32,
        "routes.low: no node 'reveiw'; did you mean 'review'?",
    ),
    (
        "next to a missing node",
        "next: shipped",
        "next: shiped",
        36,
        11,
        "next: no node 'shiped'; did you mean 'shipped'?",
    ),
    (
        "on_error to a missing node",
        "on_error: review",
        "on_error: exceptions",
        37,
        15,
        "on_error: no node 'exceptions'",
    ),
    (
        "param out of bounds through a template",
        "safety_stock: {type: integer, default: 10, minimum: 0}",
        "safety_stock: {type: integer, default: -1}",
        31,
        12,
        "t_stock param safety_stock: Input should be greater than or equal to 0 "
        "(got -1 from '{{ params.safety_stock }}')",
    ),
    (
        "param out of bounds written directly",
        '{safety_stock: "{{ params.safety_stock }}"}',
        "{safety_stock: -1}",
        31,
        12,
        "t_stock param safety_stock: Input should be greater than or equal to 0 (got -1)",
    ),
    (
        "a with key the node type does not have",
        "{carrier: sf, note:",
        "{carier: sf, note:",
        35,
        12,
        "t_waybill has no param 'carier'; did you mean 'carrier'?",
    ),
    (
        "bad expression",
        """'order.status == "paid"'""",
        """'order.status == "paid" and'""",
        19,
        45,
        "bad expression 'order.status == \"paid\" and': the expression ends too early",
    ),
    (
        "lone = in a condition",
        """'order.status == "paid"'""",
        """'order.status = "paid"'""",
        19,
        32,
        "lone '=' in 'order.status = \"paid\"'",
    ),
    (
        "unknown order field",
        """'order.status == "paid"'""",
        """'order.amout > 100'""",
        19,
        19,
        "unknown order field 'order.amout'; did you mean 'order.amount'?",
    ),
    (
        "a condition that is not true or false",
        """'order.status == "paid"'""",
        """'order.amount'""",
        19,
        19,
        "a condition must be true or false, but order.amount is a number; write a comparison "
        "such as order.amount > 0",
    ),
    (
        "a number compared with a string",
        """'order.status == "paid"'""",
        """'order.amount > "500"'""",
        19,
        32,
        '> compares a number (order.amount) with a string ("500"), which zen refuses at run '
        "time; write the number without quotes: order.amount > 500",
    ),
    (
        "a type error in a template",
        "order {{ order.ref }}",
        "order {{ order.ref * 2 }}",
        35,
        51,
        "* works on numbers, but order.ref is a string (in 'order.ref * 2')",
    ),
    (
        "unknown name without a root",
        """'order.status == "paid"'""",
        """'amount > 100'""",
        19,
        19,
        "unknown name 'amount': expressions read order.<field>, params.<name> or "
        "state.<node>.<key>; did you mean 'order.amount'?",
    ),
    (
        "unknown param in a template",
        '"{{ params.safety_stock }}"',
        '"{{ 2 * params.safety }}"',
        31,
        34,
        "unknown param 'params.safety'; did you mean 'params.safety_stock'?",
    ),
    (
        "state of a node that does not exist",
        "state.stock.level",
        "state.stok.level",
        35,
        60,
        "'state.stok.level' reads state of 'stok', which is not a node; did you mean 'stock'?",
    ),
    (
        "unknown order field in an order-fields param",
        "receiver.address,",
        "receiver.adress,",
        24,
        32,
        "unknown order field 'receiver.adress'; did you mean 'receiver.address'",
    ),
    (
        "unreachable node",
        "false: awaiting_payment",
        "false: review",
        43,
        9,
        "node 'awaiting_payment' is unreachable from the source 'pull'",
    ),
    (
        "cycle",
        "next: shipped",
        "next: paid",
        36,
        11,
        "cycle paid -> dedup -> stock -> waybill -> paid",
    ),
    (
        "two sources",
        "  - id: shipped\n    type: t_end\n",
        "  - id: shipped\n    type: t_pull\n    with: {channels: [h5]}\n",
        39,
        11,
        "second source node 'shipped': a workflow has exactly one source ('pull' at line 13)",
    ),
    (
        "the source as a target",
        "ok: waybill",
        "ok: pull",
        32,
        18,
        "'stock' leads to the source node 'pull'",
    ),
    (
        "bad outcome name",
        "duplicate: review",
        "dupe: review",
        26,
        29,
        "node type 't_dedup' has no outcome 'dupe'; did you mean 'duplicate'? "
        "(its outcomes: unique, duplicate)",
    ),
    (
        "an outcome routed nowhere",
        "routes: {ok: waybill, low: review, out: review}",
        "routes: {ok: waybill, low: review}",
        27,
        5,
        "node 'stock' routes outcome 'out' of t_stock nowhere: add `out: <node id>` under its "
        "routes (or a `next:`); only an outcome its type marks as an end (`orderhub nodes`) "
        "may end a run",
    ),
    (
        "param default out of its own bounds",
        "default: 60, minimum: 1",
        "default: 0, minimum: 1",
        5,
        50,
        "param dedup_window_minutes: default 0 is below the minimum 1",
    ),
    (
        "param default of the wrong type",
        "default: 2000.5",
        "default: lots",
        7,
        38,
        "param big_order: default 'lots' is not of type number",
    ),
    (
        "unknown key (schema)",
        "    on_error: review\n",
        "    on_eror: review\n",
        37,
        5,
        "nodes[4]: unknown key 'on_eror'; did you mean 'on_error'?",
    ),
    (
        "node id that is not a slug (schema)",
        "  - id: shipped\n",
        "  - id: Shipped\n",
        38,
        9,
        "nodes[5].id: 'Shipped' must be a lower-case slug",
    ),
    (
        "bad schedule interval (schema)",
        "every: 15m",
        "every: 15 minutes",
        9,
        29,
        "triggers[0].every: '15 minutes' must be an interval such as 30s, 15m, 1h or 1d",
    ),
    (
        "webhook without channel (schema)",
        "{type: webhook, channel: h5}",
        "{type: webhook}",
        10,
        5,
        "triggers[1]: 'channel' is a required property",
    ),
    (
        "critical that is not a boolean (schema)",
        "critical: true",
        "critical: very",
        29,
        15,
        "nodes[3].critical: 'very' is not of type 'boolean'",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_broken_document_names_the_place_and_the_fix(old, new, line, column, fragment):
    text = broken(old, new)
    with pytest.raises(ValidationError) as caught:
        load_workflow("intake.yaml", text=text)
    found = [str(p) for p in caught.value.problems]
    expected = f"intake.yaml:{line}:{column}: "
    assert any(p.startswith(expected) and fragment in p for p in found), "\n".join(found)
    assert all("\n" not in p and "backtrace" not in p.lower() for p in found)


def test_the_valid_document_has_no_problems():
    assert check_workflow("intake.yaml", text=VALID) == []


def test_several_problems_are_reported_at_once():
    text = broken("type: t_stock", "type: t_stok")
    text = broken("low: review,", "low: reveiw,", text)
    text = broken("""'order.status == "paid"'""", """'order.status = "paid"'""", text)
    text = broken("false: awaiting_payment", "false: review", text)
    with pytest.raises(ValidationError) as caught:
        load_workflow("intake.yaml", text=text)
    where = [(p.line, p.column) for p in caught.value.problems]
    assert where == [(19, 32), (28, 11), (32, 32), (43, 9)]
    assert str(caught.value).splitlines()[0].startswith("intake.yaml:19:32: lone '='")


def test_no_source_node():
    text = broken(
        "    type: t_pull\n    with: {channels: [youzan, douyin, h5]}\n", "    type: t_end\n"
    )
    problems = check_workflow("intake.yaml", text=text)
    assert len(problems) == 1
    message = str(problems[0])
    assert message.startswith(
        "intake.yaml:12:1: no source node: exactly one node must have a source type ("
    )
    assert "t_pull" in message  # every registered source type is named, the test's included


def test_templates_reading_the_order_are_left_for_run_time():
    text = broken('"{{ params.safety_stock }}"', '"{{ state.pull.floor }}"')
    workflow = load_workflow("intake.yaml", text=text)
    assert workflow.nodes["stock"].config == {"safety_stock": "{{ state.pull.floor }}"}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"safety_stock": -5}, "override safety_stock=-5: -5 is below the minimum 0"),
        ({"safety_stock": "ten"}, "override safety_stock='ten': 'ten' is not of type integer"),
        ({"safety_stok": 5}, "override of unknown param 'safety_stok'; did you mean"),
    ],
)
def test_overrides_are_checked_like_defaults(overrides, fragment):
    problems = check_workflow("intake.yaml", text=VALID, overrides=overrides)
    assert any(fragment in p.message for p in problems), problems
    with pytest.raises(ValidationError):
        load_workflow("intake.yaml", text=VALID, overrides=overrides)


def test_on_unavailable_is_checked_like_a_route() -> None:
    """It must lead to a node, and sit on a node type that calls an external system."""
    path = Path(__file__).resolve().parents[2] / "workflows" / "order_intake.yaml"
    good = path.read_text(encoding="utf-8")
    assert check_workflow("order_intake.yaml", text=good) == []
    missing = good.replace("on_unavailable: waybill_zto", "on_unavailable: waybill_ztoo")
    found = [str(p) for p in check_workflow("order_intake.yaml", text=missing)]
    assert any("on_unavailable: no node 'waybill_ztoo'" in p for p in found), found
    on_stock = good.replace(
        "    routes: {ok: waybill, low: hold, out: out_of_stock}\n",
        "    routes: {ok: waybill, low: hold, out: out_of_stock}\n    on_unavailable: hold\n",
    )
    found = [str(p) for p in check_workflow("order_intake.yaml", text=on_stock)]
    assert any("calls no external system" in p for p in found), found
