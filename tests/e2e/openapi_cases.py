"""Requests built from the served OpenAPI document: every operation, and a minimal valid
request for each (path parameters, required query parameters, a body with its required
fields), so a role check in the use case is reached before anything else can refuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    action: str | None  # the role action it declares (x-action)
    public: bool
    spec: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every path and method in the document."""
    found = []
    for path, item in document["paths"].items():
        for method, spec in item.items():
            if method in METHODS:
                found.append(
                    Operation(
                        method,
                        path,
                        spec.get("x-action"),
                        bool(spec.get("x-public")),
                        spec,
                    )
                )
    return found


def minimal_request(
    document: dict[str, Any], op: Operation, path_values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """httpx request arguments (method, url, params, json) for `op`, filling what is required."""
    path_values = path_values or {}
    url, params = op.path, {}
    for param in op.spec.get("parameters", []):
        schema = _resolve(document, param.get("schema", {}))
        if param["in"] == "path":
            absent = 10**6 if schema.get("type") == "integer" else "x"  # names nothing
            value = path_values.get(param["name"], absent)
            url = url.replace("{" + param["name"] + "}", str(value))
        elif param["in"] == "query" and param.get("required"):
            params[param["name"]] = _value(document, schema)
    request: dict[str, Any] = {"method": op.method.upper(), "url": url, "params": params}
    body = op.spec.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        request["json"] = _value(document, _resolve(document, body["schema"]))
    return request


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _value(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    schema = _resolve(document, schema)
    if "anyOf" in schema:
        schema = _resolve(document, next(s for s in schema["anyOf"] if s.get("type") != "null"))
    kind = schema.get("type")
    if schema.get("format") == "date":
        return "2026-01-10"
    if schema.get("format") == "date-time":
        return "2026-01-10T00:00:00Z"
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _value(document, properties[name]) for name in schema.get("required", [])}
    return "x"
