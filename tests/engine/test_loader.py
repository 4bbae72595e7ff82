"""Loading a workflow document into the typed `Workflow`, and what the loader reports."""

from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest

from engine.errors import ValidationError
from engine.loader import SCHEMA_FILE, check_workflow, load_workflow, workflow_schema
from engine.workflow import Location, NodeSpec, ParamSpec, Trigger, Workflow
from engine.yaml_source import parse
from tests.engine.documents import VALID, broken

REORDERED = """\
nodes:
  - type: t_pull
    next: paid
    with: {channels: [youzan, douyin, h5]}
    id: pull
  - routes: {false: awaiting_payment, true: dedup}
    with: {when: 'order.status == "paid"'}
    type: t_condition
    id: paid
  - with:
      window_minutes: "{{ params.dedup_window_minutes }}"
      fields: [receiver.phone, receiver.address, items.sku]
    id: dedup
    type: t_dedup
    routes: {duplicate: review, unique: stock}
  - description: reserve stock
    id: stock
    routes: {out: review, low: review, ok: waybill}
    with: {safety_stock: "{{ params.safety_stock }}"}
    critical: true
    type: t_stock
  - on_error: review
    next: shipped
    with: {note: "order {{ order.ref }} at {{ state.stock.level }}", carrier: sf}
    type: t_waybill
    id: waybill
  - {type: t_end, id: shipped}
  - {with: {status: review}, type: t_end, id: review}
  - {type: t_end, id: awaiting_payment}
triggers:
  - {every: 15m, type: schedule}
  - {channel: h5, type: webhook}
  - {type: manual}
params:
  big_order: {default: 2000.5, type: number}
  safety_stock: {minimum: 0, default: 10, type: integer}
  dedup_window_minutes: {minimum: 1, type: integer, default: 60}
description: the intake flow
name: 订单聚合中心
id: order_intake
"""


def test_a_valid_document_loads_into_a_typed_workflow():
    workflow = load_workflow("intake.yaml", text=VALID)
    assert isinstance(workflow, Workflow)
    assert (workflow.id, workflow.name, workflow.description) == (
        "order_intake",
        "订单聚合中心",
        "the intake flow",
    )
    assert workflow.source == "pull" and workflow.start == "paid"
    assert workflow.params["safety_stock"] == ParamSpec("safety_stock", "integer", 10, minimum=0)
    assert workflow.values == {"dedup_window_minutes": 60, "safety_stock": 10, "big_order": 2000.5}
    assert workflow.triggers == (
        Trigger("schedule", {"every": "15m"}),
        Trigger("webhook", {"channel": "h5"}),
        Trigger("manual"),
    )
    assert list(workflow.nodes) == [
        "pull",
        "paid",
        "dedup",
        "stock",
        "waybill",
        "shipped",
        "review",
        "awaiting_payment",
    ]
    assert workflow.nodes["stock"] == NodeSpec(
        id="stock",
        type="t_stock",
        config={"safety_stock": 10},
        written={"safety_stock": "{{ params.safety_stock }}"},
        routes={"ok": "waybill", "low": "review", "out": "review"},
        critical=True,
        description="reserve stock",
        location=Location("intake.yaml", 27, 9),
    )
    assert workflow.text == VALID and workflow.file == "intake.yaml"


def test_rendered_values_keep_their_type():
    workflow = load_workflow("intake.yaml", text=VALID)
    window = workflow.nodes["dedup"].config["window_minutes"]
    assert window == 60 and type(window) is int
    assert type(workflow.nodes["stock"].config["safety_stock"]) is int


def test_yaml_booleans_as_route_keys_become_names():
    paid = load_workflow("intake.yaml", text=VALID).nodes["paid"]
    assert paid.routes == {"true": "dedup", "false": "awaiting_payment"}
    assert paid.target("true") == "dedup" and paid.target("false") == "awaiting_payment"


def test_run_time_templates_stay_as_written():
    waybill = load_workflow("intake.yaml", text=VALID).nodes["waybill"]
    assert waybill.config == {
        "carrier": "sf",
        "note": "order {{ order.ref }} at {{ state.stock.level }}",
    }
    assert (waybill.next, waybill.on_error) == ("shipped", "review")


def test_overrides_replace_defaults_and_are_rendered():
    workflow = load_workflow("intake.yaml", text=VALID, overrides={"safety_stock": 3})
    assert workflow.values["safety_stock"] == 3
    assert workflow.params["safety_stock"].default == 10
    assert workflow.nodes["stock"].config == {"safety_stock": 3}


def test_reordering_keys_changes_nothing_but_the_text():
    def comparable(workflow: Workflow) -> Workflow:
        nodes = {k: dataclasses.replace(n, location=None) for k, n in workflow.nodes.items()}
        return dataclasses.replace(workflow, text="", nodes=nodes)

    one = load_workflow("intake.yaml", text=VALID)
    other = load_workflow("intake.yaml", text=REORDERED)
    assert comparable(one) == comparable(other)
    assert one.content_hash != other.content_hash


def test_a_file_is_read_and_named_by_its_path(tmp_path):
    path = tmp_path / "order_intake.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_workflow(path).file == str(path)
    path.write_text(broken("type: t_stock", "type: t_stok"), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_workflow(path)
    assert str(caught.value).startswith(f"{path}:28:11: unknown node type 't_stok'")
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(path), 28, 11)


def test_a_missing_file_is_one_problem(tmp_path):
    problems = check_workflow(tmp_path / "nope.yaml")
    assert len(problems) == 1
    assert problems[0].message.startswith("cannot read the workflow file")


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("", 1, 1, "the document is empty"),
        ("id: x\nname: [a, b\n", 3, 1, "expected ',' or ']'"),
        ("id: x\nnodes:\n\t- id: a\n", 3, 1, "indent with spaces, not tabs"),
        ("id: x\nname: a\nid: y\n", 3, 1, "duplicate key 'id' (first written at line 1)"),
        ("id: x\nname: 'open\n", 3, 1, "found unexpected end of stream"),
        ("- just\n- a list\n", 1, 1, "document: ['just', 'a list'] is not of type 'object'"),
        ("id: x\nname: a\n", 1, 1, "document: 'nodes' is a required property"),
    ],
)
def test_yaml_and_shape_problems_are_located(text, line, column, fragment):
    problems = check_workflow("w.yaml", text=text)
    assert any((p.line, p.column) == (line, column) and fragment in p.message for p in problems), (
        problems
    )


def test_workflow_schema_is_valid_json_schema_that_accepts_the_document():
    schema = workflow_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    base = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))  # the loader's own schema
    assert schema["properties"] == base["properties"]
    assert set(base["$defs"]) < set(schema["$defs"])  # plus each node type's params
    document, problems = parse(VALID, "intake.yaml")
    assert problems == []
    jsonschema.validate(document.data, schema, cls=jsonschema.Draft202012Validator)
    for name in ("id", "name", "params", "triggers", "nodes"):
        assert schema["properties"][name]["description"]
    schema["title"] = "changed"
    assert workflow_schema()["title"] == "orderhub workflow"


def test_a_control_character_is_a_located_problem_not_a_crash() -> None:
    problems = check_workflow("doc.yaml", text="id: a\nname: b\x93\n")
    assert [str(p) for p in problems] == ["doc.yaml:2:8: character U+0093 is not allowed in YAML"]
