"""What editors and people see of node params: the editor's schema and each param's shape.

`editor_schema` adds to the workflow's JSON Schema, for every registered node type, an
``if type == T then with: <T's Params schema>`` (and its outcomes as the names `routes`
may use), so VS Code's YAML extension completes and checks params as they are typed.
Wherever a param takes a number, a list or anything but free text, a template such as
``"{{ params.safety_stock }}"`` is allowed too. Expression fields name the order fields
they may read. The loader keeps validating with the plain schema, so `orderhub validate`
reports `with` problems once, from the semantic checker.

`shape` writes a param's structure for `orderhub nodes`: ``{warehouse: [province, …]}``
rather than ``object``. A node type names keys and items with ``x-key`` and ``x-item`` in
a field's ``json_schema_extra``.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.order import order_fields

TEMPLATE = {
    "type": "string",
    "pattern": r"\{\{.*\}\}",
    "description": 'a template such as "{{ params.safety_stock }}"',
}


def editor_schema(base: dict[str, Any], types: dict[str, type]) -> dict[str, Any]:
    """`base` (the workflow schema) with a `with` schema and route names for each of the
    node `types` (name → class, as the registry lists them)."""
    schema = copy.deepcopy(base)
    defs = schema["$defs"]
    node = defs["node"]
    node["properties"]["type"] = {**node["properties"]["type"], "enum": list(types)}
    rules = []
    for name, cls in types.items():
        with_schema = _with_schema(name, cls, defs)
        routes = {"propertyNames": {"enum": list(cls.outcomes)}}
        ends = ", ".join(cls.terminal) or "none"
        routes["description"] = (
            f"{name}'s outcomes: {', '.join(cls.outcomes)} → node id; every outcome needs a "
            f"route or `next` except the ones a run may end on ({ends})"
        )
        rules.append(
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"properties": {"with": with_schema, "routes": routes}},
            }
        )
    node["allOf"] = rules
    return schema


def shape(schema: dict[str, Any], defs: dict[str, Any], item: str | None = None) -> str:
    """A param's structure in a few characters, e.g. ``{warehouse: [province, …]}``."""
    item = schema.get("x-item", item)
    if "$ref" in schema:
        return shape(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, item)
    if schema.get("x-expression"):
        return "condition" if schema["x-expression"] == "boolean" else "expression"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "anyOf" in schema:
        return "/".join(shape(s, defs, item) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        inner = "order field" if schema.get("x-order-fields") else None
        return f"[{inner or shape(schema.get('items', {}), defs, item)}, …]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        value = shape(schema["additionalProperties"], defs, item)
        return f"{{{schema.get('x-key', 'key')}: {value}}}"
    if kind == "object" and "properties" in schema:
        names = list(schema["properties"])
        return "{" + ", ".join(names[:3]) + (", …" if len(names) > 3 else "") + "}"
    if kind in ("string", "integer", "number", "boolean", "null"):
        return item if item and kind == "string" else kind
    return "object" if kind == "object" else "value"


def expression_help() -> str:
    """One sentence naming what an expression may read (for schema descriptions)."""
    names = ", ".join(
        f"{f.expression} ({f.type})" for f in order_fields() if f.type not in ("object", "list")
    )
    return (
        f"An expression reads the order's fields ({names}; `orderhub fields` describes "
        "them), params.<name> and state.<node>.<key>."
    )


# --- private helpers -------------------------------------------------------------------


def _with_schema(name: str, cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    prefix = f"with_{name}_"
    raw = cls.Params.model_json_schema(ref_template=f"#/$defs/{prefix}{{model}}")
    for model, sub in raw.pop("$defs", {}).items():
        defs[prefix + model] = _templatable_object(sub)
    schema = _templatable_object(raw)
    schema.pop("title", None)
    schema["description"] = f"Params of {name}: {(cls.__doc__ or '').strip().splitlines()[0]}"
    if cls.Params.model_config.get("extra") != "allow":
        schema["additionalProperties"] = False
    return schema


def _templatable_object(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: _templatable(v) for k, v in out["properties"].items()}
    return out


def _templatable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, also accepting a template string (unless plain text already does)."""
    out = _templatable_object(schema)
    if isinstance(out.get("items"), dict):
        out["items"] = _templatable(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = _templatable(out["additionalProperties"])
    if out.get("x-expression"):
        out["description"] = f"{out.get('description', 'expression')}. {expression_help()}"
        return out
    if out.get("x-order-fields") and out.get("type") == "array":
        out["items"] = {"anyOf": [{"enum": sorted(f.path for f in order_fields())}, TEMPLATE]}
    plain = out.get("type") == "string" and not ({"pattern", "enum", "format"} & set(out))
    if plain:
        return out
    keep = {k: out.pop(k) for k in ("title", "description", "default") if k in out}
    return {**keep, "anyOf": [out, TEMPLATE]}
