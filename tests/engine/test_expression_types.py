"""Expressions are type-checked against the order model, and never wrongly.

Each case types an expression against the `Order` model and a few params; where the checker
says what an expression yields, zen, evaluating it over a real order, agrees; where it says
zen refuses something at run time, zen does refuse it. Constructs outside the checker's
subset pass without a problem.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import zen

from engine.expression_types import check_types, condition_problem, environment, order_type
from engine.order import ORDER_FIELDS, Order, order_fields

ENV = environment({"safety_stock": "integer", "ratio": "number", "label": "string"})
ORDER = Order.model_validate(
    {
        "channel": "h5",
        "order_id": "H1",
        "created_at": "2026-01-10T08:00:00+08:00",
        "updated_at": "2026-01-10T09:00:00+08:00",
        "status": "paid",
        "receiver": {"phone": "13800000000", "address": "北太路8号"},
        "items": [{"sku": "A-1", "qty": 2, "price": "10.50"}],
        "amount": "21.00",
    }
)
DATA = {
    "order": ORDER.expression_data(),
    "params": {"safety_stock": 10, "ratio": 0.5, "label": "x"},
    "state": {"stock": {"level": 3}},
}
PY = {"number": (int, float), "string": str, "boolean": bool, "list": list, "object": dict}

# (expression, the kind it yields or None, a fragment of its one problem or None)
CASES = [
    ('order.status == "paid"', "boolean", None),
    ('order.amount > 2000 and order.channel == "h5"', "boolean", None),
    ("order.amount", "number", None),
    ("order.items", "list", None),
    ("order.items[0].qty * 2", "number", None),
    ("order.amount >= params.ratio * params.safety_stock", "boolean", None),
    ('order.status in ["paid", "shipped"]', "boolean", None),
    ("order.amount in [1..100]", "boolean", None),
    ('some(order.items, #.qty > 1) or order.channel not in ["youzan"]', "boolean", None),
    ('"A-1" in map(order.items, #.sku)', "boolean", None),
    ('date(order.created_at) > date("2026-01-01")', "boolean", None),
    ("len(order.items) > 0", "boolean", None),
    ('order.amount > 10 ? "big" : "small"', "string", None),
    ('not (order.status == "paid")', "boolean", None),
    ("order.paid_at == null", "boolean", None),
    ('upper(order.channel) + "-" + order.order_id', "string", None),
    ("order.ref", "string", None),
    ("state.stock.level > 2", "boolean", None),
    ("state.stock.level", None, None),
    ('order.amount > "500"', None, '> compares a number (order.amount) with a string ("500")'),
    ('"5" <= order.items[0].qty', None, "write the number without quotes: 5 <= order.items[0].qty"),
    ('order.status > "a"', None, "> orders numbers and dates only, but order.status is a string"),
    ('order.created_at > "2026-01-01"', None, "compare dates: date(order.created_at) > date("),
    ("params.label < 3", None, "< orders numbers and dates only, but params.label is a string"),
    ('order.amount and order.status == "paid"', None, "and needs true or false, but order.amount"),
    ("not order.amount", None, "not needs true or false, but order.amount is a number"),
    ('not order.status == "paid"', None, 'write not (order.status == "paid")'),
    ("order.amount ? 1 : 2", None, "?: needs true or false, but order.amount is a number"),
    ('order.amount + "x"', None, '+ works on numbers (or joins two strings), but "x" is a'),
    ("-order.status", None, "unary - needs a number, but order.status is a string"),
    ('order.status in "paid"', None, 'write contains("paid", "…")'),
]
REFUSED = ("zen refuses", "orders numbers", "needs true or false", "works on numbers",
           "needs a number", "needs a list", "cannot order")  # fmt: skip
NEVER = [
    ('order.amount == "21"', '== compares a number (order.amount) with a string ("21"), which '
     "are never equal; write the number without quotes: order.amount == 21"),
    ("order.status != 5", "!= compares a string (order.status) with a number (5), which are "
     "always different"),
    ('order.amount in ["21"]', "in looks for a number (order.amount) in a list of strings, "
     "where it never is"),
    ('order.items.sku == "A-1"', "order.items is a list, so order.items.sku is always null; "
     "read one element as order.items[0].sku, or every one with map(order.items, #.sku)"),
]  # fmt: skip


@pytest.mark.parametrize(("src", "kind", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_types_agree_with_zen(src, kind, fragment):
    typed = check_types(src, ENV)
    messages = [message for _, message in typed.problems]
    if fragment is None:
        assert messages == []
        assert typed.result.kind == (kind or "unknown")
        value = zen.evaluate_expression(src, DATA)
        if kind is not None:
            assert isinstance(value, PY[kind]) and not (kind == "number" and value is True)
        return
    assert len(messages) == 1 and fragment in messages[0], messages
    if any(word in messages[0] for word in REFUSED):
        with pytest.raises(RuntimeError):
            zen.evaluate_expression(src, DATA)


@pytest.mark.parametrize(("src", "message"), NEVER, ids=[c[0] for c in NEVER])
def test_comparisons_that_can_never_hold(src, message):
    assert [m for _, m in check_types(src, ENV).problems] == [message]
    assert zen.evaluate_expression(src, DATA) in (False, True, None)  # zen says nothing


def test_problems_point_at_the_operator_or_operand():
    assert [at for at, _ in check_types('order.amount > "500"', ENV).problems] == [13]
    assert [at for at, _ in check_types("true and order.amount", ENV).problems] == [9]
    assert [at for at, _ in check_types("order.items.sku", ENV).problems] == [12]


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("order.amount", "but order.amount is a number; write a comparison such as "
         "order.amount > 0"),
        ("order.status", 'but order.status is a string; write a comparison such as '
         'order.status == "…"'),
        ("order.items", "write a comparison such as len(order.items) > 0"),
        ("order.paid_at", 'write a comparison such as date(order.paid_at) > date("2026-01-10")'),
        ("order.amount * 2", "write a comparison such as (order.amount * 2) > 0"),
    ],
)  # fmt: skip
def test_a_condition_must_be_true_or_false_and_says_how(src, message):
    why = condition_problem(src, check_types(src, ENV).result)
    assert why is not None and why.startswith("a condition must be true or false, ")
    assert why.endswith(message)


@pytest.mark.parametrize(
    "src",
    [
        "state.x.y and state.z",  # unknown is never wrong
        "state.x.y ?? order.amount > 1",
        "`order ${order.ref}` == state.label",
        'filter(order.items, #.qty > 1)[0].sku == "A"',
        "order.items[0:1]",
        '{a: 1, b: "x"}.a > 0',
        "$ > 1",
        'date(order.created_at).add(1, "d") > date("2026-01-01")',
        "order.amount in (0..100]",
        "sum(map(order.items, #.qty * #.price)) >= order.amount",
        "abs(-order.amount) ^ 2 % 3 > 1",
        "count(order.items, true) > 0",
    ],
)
def test_constructs_the_checker_does_not_know_never_raise_a_false_error(src):
    assert check_types(src, ENV).problems == []


def test_the_field_list_and_types_come_from_the_order_model():
    paths = {f.path for f in order_fields()}
    assert paths == ORDER_FIELDS
    model = set(Order.model_fields) | {"ref"}
    assert {p for p in paths if "." not in p} == model  # every field, nothing hand-written
    fields = {f.path: f for f in order_fields()}
    assert (fields["amount"].type, fields["items.qty"].type) == ("number", "number")
    assert fields["paid_at"].type == "datetime" and fields["paid_at"].nullable
    assert fields["items.sku"].per_line and fields["items.sku"].expression == "order.items[0].sku"
    assert all(f.description for f in order_fields())
    order = order_type()
    assert order.fields["receiver"].fields["phone"].kind == "string"
    assert order.fields["items"].item.fields["price"].kind == "number"
    assert isinstance(ORDER.created_at, datetime)
