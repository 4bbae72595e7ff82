"""Semantic checks of a workflow document that passed (or failed) its JSON Schema.

`check_semantics` finds every problem it can, each located by the YAML marks: param
defaults and overrides against their own type and bounds; node types against the registry;
each node's `with:` (templates rendered against params) against the type's `Params` model;
expressions (templates and ``x-expression`` fields) compiled, their names checked and their
types (`engine.expression_types`: an ``x-expression: boolean`` field must be true/false);
``x-order-fields`` lists against `ORDER_FIELDS`; then the graph (`engine.graph_checks`):
edges to missing nodes, outcomes a type cannot emit, outcomes routed nowhere, exactly one
source, never a target, reachability and that the graph is a DAG.
It tolerates structurally broken documents (the schema reports those), so that one run
lists everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pydantic

from engine import registry
from engine.errors import Problem
from engine.expression_types import Type, check_types, condition_problem, environment
from engine.expressions import (
    ExpressionError,
    compile_expression,
    references,
    render,
    template_parts,
)
from engine.graph_checks import check_graph
from engine.graph_checks import close_names as _close
from engine.order import ORDER_FIELDS
from engine.workflow import ParamSpec
from engine.yaml_source import Document, Path

PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
}


@dataclass
class Checked:
    """What the checks worked out, for building the `Workflow`."""

    params: dict[str, ParamSpec] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id → rendered with
    source: str | None = None
    #: the problems (among all) of rules a saved version may predate: unrouted outcomes and
    #: expression types; such a version still loads (to list, show, diff) but cannot run
    late: list[Problem] = field(default_factory=list)


def check_semantics(doc: Document, overrides: dict | None = None) -> tuple[list[Problem], Checked]:
    """Every semantic problem of `doc` (with `overrides` for param values), and what was built."""
    return _Checker(doc).run(overrides or {})


def param_problem(spec: dict[str, Any], value: Any) -> str | None:
    """Why `value` does not fit the param `spec` (type, minimum, maximum, enum), or None."""
    kind = spec.get("type")
    types = PARAM_TYPES.get(kind) if isinstance(kind, str) else None
    if types is None:
        return None  # the schema reports an unknown type
    if isinstance(value, bool) and kind != "boolean" or not isinstance(value, types):
        return f"{value!r} is not of type {kind}"
    low, high = spec.get("minimum"), spec.get("maximum")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(low, int | float) and value < low:
            return f"{value!r} is below the minimum {low}"
        if isinstance(high, int | float) and value > high:
            return f"{value!r} is above the maximum {high}"
    enum = spec.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"{value!r} is not one of {enum}"
    return None


# --- private helpers -------------------------------------------------------------------


class _Checker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.data = doc.data if isinstance(doc.data, dict) else {}
        self.problems: list[Problem] = []
        self.out = Checked()
        raw = self.data.get("nodes")
        self.nodes: list[tuple[int, dict]] = [
            (i, n)
            for i, n in enumerate(raw if isinstance(raw, list) else [])
            if isinstance(n, dict)
        ]
        self.ids: dict[str, int] = {}
        self.types: dict[str, type] = {}  # node id → node type class
        self._env: Type | None = None

    def report(
        self, path: Path, message: str, *, key: bool = False, offset: int = 0, late: bool = False
    ) -> None:
        problem = self.doc.problem(path, message, key=key, offset=offset)
        self.problems.append(problem)
        if late:
            self.out.late.append(problem)

    def run(self, overrides: dict) -> tuple[list[Problem], Checked]:
        self._params(overrides)
        self._node_ids()
        for index, node in self.nodes:
            self._node(index, node)
        self.out.source = check_graph(self.doc, self.nodes, self.ids, self.types, self.report)
        return self.problems, self.out

    def _params(self, overrides: dict) -> None:
        params = self.data.get("params")
        params = params if isinstance(params, dict) else {}
        for name, spec in params.items():
            if not isinstance(spec, dict):
                continue
            if "minimum" in spec and "maximum" in spec and _gt(spec["minimum"], spec["maximum"]):
                self.report(("params", name, "minimum"), f"param {name}: minimum > maximum")
            why = param_problem(spec, spec.get("default"))
            if why and "default" in spec:
                self.report(("params", name, "default"), f"param {name}: default {why}")
            self.out.values[name] = spec.get("default")
            if spec.get("type") in PARAM_TYPES:
                enum = spec.get("enum")
                self.out.params[name] = ParamSpec(
                    name=name,
                    type=spec["type"],
                    default=spec.get("default"),
                    minimum=spec.get("minimum"),
                    maximum=spec.get("maximum"),
                    description=str(spec.get("description", "")),
                    enum=tuple(enum) if isinstance(enum, list) else None,
                )
        for name, value in overrides.items():
            if name not in params:
                declared = ", ".join(sorted(params)) or "none"
                self.report(
                    ("params",),
                    f"override of unknown param {name!r}{_close(name, params)} "
                    f"(declared: {declared})",
                    key=True,
                )
                continue
            why = param_problem(params[name], value) if isinstance(params[name], dict) else None
            if why:
                self.report(("params", name), f"override {name}={value!r}: {why}", key=True)
            self.out.values[name] = value

    def _node_ids(self) -> None:
        for index, node in self.nodes:
            node_id = node.get("id")
            if not isinstance(node_id, str):
                continue
            if node_id in self.ids:
                first = self.doc.at(("nodes", self.ids[node_id], "id"))[0]
                self.report(
                    ("nodes", index, "id"),
                    f"duplicate node id {node_id!r} (first used at line {first}); rename one",
                )
                continue
            self.ids[node_id] = index

    def _node(self, index: int, node: dict) -> None:
        node_id, type_name = node.get("id"), node.get("type")
        cls = registry.get(type_name) if isinstance(type_name, str) else None
        if cls is None and isinstance(type_name, str):
            known = registry.all_types()
            listing = ", ".join(known) or "none registered"
            self.report(
                ("nodes", index, "type"),
                f"unknown node type {type_name!r}{_close(type_name, known)} (known: {listing})",
            )
        if isinstance(node_id, str) and self.ids.get(node_id) == index and cls is not None:
            self.types[node_id] = cls
        written = node.get("with")
        config = self._with(index, cls, written if isinstance(written, dict) else {})
        if isinstance(node_id, str) and self.ids.get(node_id) == index:
            self.out.configs[node_id] = config

    def _with(self, index: int, cls: type | None, written: dict[str, Any]) -> dict[str, Any]:
        base: Path = ("nodes", index, "with")
        params = {"params": self.out.values}
        config: dict[str, Any] = {}
        runtime: set[str] = set()  # fields with templates that read order or state
        skip: set[str] = set()  # fields whose templates are broken (already reported)
        for key, value in written.items():
            ok, reads_run = self._templates(value, (*base, key))
            if reads_run:
                runtime.add(key)
            config[key] = value
            if not ok:
                skip.add(key)
            elif not reads_run:
                try:
                    config[key] = render(value, params)
                except ExpressionError as exc:
                    skip.add(key)
                    self.report((*base, key), f"{key}: {exc.message}")
        if cls is None:
            return config
        fields = cls.Params.model_fields
        names = {f.alias or name for name, f in fields.items()} | set(fields)
        if cls.Params.model_config.get("extra") != "allow":
            for key in written:
                if key not in names:
                    allowed = ", ".join(sorted(fields)) or "none"
                    self.report(
                        (*base, key),
                        f"{cls.type_name} has no param {key!r}{_close(key, names)} "
                        f"(its params: {allowed})",
                        key=True,
                    )
        try:
            cls.Params.model_validate({k: v for k, v in config.items() if k in names})
        except pydantic.ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                if loc and (loc[0] in runtime or loc[0] in skip):
                    continue
                label = ".".join(str(p) for p in loc) or "with"
                msg = " ".join(str(error["msg"]).split())
                shown = written.get(loc[0]) if loc else None
                if isinstance(shown, str) and "{{" in shown:
                    msg += f" (got {error.get('input')!r} from {shown!r})"
                elif error["type"] != "missing":
                    msg += f" (got {error.get('input')!r})"
                self.report((*base, *loc), f"{cls.type_name} param {label}: {msg}", key=True)
        for name, info in fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            key = info.alias or name
            value = config.get(key)
            if extra.get("x-expression") and isinstance(value, str) and "{{" not in value:
                condition = extra["x-expression"] == "boolean"
                self._expression(value, (*base, key), 0, condition=condition)
            if extra.get("x-order-fields") and key not in runtime | skip:
                self._order_fields(value, (*base, key))
        return config

    def _templates(self, value: Any, path: Path) -> tuple[bool, bool]:
        """Check every template under `value`: (all compiled, some read order or state)."""
        ok, reads_run = True, False
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = list(enumerate(value))
        elif isinstance(value, str) and "{{" in value:
            for src, offset in template_parts(value):
                compiled, names = self._expression(src, path, offset)
                ok = ok and compiled
                reads_run = reads_run or any(not n.startswith("params.") for n in names)
            return ok, reads_run
        else:
            return ok, reads_run
        for key, item in items:
            sub_ok, sub_run = self._templates(item, (*path, key))
            ok, reads_run = ok and sub_ok, reads_run or sub_run
        return ok, reads_run

    def _expression(
        self, src: str, path: Path, offset: int, *, condition: bool = False
    ) -> tuple[bool, set[str]]:
        """Compile `src` (written at `offset` in the value at `path`), check its names, then
        its types (a `condition` must be true or false)."""
        try:
            compile_expression(src)
        except ExpressionError as exc:
            self.report(path, exc.message, offset=offset + (exc.column or 1) - 1)
            return False, set()
        names, ok = set(), True
        for name, at in references(src):
            names.add(name)
            why = self._name_problem(name)
            if why:
                ok = False
                self.report(path, f"{why} (in {src!r})", offset=offset + at)
        if ok:
            typed = check_types(src, self.env())
            for at, message in typed.problems:
                self.report(path, f"{message} (in {src!r})", offset=offset + at, late=True)
            why = condition_problem(src, typed.result) if condition else None
            if why and not typed.problems:
                self.report(path, why, offset=offset + len(src) - len(src.lstrip()), late=True)
            ok = not typed.problems  # a template that would fail is not rendered as well
        return ok, names

    def env(self) -> Type:
        """What expressions read here: the order model, these params, earlier state."""
        if self._env is None:
            self._env = environment({n: p.type for n, p in self.out.params.items()})
        return self._env

    def _name_problem(self, name: str) -> str | None:
        root, _, rest = name.partition(".")
        if root == "params":
            param = rest.split(".")[0]
            if param not in self.out.values:
                declared = ", ".join(sorted(self.out.values)) or "none"
                close = _close(param, self.out.values, "params.")
                return f"unknown param {name!r}{close} (declared: {declared})"
        elif root == "order":
            if rest and rest not in ORDER_FIELDS:
                return f"unknown order field {name!r}{_close(rest, ORDER_FIELDS, 'order.')}"
        elif root == "state":
            node = rest.split(".")[0]
            if node not in self.ids:
                close = _close(node, self.ids)
                return f"{name!r} reads state of {node!r}, which is not a node{close}"
        else:
            close = _close(name, ORDER_FIELDS, "order.") or _close(name, self.out.values, "params.")
            return (
                f"unknown name {name!r}: expressions read order.<field>, "
                f"params.<name> or state.<node>.<key>{close}"
            )
        return None

    def _order_fields(self, value: Any, path: Path) -> None:
        items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for j, item in enumerate(items):
            if isinstance(item, str) and item not in ORDER_FIELDS:
                where = (*path, j) if isinstance(value, list) else path
                self.report(where, f"unknown order field {item!r}{_close(item, ORDER_FIELDS)}")


def _gt(a: Any, b: Any) -> bool:
    try:
        return bool(a > b)
    except TypeError:
        return False
