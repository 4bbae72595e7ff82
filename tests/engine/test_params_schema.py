"""The editor's schema describes every node type's params; `orderhub nodes` shows shapes.

VS Code's YAML extension completes and checks `with:` from `orderhub schema`: each node
type's params (generated from its `Params` model), templates wherever a value is expected,
route names from the type's outcomes, expression fields naming the order fields. The
loader's own validation is unchanged: a `with` problem is reported once, by the checker.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console
from typer.testing import CliRunner

from engine import registry
from engine.loader import check_workflow, workflow_schema
from engine.order import ORDER_FIELDS
from engine.yaml_source import parse
from service.cli import app
from service.console import nodes_table

ROOT = Path(__file__).resolve().parents[2]
INTAKE = (ROOT / "workflows" / "order_intake.yaml").read_text(encoding="utf-8")
cli = CliRunner()


@pytest.fixture(scope="module")
def editor() -> jsonschema.Draft202012Validator:
    schema = workflow_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def intake_with(*replacements: tuple[str, str]) -> dict:
    text = INTAKE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse(text, "order_intake.yaml")[0].data


def messages(editor: jsonschema.Draft202012Validator, data: dict) -> list[str]:
    return [e.message for e in editor.iter_errors(data)]


def test_the_shipped_workflow_and_its_templates_fit_the_editor_schema(editor):
    assert messages(editor, intake_with()) == []
    templated = intake_with(
        ("window_minutes: 360", 'window_minutes: "{{ params.dedup_window_minutes }}"')
    )
    assert messages(editor, templated) == []  # a template where a number is expected


STOCK = '{safety_stock: "{{ params.safety_stock }}"}'


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (STOCK, "{safety_stock: ten}", "'ten' is not valid"),
        (STOCK, "{safety_stock: -1}", "-1 is not valid"),
        (STOCK, "{safety_stok: 1}", "'safety_stok' was unexpected"),
        ("{ok: waybill, low: hold,", "{ok: waybill, lo: hold,", "'lo' is not one of ['ok',"),
        ("fields: [receiver.phone,", "fields: [receiver.phon,", "is not valid under any"),
        ("carrier: sf", "carrier: jd", "'jd' is not valid"),
        ("type: stock_check", "type: stock_chek", "'stock_chek' is not one of"),
    ],
)  # fmt: skip
def test_the_editor_schema_catches_params_as_they_are_typed(editor, old, new, fragment):
    found = messages(editor, intake_with((old, new)))
    assert any(fragment in m for m in found), found


def test_every_node_type_has_its_params_and_outcomes(editor):
    schema = workflow_schema()
    rules = {
        r["if"]["properties"]["type"]["const"]: r["then"] for r in schema["$defs"]["node"]["allOf"]
    }
    types = registry.all_types()
    assert set(rules) == set(types)
    for name, cls in types.items():
        params = rules[name]["properties"]["with"]
        assert set(params.get("properties", {})) == set(
            cls.Params.model_json_schema().get("properties", {})
        )
        assert rules[name]["properties"]["routes"]["propertyNames"]["enum"] == list(cls.outcomes)
    when = rules["condition"]["properties"]["with"]["properties"]["when"]["description"]
    assert "order.amount (number)" in when and "orderhub fields" in when
    assert "orderhub fields" in schema["$defs"]["node"]["properties"]["with"]["description"]
    senders = rules["waybill"]["properties"]["with"]["properties"]["senders"]
    contact = senders["anyOf"][0]["additionalProperties"]["anyOf"][0]
    assert contact == {"$ref": "#/$defs/with_waybill_Contact"}
    assert "with_waybill_Contact" in schema["$defs"]


def test_validation_messages_stay_one_per_problem():
    text = INTAKE.replace('{safety_stock: "{{ params.safety_stock }}"}', "{safety_stock: ten}")
    problems = check_workflow("order_intake.yaml", text=text)
    assert [p.message for p in problems] == [
        "stock_check param safety_stock: Input should be a valid integer, unable to parse "
        "string as an integer (got 'ten')"
    ]


SHAPES = {
    ("split_warehouse", "warehouses"): "{warehouse: [province, …]}",
    ("waybill", "senders"): "{warehouse: {contact, mobile, province, …}}",
    ("dedup_key", "fields"): "[order field, …]",
    ("pull", "channels"): "[channel, …]",
    ("validate", "checks"): "[missing_receiver_phone | unknown_sku | bad_quantity, …]",
    ("condition", "when"): "condition",
    ("exception_route", "status"): "string/null",
    ("stock_check", "safety_stock"): "integer",
}


def test_orderhub_nodes_shows_the_shape_of_each_param():
    done = cli.invoke(app, ["nodes", "--json"])
    assert done.exit_code == 0, done.output
    described = {d["type"]: d for d in json.loads(done.output)}
    for (kind, param), shape in SHAPES.items():
        assert described[kind]["shapes"][param] == shape
    wide = Console(width=400, record=True)
    wide.print(nodes_table(list(described.values())))
    text = wide.export_text()
    assert "warehouses: {warehouse: [province, …]}, required" in text
    assert "senders: {warehouse: {contact, mobile, province, …}}" in text
    assert "queued (end)" in text and "done (end)" in text


def test_orderhub_fields_lists_every_order_field_with_type_and_description():
    done = cli.invoke(app, ["fields", "--json"])
    assert done.exit_code == 0, done.output
    fields = json.loads(done.output)
    assert {f["path"] for f in fields} == ORDER_FIELDS
    by_path = {f["path"]: f for f in fields}
    assert by_path["amount"] == {
        "field": "order.amount",
        "path": "amount",
        "type": "number",
        "description": "what the buyer paid, in yuan",
    }
    assert by_path["paid_at"]["type"] == "datetime or null"
    assert by_path["items.sku"]["field"] == "order.items[0].sku"
    assert "map(order.items, #.sku)" in by_path["items.sku"]["description"]
    table = cli.invoke(app, ["fields"])
    assert table.exit_code == 0 and "order.receiver.province" in table.output
