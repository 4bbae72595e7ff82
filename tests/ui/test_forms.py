"""Forms generated from node types' params schemas and the workflow's params (no browser)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from engine import registry
from ui.forms import (
    FormField,
    is_template,
    list_text,
    list_value,
    node_fields,
    param_fields,
    table_rows,
    table_value,
)


def fields_of(node_type: str) -> dict[str, FormField]:
    cls = registry.get(node_type)
    assert cls is not None
    return {f.name: f for f in node_fields(cls.Params.model_json_schema())}


def test_numbers_carry_their_bounds_and_defaults() -> None:
    stock = fields_of("stock_check")
    assert stock["safety_stock"] == FormField(
        "safety_stock",
        "integer",
        stock["safety_stock"].description,
        default=10,
        minimum=0,
    )
    assert stock["sync_inventory"].kind == "boolean"
    pull = fields_of("pull")
    assert (pull["window_minutes"].minimum, pull["window_minutes"].maximum) == (1, 1440)
    assert pull["channels"].kind == "list"


def test_the_province_to_warehouse_map_is_an_editable_table_both_ways() -> None:
    split = fields_of("split_warehouse")["warehouses"]
    assert (split.kind, split.key_label, split.value_label) == ("table", "province", "warehouse")
    value = {"east": ["上海市", "江苏省"], "south": ["广东省"]}
    rows = table_rows(value)
    assert rows[0] == {"key": "上海市", "value": "east"}
    rows.append({"key": "海南省", "value": "south"})
    rows.append({"key": "", "value": "east"})  # a blank row the user left
    assert table_value(rows) == {"east": ["上海市", "江苏省"], "south": ["广东省", "海南省"]}


def test_enums_become_choices_and_other_shapes_fall_back_to_yaml() -> None:
    class Params(BaseModel):
        carrier: Literal["sf", "zto"] = "sf"
        maybe: Literal["a", "b"] | None = None
        senders: dict[str, dict[str, str]] = Field(default_factory=dict)

    got = {f.name: f for f in node_fields(Params.model_json_schema())}
    assert (got["carrier"].kind, got["carrier"].options) == ("enum", ("sf", "zto"))
    assert (got["maybe"].kind, got["maybe"].options) == ("enum", ("a", "b"))
    assert got["senders"].kind == "yaml"
    assert fields_of("waybill")["senders"].kind == "yaml"


def test_workflow_params_form_and_templates() -> None:
    got = param_fields(
        {
            "safety_stock": {"type": "integer", "default": 10, "minimum": 0},
            "growth": {"type": "number", "default": 20, "minimum": 0, "maximum": 100},
            "mode": {"type": "string", "enum": ["fast", "safe"], "default": "safe"},
        }
    )
    assert [(f.name, f.kind, f.default, f.minimum, f.maximum) for f in got] == [
        ("safety_stock", "integer", 10, 0, None),
        ("growth", "number", 20, 0, 100),
        ("mode", "enum", "safe", None, None),
    ]
    assert is_template("{{ params.safety_stock }}") and not is_template("10")
    assert list_value(list_text(["a", "b"]) + "\n\n") == ["a", "b"]
