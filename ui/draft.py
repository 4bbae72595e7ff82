"""Edits to a workflow document's text that keep everything else as written.

The editor's draft is YAML text; a form edit or a structural edit loads it with ruamel.yaml's
round-trip loader, changes one thing and writes it back, so comments, key order and flow
style (``{channels: [youzan, douyin]}``) survive and the text diff shows only the change.
Pure functions, no Streamlit; the result is validated like any document before it is saved.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap


def set_param_default(text: str, name: str, value: Any) -> str:
    """The workflow param `name` with a new default."""
    return _edit(text, lambda doc: doc["params"][name].__setitem__("default", value))


def set_node_params(text: str, node_id: str, values: dict[str, Any]) -> str:
    """Node `node_id`'s `with:` values replaced by `values` (keys not given are kept)."""

    def change(doc: CommentedMap) -> None:
        node = _node(doc, node_id)
        if "with" not in node or node["with"] is None:
            node["with"] = CommentedMap()
        for key, value in values.items():
            if node["with"].get(key) != value:
                node["with"][key] = value

    return _edit(text, change)


def add_node(text: str, node_id: str, node_type: str) -> str:
    """A new node `node_id` of type `node_type` at the end, with an empty `with:`."""

    def change(doc: CommentedMap) -> None:
        if any(n.get("id") == node_id for n in doc["nodes"]):
            raise ValueError(f"a node {node_id!r} exists already; choose another id")
        doc["nodes"].append(CommentedMap([("id", node_id), ("type", node_type)]))

    return _edit(text, change)


def connect(text: str, node_id: str, outcome: str, target: str) -> str:
    """Route `outcome` of node `node_id` to `target` (``next`` for the default way on)."""

    def change(doc: CommentedMap) -> None:
        node = _node(doc, node_id)
        if outcome in ("next", "on_error"):
            node[outcome] = target
            return
        if "routes" not in node or node["routes"] is None:
            node["routes"] = CommentedMap()
        routes = node["routes"]
        existing = next((k for k in routes if str(k).lower() == outcome.lower()), None)
        routes[existing if existing is not None else _outcome_key(outcome)] = target

    return _edit(text, change)


def remove_node(text: str, node_id: str) -> str:
    """Node `node_id` gone, with every route, `next` and `on_error` that led to it."""

    def change(doc: CommentedMap) -> None:
        _node(doc, node_id)
        doc["nodes"] = _keep(doc["nodes"], [n for n in doc["nodes"] if n.get("id") != node_id])
        for node in doc["nodes"]:
            for key in ("next", "on_error"):
                if node.get(key) == node_id:
                    del node[key]
            routes = node.get("routes")
            if routes:
                for outcome in [k for k, v in routes.items() if v == node_id]:
                    del routes[outcome]
                if not routes:
                    del node["routes"]

    return _edit(text, change)


def node_with(text: str, node_id: str) -> dict[str, Any]:
    """Node `node_id`'s `with:` as written (templates kept), plain Python values."""
    node = _node(_load(text), node_id)
    return _plain(node.get("with") or {})


# --- private helpers -------------------------------------------------------------------


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(text: str) -> CommentedMap:
    doc = _yaml().load(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        raise ValueError("the document has no list of nodes; fix it in the YAML tab")
    return doc


def _edit(text: str, change: Any) -> str:
    doc = _load(text)
    change(doc)
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _node(doc: CommentedMap, node_id: str) -> CommentedMap:
    for node in doc["nodes"]:
        if isinstance(node, dict) and node.get("id") == node_id:
            return node
    raise ValueError(f"no node {node_id!r} in the document")


def _keep(old: Any, items: list[Any]) -> Any:
    old[:] = items
    return old


def _outcome_key(outcome: str) -> Any:
    return {"true": True, "false": False}.get(outcome, outcome)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
