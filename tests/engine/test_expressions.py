"""zen expressions with our guardrails: compile once, no lone '=', one-line errors, templates."""

from __future__ import annotations

import pytest

from engine.errors import WorkflowError
from engine.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    referenced_fields,
    render,
    template_parts,
)

ORDER = {
    "order": {
        "status": "paid",
        "amount": 2500,
        "category": "electronics",
        "receiver": {"phone": "13800001111"},
        "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
    },
    "params": {"big_order": 2000, "safety_stock": 10, "ratio": 1.5},
    "state": {"stock": {"level": 7}},
}


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ('order.amount > 2000 and order.category == "electronics"', True),
        ("order.amount > params.big_order", True),
        ('order.status != "paid"', False),
        ("state.stock.level < params.safety_stock", True),
        ("sum(map(order.items, #.qty))", 3),
        ('some(order.items, #.sku == "B-2")', True),
        ("order.missing", None),
    ],
)
def test_expressions_evaluate_over_order_params_and_state(src, expected):
    assert compile_expression(src).evaluate(ORDER) == expected


def test_a_compiled_expression_is_reused():
    expression = compile_expression("order.amount > params.big_order")
    assert isinstance(expression, Expression) and expression.source.startswith("order.amount")
    assert expression.test(ORDER) is True
    assert expression.test({**ORDER, "order": {"amount": 10}}) is False


@pytest.mark.parametrize("src", ["order.amount", "1", '"yes"', "order.items", "null"])
def test_a_condition_holds_only_when_exactly_true(src):
    assert compile_expression(src).test(ORDER) is False


@pytest.mark.parametrize(
    ("src", "column", "fragment"),
    [
        ('order.status = "paid"', 14, "lone '=' in 'order.status = \"paid\"'"),
        ("order.amount >", 15, "the expression ends too early"),
        ("order.amount +* 2", 15, "unexpected token"),
        ("(order.amount", 14, "the expression ends too early"),
        ('order.status == "paid', 17, "unterminated string in 'order.status == \"paid'"),
        ("order.status == 'paid", 17, "unterminated string"),
        ("foo(", None, "cannot read the whole expression"),
        ("", None, "empty expression"),
    ],
)
def test_bad_expressions_give_one_line_with_a_column(src, column, fragment):
    with pytest.raises(ExpressionError) as caught:
        compile_expression(src)
    error = caught.value
    assert isinstance(error, WorkflowError)
    assert error.column == column
    assert fragment in error.message
    assert "\n" not in str(error) and "backtrace" not in str(error).lower()
    assert "parserError" not in str(error)


@pytest.mark.parametrize("src", ["a == 1", "a != 1", "a <= 1", "a >= 1", '"x = y" == a'])
def test_comparisons_and_strings_are_not_lone_equals(src):
    compile_expression(src)


def test_a_failing_evaluation_is_one_line_too():
    expression = compile_expression("order.status > 2")
    with pytest.raises(ExpressionError) as caught:
        expression.evaluate(ORDER)
    assert str(caught.value).startswith("expression 'order.status > 2' failed:")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("src", "names"),
    [
        ("order.amount > params.x", {"order.amount", "params.x"}),
        ("order.items[0].sku == 'A'", {"order.items.sku"}),
        ('order["receiver"].phone != ""', {"order.receiver.phone"}),
        ("some(order.items, #.qty > params.min_qty)", {"order.items", "params.min_qty"}),
        ("len(state.dedup.matches) > 0 and true", {"state.dedup.matches"}),
        ("`ref ${order.ref}`", {"order.ref"}),
        ("'order.amount' == x", {"x"}),
    ],
)
def test_referenced_fields(src, names):
    assert referenced_fields(src) == names


def test_render_keeps_a_lone_template_typed():
    assert render("{{ params.safety_stock }}", ORDER) == 10
    assert type(render("{{ params.safety_stock }}", ORDER)) is int
    assert render("{{ params.ratio }}", ORDER) == 1.5
    assert render("{{ order.amount > params.big_order }}", ORDER) is True
    assert render("{{ map(order.items, #.qty) }}", ORDER) == [2, 1]


def test_render_interpolates_templates_inside_text():
    assert render(
        "order for {{ order.receiver.phone }}: {{ params.safety_stock }} left", ORDER
    ) == ("order for 13800001111: 10 left")
    assert render(" {{ params.safety_stock }}", ORDER) == " 10"
    assert render("{{ order.nothing }}!", ORDER) == "!"


def test_render_walks_dicts_and_lists_and_leaves_other_values():
    value = {"a": ["{{ params.safety_stock }}", 3, None], "b": {"c": "x{{ 1 + 1 }}"}, "d": True}
    assert render(value, ORDER) == {"a": [10, 3, None], "b": {"c": "x2"}, "d": True}


def test_template_parts_give_each_expression_and_its_offset():
    text = "a {{  params.x }} b {{y}}"
    assert template_parts(text) == [("params.x", 6), ("y", 22)]
    assert text[6:14] == "params.x" and text[22] == "y"
