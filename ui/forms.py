"""Forms generated from schemas: a node type's params schema, and the workflow's `params`.

Pure logic, no Streamlit: `node_fields` turns a node type's JSON Schema (its Params model)
into `FormField`s — numbers with their bounds, enums as choices, booleans, lists of text,
and a ``{key: [item, …]}`` map (the province → warehouse table) as rows of an editable
table; anything else is edited as YAML text. `param_fields` does the same for the
workflow's own params. The page draws each kind with its widget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

TEMPLATE = re.compile(r"^\s*\{\{.*\}\}\s*$")


@dataclass(frozen=True)
class FormField:
    """One input of a generated form."""

    name: str
    kind: str  # integer, number, boolean, enum, text, list, table, yaml
    description: str = ""
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[Any, ...] = ()
    key_label: str = "key"  # a table's columns: x-item (a row's key) and x-key (its value)
    value_label: str = "value"


def node_fields(schema: dict[str, Any]) -> list[FormField]:
    """The fields of a node type's params form, in the schema's order."""
    defs = schema.get("$defs", {})
    return [
        _field(name, _resolve(prop, defs), defs)
        for name, prop in schema.get("properties", {}).items()
    ]


def param_fields(params: dict[str, dict[str, Any]]) -> list[FormField]:
    """The workflow params form: each param's default, with its type and bounds."""
    out = []
    for name, spec in params.items():
        kind = spec.get("type", "text")
        if "enum" in spec:
            kind = "enum"
        elif kind == "string":
            kind = "text"
        elif kind not in ("integer", "number", "boolean"):
            kind = "yaml"
        out.append(
            FormField(
                name,
                kind,
                spec.get("description", ""),
                spec.get("default"),
                spec.get("minimum"),
                spec.get("maximum"),
                tuple(spec.get("enum", ())),
            )
        )
    return out


def is_template(value: Any) -> bool:
    """A value set by a template (``"{{ params.safety_stock }}"``), not by this form."""
    return isinstance(value, str) and bool(TEMPLATE.match(value))


def table_rows(value: dict[str, list[str]]) -> list[dict[str, str]]:
    """``{east: [上海市, …]}`` as rows ``{key: 上海市, value: east}``, one per item."""
    return [{"key": item, "value": key} for key, items in value.items() for item in items]


def table_value(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The rows back as ``{value: [key, …]}``; blank rows are dropped, order kept."""
    out: dict[str, list[str]] = {}
    for row in rows:
        key, value = str(row.get("key") or "").strip(), str(row.get("value") or "").strip()
        if key and value:
            out.setdefault(value, []).append(key)
    return out


def list_text(value: list[Any]) -> str:
    """A list as the form shows it: one item a line."""
    return "\n".join(str(v) for v in value)


def list_value(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def yaml_text(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False).strip()


def yaml_value(text: str) -> Any:
    """YAML text back as a value; `yaml.YAMLError` when it does not parse."""
    return yaml.safe_load(text)


# --- private helpers -------------------------------------------------------------------


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return {
            **defs.get(prop["$ref"].rsplit("/", 1)[-1], {}),
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
    if "allOf" in prop and len(prop["allOf"]) == 1:
        return {
            **_resolve(prop["allOf"][0], defs),
            **{k: v for k, v in prop.items() if k != "allOf"},
        }
    return prop


def _field(name: str, prop: dict[str, Any], defs: dict[str, Any]) -> FormField:
    common = {"description": prop.get("description", ""), "default": prop.get("default")}
    options = [_resolve(p, defs) for p in prop.get("anyOf", [])]
    if options and all(o.get("type") == "null" or "enum" in o or "const" in o for o in options):
        values = [v for o in options for v in o.get("enum", [o.get("const")]) if v is not None]
        return FormField(name, "enum", options=tuple(values), **common)
    plain = [o for o in options if o.get("type") != "null"]
    if len(plain) == 1:
        prop = {**plain[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
    if "enum" in prop:
        return FormField(name, "enum", options=tuple(prop["enum"]), **common)
    kind = prop.get("type")
    if kind in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum"))
        high = prop.get("maximum", prop.get("exclusiveMaximum"))
        return FormField(name, kind, minimum=low, maximum=high, **common)
    if kind == "boolean":
        return FormField(name, "boolean", **common)
    if kind == "string" and not prop.get("x-expression"):
        return FormField(name, "text", **common)
    if kind == "string":
        return FormField(name, "text", **common)
    if kind == "array" and _resolve(prop.get("items", {}), defs).get("type", "string") == "string":
        return FormField(name, "list", **common)
    extra = prop.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict) and extra.get("type") == "array":
        return FormField(
            name,
            "table",
            key_label=prop.get("x-item", "key"),
            value_label=prop.get("x-key", "value"),
            **common,
        )
    return FormField(name, "yaml", **common)
